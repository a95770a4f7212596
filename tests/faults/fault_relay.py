"""One client connection of fault_proxy.py, relayed to its own backend connection, with the rules' faults applied.

Requests go to the backend byte for byte (the client signed them with SigV4, Host included); responses come back
unchanged unless a fault rewrites them. Bodies stream in both directions. The two connections live and die
together: when the backend closes an idle connection the client's is closed too, so the client sees exactly
the keep-alive behaviour of the real server, plus the faults.
"""

from __future__ import annotations

import asyncio
import email.utils
import sys
import traceback
from typing import Any, Awaitable, Callable

import http_wire as wire
from fault_rules import Action, CannedResponse, RuleSet
from fault_log import RequestLog


class CloseConnection(Exception):
    """Ends the client connection (and its backend connection): with a RST if `reset`, else with a FIN."""

    def __init__(self, reason: str, reset: bool = False) -> None:
        super().__init__(reason)
        self.reset = reset


class ProxyState:
    """What every connection shares: the backend address, the rules in force, the request log."""

    def __init__(self, backend_host: str, backend_port: int, rules: RuleSet, log: RequestLog) -> None:
        self.backend_host = backend_host
        self.backend_port = backend_port
        self.rules = rules
        self.log = log
        self.connections = 0


class BodySink:
    """Writes a body to one side and counts the bytes (in the log entry too, before they leave); once `trip_after`
    bytes have gone it runs `on_trip` (the fault: stall, close, reset) once, which may raise to end the connection."""

    def __init__(self, writer: asyncio.StreamWriter, entry: dict[str, Any], field: str,
                 trip_after: int | None = None, on_trip: Callable[[], Awaitable[None]] | None = None,
                 corrupt_at: int | None = None) -> None:
        self.writer = writer
        self.entry, self.field = entry, field
        self.trip_after = trip_after
        self.on_trip = on_trip
        self.tripped = False
        self.count = 0
        self.corrupt_at = corrupt_at  # flip this body byte in transit (damage a checksum must catch)

    async def write(self, data: bytes) -> None:
        if self.trip_after is not None and not self.tripped and self.count + len(data) >= self.trip_after:
            room = self.trip_after - self.count
            await self._send(data[:room])
            await self.trip()
            data = data[room:]
        await self._send(data)

    async def trip(self) -> None:
        self.tripped = True
        await self.on_trip()

    async def _send(self, data: bytes) -> None:
        if self.corrupt_at is not None and self.count <= self.corrupt_at < self.count + len(data):
            at = self.corrupt_at - self.count
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]
        if data:
            self.count += len(data)
            self.entry[self.field] = self.count
            self.writer.write(data)
            await self.writer.drain()


class BackendLink:
    """The backend connection of one client connection, opened on first use and reopened after a close."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def usable(self) -> bool:
        return self.writer is not None and not self.writer.transport.is_closing() and not self.reader.at_eof()

    async def open(self) -> None:
        if not self.usable():
            await self.close()
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=wire.HEAD_LIMIT)

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        await wire.close(writer)

    def reset(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        wire.reset(writer)


def _date() -> str:
    return email.utils.formatdate(usegmt=True)


class ClientSession:
    def __init__(self, state: ProxyState, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        self.id = state.connections
        self.state = state
        self.reader, self.writer = reader, writer
        self.backend = BackendLink(state.backend_host, state.backend_port)

    async def run(self) -> None:
        ending = "close"
        try:
            while await self.serve_one():
                pass
        except CloseConnection as e:
            ending = "reset" if e.reset else "close"
        except (ConnectionError, OSError, wire.PeerClosed, wire.WireError, asyncio.IncompleteReadError):
            pass  # already recorded in the request's log entry, or between requests (nothing to record)
        except asyncio.CancelledError:
            ending = "abort"  # the proxy is stopping: drop both connections, lingering would only delay the exit
        except Exception:  # a bug in the proxy: say so loudly, it would otherwise pass for a fault
            traceback.print_exc(file=sys.stderr)
            ending = "abort"
        if ending == "reset":
            wire.reset(self.writer)
            self.backend.reset()
        elif ending == "abort":
            self.writer.transport.abort()
            self.backend.reset()
        else:
            await self.backend.close()
            await wire.lingering_close(self.reader, self.writer)

    async def serve_one(self) -> bool:
        """Relays one request and its response; False when the connection must end after it."""
        head = await self.next_request_head()
        if head is None:
            return False
        try:
            request = wire.parse_request(head)
        except wire.WireError as e:
            await self.send_canned(None, CannedResponse(400, "Bad Request", f"fault-proxy: {e}\n".encode(),
                                                        [("Content-Type", "text/plain")]), close=True)
            return False
        entry = self.state.log.start(self.id, request.method, request.path, request.query, head.headers)
        rule = self.state.rules.select(request.method, request.path, request.query, head.get)
        action = rule.action if rule else None
        if rule:
            entry["rule"], entry["fault"] = rule.name, action.describe()
        try:
            if action and action.response:
                return await self.answer_locally(request, action.response, entry)
            return await self.forward(request, action, entry)
        except Exception as e:
            entry["error"] = str(e) or type(e).__name__
            raise
        except asyncio.CancelledError:
            entry["error"] = "proxy stopped"
            raise
        finally:
            self.state.log.finish(entry)

    async def next_request_head(self) -> wire.Head | None:
        """Waits for the client's next request while watching the idle backend connection: if the backend
        closes it, the client's connection is closed too (as the real server would have done)."""
        if not self.backend.usable():
            return await wire.read_head(self.reader)
        head_task = asyncio.create_task(wire.read_head(self.reader))
        idle_task = asyncio.create_task(self.backend.reader.read(1))
        try:
            await asyncio.wait({head_task, idle_task}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (head_task, idle_task):
                if not task.done():
                    task.cancel()
            await asyncio.gather(head_task, idle_task, return_exceptions=True)
        if idle_task.done() and not idle_task.cancelled():
            # The backend closed (or spoke out of turn, which is just as fatal) while idle.
            await self.backend.close()
            if not head_task.done() or head_task.cancelled():
                return None
        return head_task.result()

    # ---- requests answered by the proxy itself (respond, garbage) ------------------------------------------

    async def answer_locally(self, request: wire.Request, canned: CannedResponse, entry: dict[str, Any]) -> bool:
        close = request.wants_close()
        framing = wire.request_framing(request)
        if framing[0] != wire.NO_BODY:
            if request.expects_continue():
                # The client waits for "100 Continue" before it sends the body; answering with a final status
                # instead means the body never comes, so the connection cannot carry another request.
                close = True
            else:
                sink = wire.Discard()
                await wire.copy_body(self.reader, framing, sink)
                entry["request_bytes"] = sink.count
        entry["status"] = canned.status
        await self.send_canned(request, canned, close, entry)
        return not close

    async def send_canned(self, request: wire.Request | None, canned: CannedResponse, close: bool,
                          entry: dict[str, Any] | None = None) -> None:
        headers = canned.headers + [("Date", _date()), ("Server", "fault-proxy"),
                                    ("Content-Length", str(len(canned.body)))]
        if close:
            headers.append(("Connection", "close"))
        head = f"HTTP/1.1 {canned.status} {canned.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers)
        body = b"" if request is not None and request.method == "HEAD" else canned.body
        if entry is not None:
            entry["response_bytes"] = len(body)
        self.writer.write(head.encode("latin-1") + b"\r\n" + body)
        await self.writer.drain()

    # ---- requests forwarded to the backend -----------------------------------------------------------------

    async def forward(self, request: wire.Request, action: Action | None, entry: dict[str, Any]) -> bool:
        kind = action.kind if action else None
        if kind == "delay":
            await asyncio.sleep(action.seconds)
        try:
            await self.backend.open()
        except OSError as e:
            entry["error"] = f"cannot connect to the backend: {e}"
            entry["status"] = 502
            await self.send_canned(request, CannedResponse(
                502, "Bad Gateway", f"fault-proxy: cannot connect to the backend: {e}\n".encode(),
                [("Content-Type", "text/plain")]), close=True, entry=entry)
            return False

        self.backend.writer.write(request.head.raw)
        request_sink = BodySink(self.backend.writer, entry, "request_bytes")
        if kind == "corrupt_request_body_at":
            request_sink = BodySink(self.backend.writer, entry, "request_bytes", corrupt_at=action.byte_count)
        if kind == "reset_request_body_after":
            reset_both = self.reset_after_sent(self.backend.writer,
                                               f"reset by fault after {action.byte_count} request body bytes")
            request_sink = BodySink(self.backend.writer, entry, "request_bytes", action.byte_count, reset_both)
        body_state = {"complete": False}
        body_task = asyncio.create_task(self.send_request_body(request, request_sink, body_state))
        try:
            response = await self.await_response(request, body_task)
            if kind == "reset_request_body_after" and body_state["complete"]:
                await body_task  # a body shorter than N: the reset comes now, before any of the response
            keep = await self.relay_response(request, response, action, entry)
        except BaseException:
            body_task.cancel()
            await asyncio.gather(body_task, return_exceptions=True)
            raise

        if body_state["complete"]:
            await body_task  # only its last drain can be left
        else:
            # The backend answered before the whole body arrived (an early error, or a final status instead of
            # "100 Continue"): the rest of the body is still on the client's connection, so it cannot be reused.
            body_task.cancel()
            keep = False
        await asyncio.gather(body_task, return_exceptions=True)
        return keep

    async def send_request_body(self, request: wire.Request, sink: BodySink, state: dict[str, bool]) -> None:
        await wire.copy_body(self.reader, wire.request_framing(request), sink)
        state["complete"] = True
        if sink.trip_after is not None and not sink.tripped:
            await sink.trip()  # reset_request_body_after N with a body shorter than N: reset after all of it
        await sink.writer.drain()

    def reset_after_sent(self, writer: asyncio.StreamWriter, reason: str) -> Callable[[], Awaitable[None]]:
        async def trip() -> None:
            await wire.wait_acknowledged(writer)  # the N bytes must have reached the peer before the RST
            raise CloseConnection(reason, reset=True)
        return trip

    async def await_response(self, request: wire.Request, body_task: asyncio.Task) -> wire.Response:
        """The backend's final response head, read while the request body is still being sent (a server may
        answer early, and with Expect: 100-continue the body only comes after the relayed 100)."""
        head_task = asyncio.create_task(self.read_final_response())
        try:
            await asyncio.wait({body_task, head_task}, return_when=asyncio.FIRST_COMPLETED)
            if body_task.done() and not head_task.done():
                body_task.result()  # a body that failed (client gone, reset fault) ends the exchange
            return await head_task
        finally:
            if not head_task.done():
                head_task.cancel()
                await asyncio.gather(head_task, return_exceptions=True)

    async def read_final_response(self) -> wire.Response:
        while True:
            head = await wire.read_head(self.backend.reader)
            if head is None:
                # Mirror the server: it closed without answering, so the client sees its connection close.
                raise CloseConnection("backend closed the connection without answering")
            response = wire.parse_response(head)
            if response.status == 101:
                raise wire.WireError("protocol upgrades are not supported")
            if response.status >= 200:
                return response
            self.writer.write(head.raw)  # 100 Continue (or 103): relay and wait for the final one
            await self.writer.drain()

    async def relay_response(self, request: wire.Request, response: wire.Response, action: Action | None,
                             entry: dict[str, Any]) -> bool:
        kind = action.kind if action else None
        head = response.head
        framing = wire.response_framing(request, response)
        has_body = framing[0] != wire.NO_BODY
        close = request.wants_close() or response.wants_close() or framing[0] == wire.UNTIL_CLOSE
        sink = BodySink(self.writer, entry, "response_bytes")

        if kind == "stall":
            await asyncio.sleep(action.seconds)  # hold the whole response
        elif kind == "change_etag" and head.has("ETag"):
            head = head.replaced("ETag", action.new_etag(head.get("ETag")))
        elif kind == "wrong_content_length" and framing[0] in (wire.LENGTH, wire.NO_BODY) and \
                head.content_length() is not None:
            # For HEAD the header is all there is to lie about; otherwise the body follows the lie.
            true_length = framing[1] if has_body else head.content_length()
            declared = max(0, true_length + action.delta)
            head = head.replaced("Content-Length", str(declared))
            if has_body:
                # Shorter: send only the declared bytes. Longer: send the real body; either way close after,
                # as the stream no longer frames the next response.
                close = True
                if declared < framing[1]:
                    sink = BodySink(self.writer, entry, "response_bytes", declared, self.close_after_sent(
                        f"closed after the {declared} bytes of the lowered Content-Length"))
        elif kind == "truncate_response_after":
            sink = BodySink(self.writer, entry, "response_bytes", action.byte_count, self.close_after_sent(
                f"truncated by fault after {action.byte_count} response body bytes"))
        elif kind == "reset_response_after":
            sink = BodySink(self.writer, entry, "response_bytes", action.byte_count, self.reset_after_sent(
                self.writer, f"reset by fault after {action.byte_count} response body bytes"))
        elif kind == "stall_response_after":
            async def stall() -> None:
                await wire.flush(self.writer)
                await asyncio.sleep(action.seconds)
            sink = BodySink(self.writer, entry, "response_bytes", action.byte_count, stall)

        entry["status"] = response.status
        self.writer.write(head.raw)
        try:
            await wire.copy_body(self.backend.reader, framing, sink)
        except wire.PeerClosed as e:
            # The backend's body ended early: pass that on as it is, a connection closed mid-body.
            raise CloseConnection(f"backend: {e}") from None
        await self.writer.drain()
        if close:
            await self.backend.close()
        return not close

    def close_after_sent(self, reason: str) -> Callable[[], Awaitable[None]]:
        async def trip() -> None:
            raise CloseConnection(reason)
        return trip
