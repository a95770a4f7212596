"""The proxy's request log: one entry per request, kept for GET /log and printed to stderr as one line.

Secrets are removed when an entry is made, so neither stderr nor /log can ever carry them: the values of
Authorization, X-Amz-Security-Token, SSE-C keys and cookies, and the signature, credential and token of a
presigned URL's query, become "<redacted>".
"""

from __future__ import annotations

import json
import re
import sys
import time
from typing import Any, TextIO

REDACTED = "<redacted>"
SECRET_HEADERS = {
    "authorization", "proxy-authorization", "x-amz-security-token", "cookie", "set-cookie",
    "x-amz-server-side-encryption-customer-key", "x-amz-copy-source-server-side-encryption-customer-key",
}
# Query parameters of presigned URLs (SigV4 and SigV2) that carry a signature, a token or an access key id.
_SECRET_QUERY = re.compile(
    r"(?i)(^|&)(x-amz-signature|x-amz-security-token|x-amz-credential|signature|awsaccesskeyid)=[^&]*")


def redact_headers(headers: list[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in headers:
        value = REDACTED if name.lower() in SECRET_HEADERS else value
        out[name] = out[name] + ", " + value if name in out else value
    return out


def redact_query(query: str) -> str:
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}{m.group(2)}={REDACTED}", query)


class RequestLog:
    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream
        self.entries: list[dict[str, Any]] = []
        self.sequence = 0

    def start(self, connection: int, method: str, path: str, query: str,
              headers: list[tuple[str, str]]) -> dict[str, Any]:
        """A new entry for a request just read, in the log at once ("done": false). The relay updates status and
        byte counts before the bytes leave, so a snapshot never shows less than a client has already seen."""
        self.sequence += 1
        entry = {"seq": self.sequence, "conn": connection, "time": round(time.time(), 3), "method": method,
                 "path": path, "query": redact_query(query), "status": None, "fault": None, "rule": None,
                 "request_bytes": 0, "response_bytes": 0, "error": None, "done": False,
                 "headers": redact_headers(headers)}
        self.entries.append(entry)
        return entry

    def finish(self, entry: dict[str, Any]) -> None:
        """Marks the entry complete and prints its line to stderr."""
        entry["done"] = True
        target = entry["path"] + ("?" + entry["query"] if entry["query"] else "")
        fault = f" fault={entry['rule']}:{entry['fault']}" if entry["fault"] else ""
        error = f" error={entry['error']!r}" if entry["error"] else ""
        print(f"fault-proxy #{entry['seq']} conn={entry['conn']} {entry['method']} {target} -> {entry['status']}"
              f"{fault} req_bytes={entry['request_bytes']} resp_bytes={entry['response_bytes']}{error}"
              f" headers={json.dumps(entry['headers'], ensure_ascii=True)}", file=self.stream, flush=True)

    def clear(self) -> None:
        self.entries.clear()

    def json_lines(self) -> str:
        return "".join(json.dumps(e, ensure_ascii=True) + "\n" for e in self.entries)
