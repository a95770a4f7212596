"""Fault rules for fault_proxy.py: the JSON format, its validation, the canned S3 answers, and which rule fires.

A rule is a JSON object with a `match`, an optional count window (`nth`, `times`, `skip`, `every`) and exactly
one action key; README.md in this folder documents the format with examples. Validation is strict (unknown keys,
two actions, bad types are refused with a message) because a typo in a rule would otherwise turn a fault test
into a test that silently checks nothing.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any


class RuleError(ValueError):
    """A rule set that cannot be loaded; the message names the rule and the problem."""


def s3_error_body(code: str, message: str, request_id: str) -> str:
    # The shape S3 uses for every error body; clients read Code (to pick retry or fail) and RequestId.
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{request_id}</RequestId></Error>")


# What an HTML-speaking load balancer in front of S3 (nginx, an ELB) answers when its upstream is gone.
BAD_GATEWAY_HTML = ("<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
                    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n")

# preset name -> (status, reason, S3 error code and message, or None for the HTML body)
PRESETS: dict[str, tuple[int, str, tuple[str, str] | None]] = {
    "slowdown": (503, "Slow Down", ("SlowDown", "Please reduce your request rate.")),
    "service_unavailable": (503, "Service Unavailable", ("ServiceUnavailable", "Please reduce your request rate.")),
    "internal_error": (500, "Internal Server Error",
                       ("InternalError", "We encountered an internal error. Please try again.")),
    "precondition_failed": (412, "Precondition Failed",
                            ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")),
    "bad_gateway": (502, "Bad Gateway", None),
}

REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           412: "Precondition Failed", 416: "Range Not Satisfiable", 429: "Too Many Requests",
           500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}

DEFAULT_GARBAGE = "this is not XML: \x00\x01 {<unclosed & broken>\n"


@dataclass
class CannedResponse:
    """A whole response the proxy sends itself, without contacting the backend."""

    status: int
    reason: str
    body: bytes
    headers: list[tuple[str, str]]
    label: str = ""  # for the log: the preset's name, else the status


@dataclass
class Action:
    """What a rule does. `kind` is the action key; the other fields are its parameters (unused ones stay None)."""

    kind: str
    byte_count: int | None = None  # reset/truncate/stall-after: how many body bytes go through first
    seconds: float | None = None  # delay, stall
    delta: int | None = None  # wrong_content_length
    etag: str | None = None  # change_etag: the new value, or None to derive one from the old
    response: CannedResponse | None = None  # respond, garbage

    def new_etag(self, old: str) -> str:
        if self.etag is not None:
            return self.etag
        # A different but well-formed ETag (quoted 32 hex digits), stable for the same old value.
        return '"' + hashlib.md5(("changed:" + old).encode()).hexdigest() + '"'

    def describe(self) -> str:
        params = {"reset_request_body_after": self.byte_count, "truncate_response_after": self.byte_count,
                  "corrupt_request_body_at": self.byte_count,
                  "reset_response_after": self.byte_count, "delay": self.seconds,
                  "wrong_content_length": self.delta}
        if self.kind in params:
            return f"{self.kind}={params[self.kind]}"
        if self.kind == "stall":
            return f"stall={self.seconds}s"
        if self.kind == "stall_response_after":
            return f"stall_response_after={self.byte_count}/{self.seconds}s"
        if self.kind == "respond":
            return f"respond={self.response.label}"
        return self.kind


ACTION_KEYS = ("reset_request_body_after", "respond", "stall", "stall_response_after", "truncate_response_after",
               "reset_response_after", "wrong_content_length", "change_etag", "delay", "garbage",
               "corrupt_request_body_at")
COUNT_KEYS = ("nth", "times", "skip", "every")
RULE_KEYS = {"name", "match", *COUNT_KEYS, *ACTION_KEYS}
MATCH_KEYS = {"method", "path", "query", "headers"}


@dataclass
class Rule:
    name: str
    methods: set[str] | None
    path: re.Pattern | None
    query: re.Pattern | None
    headers: list[tuple[str, bool | re.Pattern]]  # (name, True present / False absent / regex on the value)
    skip: int  # matches before the first one that fires
    times: int | None  # how many matches fire after those skipped; None: every one
    action: Action
    seen: int = 0  # requests matched so far
    fired: int = 0

    def matches(self, method: str, path: str, query: str, header_lookup) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        if self.path is not None and not self.path.search(path):
            return False
        if self.query is not None and not self.query.search(query):
            return False
        for name, want in self.headers:
            value = header_lookup(name)
            if want is True and value is None:
                return False
            if want is False and value is not None:
                return False
            if isinstance(want, re.Pattern) and (value is None or not want.search(value)):
                return False
        return True

    def count_match(self) -> bool:
        """Records one more matching request; True if this one falls in the rule's window."""
        self.seen += 1
        if self.seen <= self.skip:
            return False
        return self.times is None or self.seen <= self.skip + self.times

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action.describe(), "seen": self.seen, "fired": self.fired}


class RuleSet:
    """The rules in force. Every rule counts every request its `match` matches; the first rule whose count window
    includes the request fires, so `nth`/`times` mean "of the requests this rule matches", whatever other rules do."""

    def __init__(self, rules: list[Rule] | None = None) -> None:
        self.rules = rules or []

    def select(self, method: str, path: str, query: str, header_lookup) -> Rule | None:
        chosen = None
        for rule in self.rules:
            if rule.matches(method, path, query, header_lookup) and rule.count_match() and chosen is None:
                chosen = rule
        if chosen is not None:
            chosen.fired += 1
        return chosen


def load_rules(document: Any) -> RuleSet:
    """Builds a RuleSet from parsed JSON: a list of rules, or an object {"rules": [...]}."""
    if isinstance(document, dict) and set(document) == {"rules"}:
        document = document["rules"]
    if not isinstance(document, list):
        raise RuleError('rules must be a JSON list of rules, or an object {"rules": [...]}')
    return RuleSet([_parse_rule(item, i) for i, item in enumerate(document)])


def _parse_rule(item: Any, index: int) -> Rule:
    where = f"rule {index}"
    if not isinstance(item, dict):
        raise RuleError(f"{where}: must be a JSON object")
    if isinstance(item.get("name"), str):
        where = f"rule {index} ({item['name']})"
    unknown = set(item) - RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown keys {sorted(unknown)}; known: {sorted(RULE_KEYS)}")
    actions = [k for k in ACTION_KEYS if k in item]
    if len(actions) != 1:
        raise RuleError(f"{where}: needs exactly one action of {list(ACTION_KEYS)}, has {actions}")
    methods, path, query, headers = _parse_match(item.get("match", {}), where)
    skip, times = _parse_window(item, where)
    action = _parse_action(actions[0], item[actions[0]], where)
    return Rule(str(item.get("name", f"rule{index}")), methods, path, query, headers, skip, times, action)


def _parse_match(match: Any, where: str):
    if not isinstance(match, dict):
        raise RuleError(f"{where}: match must be an object")
    unknown = set(match) - MATCH_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown match keys {sorted(unknown)}; known: {sorted(MATCH_KEYS)}")
    methods = None
    if "method" in match:
        raw = match["method"]
        raw = [raw] if isinstance(raw, str) else raw
        if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
            raise RuleError(f"{where}: match.method must be a string or a list of strings")
        methods = {m.upper() for m in raw}
    path = _regex(match, "path", where)
    query = _regex(match, "query", where)
    headers = []
    raw_headers = match.get("headers", {})
    if not isinstance(raw_headers, dict):
        raise RuleError(f"{where}: match.headers must be an object of name -> true/false/regex")
    for name, want in raw_headers.items():
        if isinstance(want, bool):
            headers.append((name, want))
        elif isinstance(want, str):
            headers.append((name, _compile(want, f"{where}: match.headers.{name}")))
        else:
            raise RuleError(f"{where}: match.headers.{name} must be true (present), false (absent) or a regex")
    return methods, path, query, headers


def _regex(match: dict, key: str, where: str) -> re.Pattern | None:
    if key not in match:
        return None
    if not isinstance(match[key], str):
        raise RuleError(f"{where}: match.{key} must be a regex string")
    return _compile(match[key], f"{where}: match.{key}")


def _compile(pattern: str, where: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise RuleError(f"{where}: bad regex {pattern!r}: {e}") from None


def _parse_window(item: dict, where: str) -> tuple[int, int | None]:
    for key in ("nth", "times", "skip"):
        if key in item and (not isinstance(item[key], int) or isinstance(item[key], bool) or item[key] < 0):
            raise RuleError(f"{where}: {key} must be a non-negative integer")
    if "every" in item and item["every"] is not True:
        raise RuleError(f"{where}: every must be true (leave it out otherwise)")
    if "nth" in item:
        if any(k in item for k in ("times", "skip", "every")):
            raise RuleError(f"{where}: nth cannot be combined with times, skip or every")
        if item["nth"] < 1:
            raise RuleError(f"{where}: nth counts from 1")
        return item["nth"] - 1, 1
    if "times" in item and "every" in item:
        raise RuleError(f"{where}: times and every contradict each other")
    return item.get("skip", 0), item.get("times")


def _parse_action(kind: str, value: Any, where: str) -> Action:
    what = f"{where}: {kind}"
    if kind in ("reset_request_body_after", "truncate_response_after", "reset_response_after",
                "corrupt_request_body_at"):
        return Action(kind, byte_count=_non_negative_int(value, what))
    if kind == "delay":
        return Action(kind, seconds=_seconds(value, what))
    if kind == "stall":
        if isinstance(value, dict):
            _only_keys(value, {"seconds"}, what)
            value = value.get("seconds")
        return Action(kind, seconds=_seconds(value, what))
    if kind == "stall_response_after":
        if not isinstance(value, dict) or "bytes" not in value or "seconds" not in value:
            raise RuleError(f'{what} must be {{"bytes": N, "seconds": S}}')
        _only_keys(value, {"bytes", "seconds"}, what)
        return Action(kind, byte_count=_non_negative_int(value["bytes"], what + ".bytes"),
                      seconds=_seconds(value["seconds"], what + ".seconds"))
    if kind == "wrong_content_length":
        if not isinstance(value, int) or isinstance(value, bool) or value == 0:
            raise RuleError(f"{what} must be a non-zero integer (the delta added to the true length)")
        return Action(kind, delta=value)
    if kind == "change_etag":
        if value is True:
            return Action(kind)
        if isinstance(value, str) and value:
            return Action(kind, etag=value)
        raise RuleError(f"{what} must be true (derive a new ETag) or the new ETag string")
    if kind == "garbage":
        body = DEFAULT_GARBAGE if value is True else value
        if not isinstance(body, str):
            raise RuleError(f"{what} must be true or the body string")
        return Action(kind, response=CannedResponse(200, "OK", body.encode("utf-8"),
                                                    [("Content-Type", "application/xml")]))
    if kind == "respond":
        return Action(kind, response=_parse_respond(value, what))
    raise AssertionError(kind)


def _parse_respond(value: Any, what: str) -> CannedResponse:
    """`"slowdown"`, or {"preset": ..., "request_id": ..., "status": ..., "body": ..., "headers": {...}}."""
    if isinstance(value, str):
        value = {"preset": value}
    if not isinstance(value, dict):
        raise RuleError(f"{what} must be a preset name or an object")
    _only_keys(value, {"preset", "status", "reason", "body", "headers", "request_id"}, what)
    request_id = value.get("request_id", "FAULT1")
    status, reason, body, content_type = None, None, b"", "application/xml"
    if "preset" in value:
        if value["preset"] not in PRESETS:
            raise RuleError(f"{what}: unknown preset {value['preset']!r}; known: {sorted(PRESETS)}")
        status, reason, error = PRESETS[value["preset"]]
        if error is None:
            body, content_type = BAD_GATEWAY_HTML.encode(), "text/html"
        else:
            body = s3_error_body(error[0], error[1], request_id).encode()
    if "status" in value:
        if not isinstance(value["status"], int) or not 200 <= value["status"] <= 599:
            raise RuleError(f"{what}.status must be an integer status 200..599")
        status = value["status"]
        reason = REASONS.get(status, "Fault")
    if status is None:
        raise RuleError(f"{what} needs a preset or a status")
    if "reason" in value:
        reason = str(value["reason"])
    if "body" in value:
        if not isinstance(value["body"], str):
            raise RuleError(f"{what}.body must be a string")
        body = value["body"].encode("utf-8")
    headers = [("Content-Type", content_type), ("x-amz-request-id", str(request_id))]
    extra = value.get("headers", {})
    if not isinstance(extra, dict) or not all(isinstance(v, str) for v in extra.values()):
        raise RuleError(f"{what}.headers must be an object of name -> string")
    for name, header_value in extra.items():
        headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, header_value)]
    label = value.get("preset", str(status))
    if "preset" in value and status != PRESETS[value["preset"]][0]:
        label += f"/{status}"
    return CannedResponse(status, reason, body, headers, label)


def _only_keys(value: dict, allowed: set[str], what: str) -> None:
    unknown = set(value) - allowed
    if unknown:
        raise RuleError(f"{what}: unknown keys {sorted(unknown)}; known: {sorted(allowed)}")


def _non_negative_int(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise RuleError(f"{what} must be a non-negative integer (bytes)")
    return value


def _seconds(value: Any, what: str) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise RuleError(f"{what} must be a non-negative number of seconds")
    return float(value)
