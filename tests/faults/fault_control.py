"""For tests: start and stop fault_proxy.py as a subprocess, and drive its control endpoint.

    from fault_control import FaultProxy
    with FaultProxy(backend="127.0.0.1:4568", rules=[{"match": {"query": "partNumber=2"}, "nth": 1,
                                                      "respond": "slowdown"}]) as proxy:
        ...point the client at proxy.endpoint (http://127.0.0.1:PORT)...
        proxy.set_rules([...])         # replace the rules
        for entry in proxy.get_log():  # one dict per request: method, path, query, status, fault, bytes
            ...
        proxy.wait_log_done()          # the log once no request is in flight (then stderr is complete too)
        proxy.reset()                  # clear log and rules

The functions set_rules/get_log/reset also work on their own, given the control address ("HOST:PORT").
Standard library only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

PROXY_SCRIPT = Path(__file__).resolve().parent / "fault_proxy.py"
# The control endpoint is on 127.0.0.1: never send its requests through an http_proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ControlError(RuntimeError):
    """The control endpoint refused a request; the message is its answer (e.g. why a rule is invalid)."""


def _call(control: str, method: str, path: str, body: bytes | None = None, timeout: float = 10) -> bytes:
    request = urllib.request.Request(f"http://{control}{path}", data=body, method=method,
                                     headers={"Content-Type": "application/json"} if body is not None else {})
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as e:
        raise ControlError(f"{method} {path}: {e.code}: {e.read().decode(errors='replace').strip()}") from None


def set_rules(control: str, rules: list[dict[str, Any]]) -> None:
    """Replaces the proxy's rules (and their counters); raises ControlError with the reason if invalid."""
    _call(control, "POST", "/rules", json.dumps(rules).encode())


def get_log(control: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in _call(control, "GET", "/log").decode().splitlines() if line]


def wait_log_done(control: str, timeout: float = 10) -> list[dict[str, Any]]:
    """The log once every request in it is finished ("done": true, its stderr line written). A client has its
    response before the proxy finishes the entry (closing, lingering), so read this before asserting on stderr."""
    deadline = time.monotonic() + timeout
    while True:
        log = get_log(control)
        if all(entry["done"] for entry in log):
            return log
        if time.monotonic() > deadline:
            raise TimeoutError(f"requests still in flight after {timeout} s: {[e for e in log if not e['done']]}")
        time.sleep(0.02)


def get_rules(control: str) -> list[dict[str, Any]]:
    """The rules in force with their counters: name, action, seen (matching requests), fired."""
    return json.loads(_call(control, "GET", "/rules"))


def reset(control: str) -> None:
    _call(control, "POST", "/reset", b"")


class FaultProxy:
    """A fault_proxy.py subprocess. Its stderr (one line per request) goes to `stderr_path`, or a temporary file
    whose text `stderr_text()` returns; the ports are the ones the proxy picked (0 = free ones)."""

    def __init__(self, backend: str, rules: list[dict[str, Any]] | None = None, listen: str = "127.0.0.1:0",
                 control: str = "127.0.0.1:0", stderr_path: str | os.PathLike | None = None,
                 start_timeout: float = 15) -> None:
        self.backend = backend
        self.rules = rules
        self.listen_arg, self.control_arg = listen, control
        self.start_timeout = start_timeout
        self.workdir = tempfile.TemporaryDirectory(prefix="fault-proxy-")
        self.stderr_path = Path(stderr_path) if stderr_path else Path(self.workdir.name) / "stderr.log"
        self.process: subprocess.Popen | None = None
        self.listen = self.control = ""
        self.port = self.control_port = 0

    @property
    def endpoint(self) -> str:
        return f"http://{self.listen}"

    def start(self) -> "FaultProxy":
        ready = Path(self.workdir.name) / "ready.json"
        command = [sys.executable, str(PROXY_SCRIPT), "--listen", self.listen_arg, "--backend", self.backend,
                   "--control", self.control_arg, "--ready-file", str(ready)]
        if self.rules is not None:
            rules_file = Path(self.workdir.name) / "rules.json"
            rules_file.write_text(json.dumps(self.rules))
            command += ["--rules", str(rules_file)]
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr)
        deadline = time.monotonic() + self.start_timeout
        while not ready.exists():
            problem = None
            if self.process.poll() is not None:
                problem = f"fault_proxy.py exited with {self.process.returncode}"
            elif time.monotonic() > deadline:
                problem = f"fault_proxy.py not ready after {self.start_timeout} s"
            if problem:
                message = f"{problem}:\n{self.stderr_text()}"
                self.close()
                raise RuntimeError(message)
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        self.listen, self.control = info["listen"], info["control"]
        self.port, self.control_port = info["listen_port"], info["control_port"]
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def close(self) -> None:
        self.stop()
        self.workdir.cleanup()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stderr_text(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def set_rules(self, rules: list[dict[str, Any]]) -> None:
        set_rules(self.control, rules)

    def get_log(self) -> list[dict[str, Any]]:
        return get_log(self.control)

    def wait_log_done(self, timeout: float = 10) -> list[dict[str, Any]]:
        return wait_log_done(self.control, timeout)

    def get_rules(self) -> list[dict[str, Any]]:
        return get_rules(self.control)

    def reset(self) -> None:
        reset(self.control)
