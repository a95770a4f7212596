"""HTTP/1.1 on the wire, for fault_proxy.py: message heads, body framing, streamed body copies, socket endings.

Everything here streams: a body is moved in pieces of at most PIECE bytes, and every write waits for the
transport to drain, so a 1 GiB object crosses the proxy with a few hundred KiB in memory.
"""

from __future__ import annotations

import asyncio
import fcntl
import socket
import struct
import termios
import time
from dataclasses import dataclass, field

PIECE = 64 * 1024
# Bigger than any S3 request or response head (S3 itself refuses request heads over 8 KiB); also the
# StreamReader limit, which bounds how much a stream buffers before it stops reading from the socket.
HEAD_LIMIT = 256 * 1024


class WireError(Exception):
    """The peer sent something that is not HTTP/1.1 we can frame (bad head, bad length, bad chunk)."""


class PeerClosed(Exception):
    """The peer closed its side before a message was complete."""


@dataclass
class Head:
    """A request or response head, kept as received so it can be forwarded byte for byte."""

    raw: bytes
    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def has_token(self, name: str, token: str) -> bool:
        """True if a comma-separated header (Connection, Transfer-Encoding, Expect) lists `token`."""
        token = token.lower()
        name = name.lower()
        return any(part.strip().lower() == token
                   for key, value in self.headers if key.lower() == name
                   for part in value.split(","))

    def replaced(self, name: str, value: str) -> "Head":
        """A copy with every `name` header set to `value` (the head is re-serialised; names keep their case)."""
        lowered = name.lower()
        headers = [(k, value if k.lower() == lowered else v) for k, v in self.headers]
        raw = (self.start_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode("latin-1")
        return Head(raw, self.start_line, headers)

    def content_length(self) -> int | None:
        values = {v.strip() for k, v in self.headers if k.lower() == "content-length"}
        if not values:
            return None
        if len(values) > 1:
            raise WireError(f"conflicting Content-Length headers: {sorted(values)}")
        value = values.pop()
        if not value.isdigit():
            raise WireError(f"bad Content-Length: {value!r}")
        return int(value)

    def is_chunked(self) -> bool:
        return self.has_token("Transfer-Encoding", "chunked")


@dataclass
class Request:
    head: Head
    method: str
    target: str
    version: str

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def wants_close(self) -> bool:
        if self.version == "HTTP/1.0":
            return not self.head.has_token("Connection", "keep-alive")
        return self.head.has_token("Connection", "close")

    def expects_continue(self) -> bool:
        return self.head.has_token("Expect", "100-continue")


@dataclass
class Response:
    head: Head
    version: str
    status: int

    def wants_close(self) -> bool:
        if self.version == "HTTP/1.0":
            return not self.head.has_token("Connection", "keep-alive")
        return self.head.has_token("Connection", "close")


# How a body is delimited (RFC 9112 section 6).
NO_BODY = "none"
LENGTH = "length"
CHUNKED = "chunked"
UNTIL_CLOSE = "until-close"


def parse_head(raw: bytes) -> Head:
    text = raw.decode("latin-1")
    lines = text.split("\r\n")
    start_line = lines[0]
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise WireError(f"bad header line: {line[:80]!r}")
        headers.append((name, value.strip()))
    return Head(raw, start_line, headers)


async def read_head(reader: asyncio.StreamReader) -> Head | None:
    """The next head on the stream, or None if the peer closed cleanly before sending one."""
    try:
        raw = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        if not e.partial.strip():
            return None
        raise PeerClosed("connection closed in the middle of a message head") from None
    except asyncio.LimitOverrunError:
        raise WireError(f"message head larger than {HEAD_LIMIT} bytes") from None
    # RFC 9112 section 2.2: a server should ignore empty lines before a request line.
    return parse_head(raw.lstrip(b"\r\n"))


def parse_request(head: Head) -> Request:
    parts = head.start_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise WireError(f"bad request line: {head.start_line[:120]!r}")
    return Request(head, parts[0].upper(), parts[1], parts[2])


def parse_response(head: Head) -> Response:
    parts = head.start_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise WireError(f"bad status line: {head.start_line[:120]!r}")
    return Response(head, parts[0], int(parts[1]))


def request_framing(request: Request) -> tuple[str, int]:
    """(kind, length) of the request body; a request without length or chunking has none (RFC 9112 6.3)."""
    if request.head.is_chunked():
        return CHUNKED, 0
    length = request.head.content_length()
    if length:
        return LENGTH, length
    return NO_BODY, 0


def response_framing(request: Request, response: Response) -> tuple[str, int]:
    """(kind, length) of a response body: HEAD, 1xx, 204 and 304 never carry one, whatever the headers say."""
    if request.method == "HEAD" or response.status < 200 or response.status in (204, 304):
        return NO_BODY, 0
    if response.head.is_chunked():
        return CHUNKED, 0
    length = response.head.content_length()
    if length is not None:
        return LENGTH, length
    return UNTIL_CLOSE, 0


async def copy_body(reader: asyncio.StreamReader, framing: tuple[str, int], sink) -> None:
    """Moves one body from `reader` to `sink.write` in pieces, exactly as framed (chunk framing included)."""
    kind, length = framing
    if kind == LENGTH:
        await copy_exact(reader, length, sink)
    elif kind == CHUNKED:
        await copy_chunked(reader, sink)
    elif kind == UNTIL_CLOSE:
        while piece := await reader.read(PIECE):
            await sink.write(piece)


async def copy_exact(reader: asyncio.StreamReader, length: int, sink) -> None:
    left = length
    while left:
        piece = await reader.read(min(left, PIECE))
        if not piece:
            raise PeerClosed(f"connection closed with {left} of {length} body bytes still to come")
        left -= len(piece)
        await sink.write(piece)


async def copy_chunked(reader: asyncio.StreamReader, sink) -> None:
    """Relays a chunked body verbatim: size lines, data, and trailers, up to the empty line that ends it."""
    while True:
        line = await _read_line(reader)
        await sink.write(line)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise WireError(f"bad chunk size line: {line[:40]!r}") from None
        if size == 0:
            break
        await copy_exact(reader, size + 2, sink)  # the data and the CRLF after it
    while True:  # trailer fields, then the final CRLF
        line = await _read_line(reader)
        await sink.write(line)
        if line == b"\r\n":
            return


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.IncompleteReadError:
        raise PeerClosed("connection closed inside a chunked body") from None
    except asyncio.LimitOverrunError:
        raise WireError("chunk size line too long") from None


class Discard:
    """A sink that counts and drops (a body the proxy answers itself)."""

    def __init__(self) -> None:
        self.count = 0

    async def write(self, data: bytes) -> None:
        self.count += len(data)


async def flush(writer: asyncio.StreamWriter) -> None:
    """Waits until asyncio has handed every buffered byte to the kernel (drain() alone stops at the high mark)."""
    transport = writer.transport
    transport.set_write_buffer_limits(high=0, low=0)
    try:
        await writer.drain()
    finally:
        transport.set_write_buffer_limits()  # back to the defaults for later streaming


async def wait_acknowledged(writer: asyncio.StreamWriter, timeout: float = 2.0) -> None:
    """Waits until the peer has acknowledged every byte sent.

    A reset (SO_LINGER 0) throws away whatever the kernel has not sent yet, so without this "forward N bytes,
    then reset" could reset before the N bytes left. Linux only (TIOCOUTQ); elsewhere it just flushes.
    """
    await flush(writer)
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            unacknowledged = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0]
        except OSError:
            return
        if unacknowledged == 0:
            return
        await asyncio.sleep(0.002)


def reset(writer: asyncio.StreamWriter | None) -> None:
    """Closes with a TCP RST instead of a FIN: SO_LINGER with a zero timeout, then an immediate close."""
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass  # already gone: nothing left to reset
    writer.transport.abort()


async def close(writer: asyncio.StreamWriter | None) -> None:
    """An orderly close (FIN) after whatever is buffered has been sent."""
    if writer is None or writer.transport.is_closing():
        return
    try:
        writer.close()
        await writer.wait_closed()
    except (ConnectionError, OSError):
        pass


async def lingering_close(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, linger: float = 1.0) -> None:
    """Sends FIN, then reads and drops what the peer still sends (up to `linger` seconds) before closing.

    Closing a socket that has unread input makes the kernel send a RST, which can destroy a response the peer
    has not read yet (a client that sent a body we answered without reading). Half-closing first avoids that.
    """
    if writer.transport.is_closing():
        return
    try:
        await flush(writer)
        if writer.can_write_eof():
            writer.write_eof()
        deadline = time.monotonic() + linger
        while (left := deadline - time.monotonic()) > 0:
            if not await asyncio.wait_for(reader.read(PIECE), left):
                break
    except (ConnectionError, OSError, asyncio.TimeoutError):
        pass
    await close(writer)
