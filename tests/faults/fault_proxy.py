#!/usr/bin/env python3
"""fault_proxy.py: an HTTP/1.1 proxy that sits between an S3 client and a real S3 server and injects faults.

    fault_proxy.py --listen 127.0.0.1:0 --backend 127.0.0.1:4568 --control 127.0.0.1:0 \\
                   [--rules rules.json] [--ready-file ready.json]

The client talks to --listen as if it were the server (requests are forwarded unchanged, so SigV4 signatures
hold); the rules decide which requests get which fault. The control port takes new rules at runtime
(POST /rules), serves the request log (GET /log, JSON lines) and clears both (POST /reset). Port 0 picks a
free port; the ports chosen are written to --ready-file (JSON) once both ports listen. README.md has the rules.
Standard library only (Python 3.11).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

import http_wire as wire  # noqa: E402
from fault_log import RequestLog  # noqa: E402
from fault_relay import ClientSession, ProxyState  # noqa: E402
from fault_rules import RuleError, RuleSet, load_rules  # noqa: E402

MAX_CONTROL_BODY = 4 * 1024 * 1024


def host_port(text: str) -> tuple[str, int]:
    host, colon, port = text.rpartition(":")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Fault-injecting HTTP/1.1 proxy for S3 integration tests.")
    parser.add_argument("--listen", type=host_port, required=True, help="HOST:PORT for clients (0: any free port)")
    parser.add_argument("--backend", type=host_port, required=True, help="HOST:PORT of the real S3 server")
    parser.add_argument("--control", type=host_port, required=True, help="HOST:PORT of the control endpoint")
    parser.add_argument("--rules", type=Path, help="JSON file with the initial rules")
    parser.add_argument("--ready-file", type=Path, help="write the chosen ports here (JSON) once listening")
    return parser.parse_args(argv)


# ---- control endpoint ---------------------------------------------------------------------------------------

def control_route(state: ProxyState, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
    """(status, content type, body) for one control request."""
    if (method, path) == ("POST", "/rules"):
        try:
            rules = load_rules(json.loads(body or b"null"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            return 400, "text/plain", f"rules are not valid JSON: {e}\n".encode()
        except RuleError as e:
            return 400, "text/plain", f"{e}\n".encode()
        state.rules = rules
        return 200, "application/json", json.dumps({"rules": len(rules.rules)}).encode()
    if (method, path) == ("GET", "/rules"):
        return 200, "application/json", json.dumps([r.summary() for r in state.rules.rules]).encode()
    if (method, path) == ("GET", "/log"):
        return 200, "application/x-ndjson", state.log.json_lines().encode()
    if (method, path) == ("POST", "/reset"):
        state.rules = RuleSet()
        state.log.clear()
        return 200, "application/json", b'{"reset": true}'
    return 404, "text/plain", b"control endpoints: POST /rules, GET /rules, GET /log, POST /reset\n"


async def handle_control(state: ProxyState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """One control request per connection (Connection: close): the callers are test helpers, not browsers."""
    try:
        head = await wire.read_head(reader)
        if head is None:
            return
        request = wire.parse_request(head)
        length = head.content_length() or 0
        if length > MAX_CONTROL_BODY:
            status, content_type, body = 413, "text/plain", b"control request body too large\n"
        else:
            payload = await reader.readexactly(length)
            status, content_type, body = control_route(state, request.method, request.path, payload)
    except (wire.WireError, wire.PeerClosed, asyncio.IncompleteReadError) as e:
        status, content_type, body = 400, "text/plain", f"bad control request: {e}\n".encode()
    try:
        writer.write(f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\nContent-Type: {content_type}\r\n"
                     f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    await wire.close(writer)


# ---- start-up -----------------------------------------------------------------------------------------------

def write_ready_file(path: Path, listen: tuple[str, int], control: tuple[str, int],
                     backend: tuple[str, int]) -> None:
    """Atomically (write, then rename), so a waiting test never reads half a file."""
    info = {"listen": f"{listen[0]}:{listen[1]}", "listen_port": listen[1],
            "control": f"{control[0]}:{control[1]}", "control_port": control[1],
            "backend": f"{backend[0]}:{backend[1]}", "pid": os.getpid()}
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(info) + "\n")
    os.replace(temporary, path)


async def serve(args: argparse.Namespace, rules: RuleSet) -> None:
    state = ProxyState(args.backend[0], args.backend[1], rules, RequestLog(sys.stderr))

    async def on_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await ClientSession(state, reader, writer).run()

    async def on_control(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_control(state, reader, writer)

    proxy = await asyncio.start_server(on_client, args.listen[0], args.listen[1], limit=wire.HEAD_LIMIT)
    control = await asyncio.start_server(on_control, args.control[0], args.control[1], limit=wire.HEAD_LIMIT)
    listen = proxy.sockets[0].getsockname()[:2]
    control_address = control.sockets[0].getsockname()[:2]
    if args.ready_file:
        write_ready_file(args.ready_file, listen, control_address, args.backend)
    print(f"fault-proxy: listening on {listen[0]}:{listen[1]} -> backend {args.backend[0]}:{args.backend[1]},"
          f" control on {control_address[0]}:{control_address[1]}, {len(rules.rules)} rules",
          file=sys.stderr, flush=True)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    proxy.close()
    control.close()
    # Returning ends asyncio.run, which cancels the open connections (their requests log "proxy stopped").


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rules = RuleSet()
    if args.rules:
        try:
            rules = load_rules(json.loads(args.rules.read_text()))
        except (OSError, json.JSONDecodeError, RuleError) as e:
            print(f"fault-proxy: cannot load rules from {args.rules}: {e}", file=sys.stderr)
            return 2
    try:
        asyncio.run(serve(args, rules))
    except OSError as e:  # a port in use, an address that does not exist
        print(f"fault-proxy: {e}", file=sys.stderr)
        return 1
    print("fault-proxy: stopped", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
