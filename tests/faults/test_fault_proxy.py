#!/usr/bin/env python3
"""Proves fault_proxy.py: a faithful HTTP/1.1 proxy when no rule fires, and each fault doing what it says.

Runs standalone: python3 tests/faults/test_fault_proxy.py. The backend is a small in-process server (http.server
in a thread) that stores PUT bodies and serves GET/HEAD with Range and an MD5 ETag, and records what it received,
so the tests can check both sides of the proxy. The proxy itself runs as a subprocess through fault_control.py,
the way the integration tests use it.
"""

from __future__ import annotations

import hashlib
import http.client
import http.server
import json
import os
import socket
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, str(Path(__file__).resolve().parent))

from fault_control import ControlError, FaultProxy  # noqa: E402

MiB = 1024 * 1024
SLOWDOWN_BODY = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
                 "<Message>Please reduce your request rate.</Message><RequestId>FAULT1</RequestId></Error>").encode()


# ---- the backend --------------------------------------------------------------------------------------------

class Backend:
    """What the backend stored and saw: objects by path, every request, and every body that broke off."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.objects: dict[str, bytes] = {}
        self.requests: list[dict] = []
        self.broken_bodies: list[tuple[str, int, str]] = []  # (path, bytes received, error)

    def clear(self) -> None:
        with self.lock:
            self.objects.clear()
            self.requests.clear()
            self.broken_bodies.clear()


def etag_of(data: bytes) -> str:
    return '"' + hashlib.md5(data).hexdigest() + '"'


class BackendHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and "100 Continue" for Expect (handle_expect_100)
    backend: Backend

    def log_message(self, *args) -> None:
        pass

    def record(self) -> None:
        with self.backend.lock:
            self.backend.requests.append({"method": self.command, "target": self.path,
                                          "headers": list(self.headers.items()),
                                          "client_port": self.client_address[1]})

    def do_PUT(self) -> None:
        self.record()
        received = bytearray()
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", ""):
                while size := int(self.rfile.readline().split(b";")[0], 16):
                    received += self.rfile.read(size)
                    self.rfile.readline()
                while self.rfile.readline() not in (b"\r\n", b""):
                    pass  # trailers
            length = int(self.headers.get("Content-Length", "0"))
            while len(received) < length:  # small reads, so a broken body is counted to the byte
                piece = self.rfile.read1(min(65536, length - len(received)))
                if not piece:
                    raise ConnectionError("EOF")
                received += piece
        except (ConnectionError, OSError) as e:
            with self.backend.lock:
                self.backend.broken_bodies.append((self.path, len(received), type(e).__name__))
            self.close_connection = True
            return
        with self.backend.lock:
            self.backend.objects[self.path] = bytes(received)
        self.send_response(200)
        self.send_header("ETag", etag_of(bytes(received)))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_HEAD(self) -> None:
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        self.record()
        if self.path.startswith("/chunked/"):
            return self.send_chunked(int(self.path.rsplit("/", 1)[1]))
        data = self.backend.objects.get(self.path)
        if data is None:
            body = b"<Error><Code>NoSuchKey</Code></Error>"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            return
        status, first, last = 200, 0, len(data) - 1
        spec = self.headers.get("Range")
        if spec:
            start, _, end = spec.removeprefix("bytes=").partition("-")
            status, first, last = 206, int(start), min(int(end) if end else len(data) - 1, len(data) - 1)
        self.send_response(status)
        self.send_header("ETag", etag_of(data))
        self.send_header("Content-Length", str(last - first + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {first}-{last}/{len(data)}")
        if self.path.startswith("/close/"):
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if not head:
            for offset in range(first, last + 1, 65536):
                self.wfile.write(data[offset:min(offset + 65536, last + 1)])

    def send_chunked(self, size: int) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        data = chunked_payload(size)
        for offset in range(0, size, 7000):
            piece = data[offset:offset + 7000]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")


def chunked_payload(size: int) -> bytes:
    return bytes(i % 251 for i in range(size))


class BackendServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # Resets are what several faults do to the backend connection; anything else is worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionResetError):
            super().handle_error(request, client_address)


def start_backend(idle_timeout: float | None = None) -> tuple[http.server.ThreadingHTTPServer, Backend]:
    """A backend on a free port; with `idle_timeout` it closes connections idle that long (as S3 servers do)."""
    backend = Backend()
    handler = type("Handler", (BackendHandler,), {"backend": backend, "timeout": idle_timeout})
    server = BackendServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, backend


# ---- helpers --------------------------------------------------------------------------------------------------

def vm_hwm_kib(pid: int) -> int:
    """Peak resident set size of a process, from /proc (no psutil)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM in /proc status")


def read_head(sock: socket.socket) -> bytes:
    """Reads one response head from a raw socket, byte by byte (so nothing after it is consumed)."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        byte = sock.recv(1)
        if not byte:
            raise ConnectionError(f"EOF after {head!r}")
        head += byte
    return head


class ProxyTestCase(unittest.TestCase):
    server: http.server.ThreadingHTTPServer
    backend: Backend
    proxy: FaultProxy

    @classmethod
    def setUpClass(cls) -> None:
        cls.server, cls.backend = start_backend()
        cls.backend_address = f"127.0.0.1:{cls.server.server_address[1]}"
        cls.proxy = FaultProxy(cls.backend_address).start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.proxy.close()
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self) -> None:
        self.proxy.reset()
        self.backend.clear()

    def connect(self, timeout: float = 10) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.proxy.port, timeout=timeout)
        self.addCleanup(conn.close)
        return conn

    def raw_socket(self, timeout: float = 10) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=timeout)
        self.addCleanup(sock.close)
        return sock

    def put(self, path: str, data: bytes, conn: http.client.HTTPConnection | None = None) -> int:
        conn = conn or self.connect()
        conn.request("PUT", path, body=data)
        response = conn.getresponse()
        response.read()
        return response.status

    def get(self, path: str, headers: dict | None = None,
            conn: http.client.HTTPConnection | None = None) -> http.client.HTTPResponse:
        conn = conn or self.connect()
        conn.request("GET", path, headers=headers or {})
        return conn.getresponse()

    @staticmethod
    def wait_for(condition, timeout: float = 5.0) -> None:
        """For what happens on the backend's threads after the client has seen its side."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("condition not met in time")
            time.sleep(0.01)

    def store(self, path: str, data: bytes) -> None:
        with self.backend.lock:
            self.backend.objects[path] = data


# ---- pass-through ---------------------------------------------------------------------------------------------

class PassThroughTest(ProxyTestCase):
    def test_20_mib_put_and_get_are_byte_identical_and_streamed(self) -> None:
        # A proxy of its own, so its peak RSS reflects this transfer only.
        with FaultProxy(self.backend_address) as proxy:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=30)
            self.addCleanup(conn.close)
            conn.request("GET", "/warm-up")
            conn.getresponse().read()
            before = vm_hwm_kib(proxy.process.pid)

            data = os.urandom(20 * MiB)
            conn.request("PUT", "/big", body=data)
            response = conn.getresponse()
            response.read()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.getheader("ETag"), etag_of(data))
            self.assertEqual(self.backend.objects["/big"], data)

            conn.request("GET", "/big")
            response = conn.getresponse()
            self.assertEqual(response.read(), data)

            after = vm_hwm_kib(proxy.process.pid)
            self.assertLess(after, 100 * 1024, "proxy peak RSS must stay under 100 MB")
            # Buffering either body whole would add 20 MiB or more; streaming adds a few hundred KiB.
            self.assertLess(after - before, 8 * 1024, f"peak RSS grew {after - before} KiB during 40 MiB of traffic")

            log = proxy.get_log()
            self.assertEqual([(e["method"], e["path"], e["status"]) for e in log],
                             [("GET", "/warm-up", 404), ("PUT", "/big", 200), ("GET", "/big", 200)])
            self.assertEqual(log[1]["request_bytes"], 20 * MiB)
            self.assertEqual(log[2]["response_bytes"], 20 * MiB)
            self.assertIsNone(log[1]["fault"])

    def test_keep_alive_reuses_one_connection_on_each_side(self) -> None:
        conn = self.connect()
        data = os.urandom(100_000)
        self.assertEqual(self.put("/k", data, conn), 200)
        client_socket = conn.sock
        self.assertEqual(self.get("/k", conn=conn).read(), data)
        conn.request("HEAD", "/k")
        head = conn.getresponse()
        self.assertEqual(head.getheader("Content-Length"), str(len(data)))
        self.assertEqual(head.read(), b"")  # a HEAD carries no body despite its Content-Length...
        self.assertEqual(self.get("/k", {"Range": "bytes=10-19"}, conn).read(), data[10:20])  # ...so this parses
        self.assertEqual(self.get("/chunked/50000", conn=conn).read(), chunked_payload(50000))
        self.assertEqual(self.get("/missing", conn=conn).status, 404)

        self.assertIs(conn.sock, client_socket, "the client connection was not kept alive")
        self.assertEqual(len({r["client_port"] for r in self.backend.requests}), 1,
                         "the proxy opened more than one backend connection")
        log = self.proxy.get_log()
        self.assertEqual(len(log), 6)
        self.assertEqual(len({e["conn"] for e in log}), 1)

    def test_chunked_response_passes_through(self) -> None:
        response = self.get("/chunked/1000000")
        self.assertEqual(response.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(response.read(), chunked_payload(1000000))

    def test_expect_100_continue_is_forwarded_and_the_100_relayed(self) -> None:
        sock = self.raw_socket()
        body = os.urandom(300_000)
        sock.sendall(f"PUT /expect HTTP/1.1\r\nHost: b.example\r\nContent-Length: {len(body)}\r\n"
                     "Expect: 100-continue\r\n\r\n".encode())
        self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 100 Continue\r\n"))
        sock.sendall(body)
        self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 200"))
        self.assertEqual(self.backend.objects["/expect"], body)
        self.assertIn(("Expect", "100-continue"), self.backend.requests[0]["headers"])

    def test_chunked_request_body_passes_through(self) -> None:
        sock = self.raw_socket()
        sock.sendall(b"PUT /chunked-up HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 200"))
        self.assertEqual(self.backend.objects["/chunked-up"], b"hello world")
        sock.sendall(b"GET /chunked-up HTTP/1.1\r\nHost: b\r\n\r\n")  # and the connection goes on
        self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 200"))

    def test_backend_closing_an_idle_connection_closes_the_clients(self) -> None:
        server, backend = start_backend(idle_timeout=0.3)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        backend.objects["/k"] = b"abc"
        with FaultProxy(f"127.0.0.1:{server.server_address[1]}") as proxy:
            sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
            self.addCleanup(sock.close)
            sock.sendall(b"GET /k HTTP/1.1\r\nHost: b\r\n\r\n")
            self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 200"))
            self.assertEqual(sock.recv(3), b"abc")
            # The backend drops the idle connection after 0.3 s; the client sees its own close (FIN) then,
            # not a failure on its next request.
            self.assertEqual(sock.recv(1), b"")

    def test_requests_reach_the_backend_unchanged(self) -> None:
        headers = [("Host", "bucket.s3.example.com:9000"), ("x-amz-date", "20261127T000000Z"),
                   ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/s3/aws4_request, "
                                     "SignedHeaders=host;x-amz-date, Signature=0123abcd"),
                   ("X-AMZ-Content-SHA256", "UNSIGNED-PAYLOAD"), ("Content-Length", "5")]
        target = "/k%20ey/a%2Fb?partNumber=1&uploadId=x%2By"
        sock = self.raw_socket()
        sock.sendall(f"PUT {target} HTTP/1.1\r\n".encode()
                     + "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\nhello")
        self.assertTrue(read_head(sock).startswith(b"HTTP/1.1 200"))
        seen = self.backend.requests[0]
        self.assertEqual(seen["target"], target)
        self.assertEqual(seen["headers"], headers)  # names, case, order, values, Host included


# ---- faults ----------------------------------------------------------------------------------------------------

class FaultTest(ProxyTestCase):
    def test_reset_request_body_after_resets_both_connections(self) -> None:
        self.proxy.set_rules([{"match": {"method": "PUT"}, "reset_request_body_after": 1000}])
        sock = self.raw_socket()
        sock.sendall(b"PUT /part HTTP/1.1\r\nHost: b\r\nContent-Length: 100000\r\n\r\n" + os.urandom(1000))
        # A RST, not a FIN: recv raises instead of returning b"".
        with self.assertRaises(ConnectionResetError):
            sock.recv(1)
        self.wait_for(lambda: self.backend.broken_bodies)
        path, received, error = self.backend.broken_bodies[0]
        self.assertEqual((path, error), ("/part", "ConnectionResetError"))
        self.assertLessEqual(received, 1000)
        self.assertNotIn("/part", self.backend.objects)
        entry = self.proxy.get_log()[0]
        self.assertEqual((entry["status"], entry["request_bytes"], entry["fault"]),
                         (None, 1000, "reset_request_body_after=1000"))

    def test_reset_request_body_after_more_than_the_body_resets_before_the_response(self) -> None:
        self.store("/k", b"abc")
        self.proxy.set_rules([{"match": {"method": "GET"}, "reset_request_body_after": 1 << 30}])
        sock = self.raw_socket()
        sock.sendall(b"GET /k HTTP/1.1\r\nHost: b\r\n\r\n")
        with self.assertRaises(ConnectionResetError):
            sock.recv(1)  # nothing of the backend's 200 came through
        self.wait_for(lambda: self.backend.requests)  # but the request was forwarded
        self.assertEqual([r["target"] for r in self.backend.requests], ["/k"])

    def test_reset_request_body_after_seen_by_http_client(self) -> None:
        self.proxy.set_rules([{"match": {"method": "PUT"}, "reset_request_body_after": 8192}])
        conn = self.connect()
        with self.assertRaises((ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)):
            conn.request("PUT", "/part", body=os.urandom(4 * MiB))
            conn.getresponse()

    def test_respond_slowdown_sends_the_exact_s3_body_without_the_backend(self) -> None:
        self.proxy.set_rules([{"match": {"method": "GET"}, "respond": "slowdown"}])
        conn = self.connect()
        response = self.get("/k", conn=conn)
        self.assertEqual(response.status, 503)
        self.assertEqual(response.read(), SLOWDOWN_BODY)
        self.assertEqual(response.getheader("Content-Type"), "application/xml")
        self.assertEqual(response.getheader("x-amz-request-id"), "FAULT1")
        first_socket = conn.sock
        self.assertEqual(self.get("/k", conn=conn).status, 503)
        self.assertIs(conn.sock, first_socket, "a canned answer should keep the connection alive")
        self.assertEqual(self.backend.requests, [])

    def test_respond_presets_and_custom(self) -> None:
        expectations = {"internal_error": (500, "InternalError"), "service_unavailable": (503, "ServiceUnavailable"),
                        "precondition_failed": (412, "PreconditionFailed"), "slowdown": (503, "SlowDown")}
        for preset, (status, code) in expectations.items():
            with self.subTest(preset=preset):
                self.proxy.set_rules([{"respond": {"preset": preset, "request_id": "R-" + preset}}])
                response = self.get("/k")
                error = ET.fromstring(response.read())
                self.assertEqual((response.status, error.findtext("Code"), error.findtext("RequestId")),
                                 (status, code, "R-" + preset))
        self.proxy.set_rules([{"respond": "bad_gateway"}])
        response = self.get("/k")
        self.assertEqual((response.status, response.getheader("Content-Type")), (502, "text/html"))
        self.assertIn(b"<h1>502 Bad Gateway</h1>", response.read())
        self.proxy.set_rules([{"respond": {"status": 429, "body": "slow", "headers": {"Retry-After": "1"}}}])
        response = self.get("/k")
        self.assertEqual((response.status, response.read(), response.getheader("Retry-After")), (429, b"slow", "1"))
        self.assertEqual(self.backend.requests, [])

    def test_respond_to_a_put_consumes_its_body_and_keeps_the_connection(self) -> None:
        self.proxy.set_rules([{"match": {"method": "PUT", "query": "partNumber=2(&|$)"}, "nth": 1,
                               "respond": "slowdown"}])
        conn = self.connect()
        part = os.urandom(2 * MiB)
        self.assertEqual(self.put("/o?partNumber=2&uploadId=u", part, conn), 503)
        self.assertEqual(self.put("/o?partNumber=2&uploadId=u", part, conn), 200)  # the retry goes through
        self.assertEqual(self.backend.objects["/o?partNumber=2&uploadId=u"], part)
        self.assertEqual([e["status"] for e in self.proxy.get_log()], [503, 200])
        self.assertEqual(self.proxy.get_log()[0]["request_bytes"], 2 * MiB)

    def test_respond_to_expect_100_answers_at_once_and_closes(self) -> None:
        self.proxy.set_rules([{"respond": "slowdown"}])
        sock = self.raw_socket()
        sock.sendall(b"PUT /k HTTP/1.1\r\nHost: b\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n")
        head = read_head(sock)
        self.assertTrue(head.startswith(b"HTTP/1.1 503 Slow Down\r\n"), head)
        self.assertIn(b"Connection: close\r\n", head)
        body = b""
        while chunk := sock.recv(65536):
            body += chunk
        self.assertEqual(body, SLOWDOWN_BODY)  # then a clean close

    def test_stall_holds_the_response(self) -> None:
        self.store("/k", b"x" * 1000)
        self.proxy.set_rules([{"match": {"path": "^/k$"}, "nth": 1, "stall": 5}])
        with self.assertRaises(TimeoutError):
            self.get("/k", conn=self.connect(timeout=0.5))
        self.assertEqual(self.get("/k").read(), b"x" * 1000)  # only the first match stalls
        self.assertEqual(len(self.backend.requests), 2)  # the stalled request was forwarded

    def test_stall_response_after_sends_headers_and_n_bytes_then_stalls(self) -> None:
        data = os.urandom(100_000)
        self.store("/k", data)
        self.proxy.set_rules([{"stall_response_after": {"bytes": 1000, "seconds": 5}}])
        response = self.get("/k", conn=self.connect(timeout=0.5))
        self.assertEqual(response.status, 200)
        self.assertEqual(response.read(1000), data[:1000])
        with self.assertRaises(TimeoutError):
            response.read(1)

    def test_truncate_response_after_keeps_the_length_and_closes(self) -> None:
        data = os.urandom(200_000)
        self.store("/k", data)
        self.proxy.set_rules([{"truncate_response_after": 5000}])
        response = self.get("/k")
        self.assertEqual(response.getheader("Content-Length"), str(len(data)))
        with self.assertRaises(http.client.IncompleteRead) as caught:
            response.read()
        self.assertEqual(caught.exception.partial, data[:5000])

    def test_reset_response_after_resets_mid_body(self) -> None:
        self.store("/k", os.urandom(200_000))
        self.proxy.set_rules([{"reset_response_after": 5000}])
        response = self.get("/k")
        with self.assertRaises(ConnectionResetError):
            response.read()

    def test_wrong_content_length_larger_closes_after_the_real_body(self) -> None:
        data = os.urandom(10_000)
        self.store("/k", data)
        self.proxy.set_rules([{"wrong_content_length": 10}])
        response = self.get("/k")
        self.assertEqual(response.getheader("Content-Length"), "10010")
        with self.assertRaises(http.client.IncompleteRead) as caught:
            response.read()
        self.assertEqual(caught.exception.partial, data)

    def test_wrong_content_length_smaller_sends_the_declared_bytes(self) -> None:
        data = os.urandom(10_000)
        self.store("/k", data)
        self.proxy.set_rules([{"match": {"method": "GET"}, "wrong_content_length": -10},
                              {"match": {"method": "HEAD"}, "wrong_content_length": 5}])
        response = self.get("/k")
        self.assertEqual(response.getheader("Content-Length"), "9990")
        self.assertEqual(response.read(), data[:-10])
        conn = self.connect()
        conn.request("HEAD", "/k")
        self.assertEqual(conn.getresponse().getheader("Content-Length"), "10005")

    def test_corrupt_request_body_flips_exactly_one_byte_of_the_matching_request(self) -> None:
        data = os.urandom(3 * 1024 * 1024)
        self.proxy.set_rules([{"match": {"method": "PUT", "path": "/bad"}, "nth": 1,
                               "corrupt_request_body_at": 2_000_000}])
        self.assertEqual(self.put("/bad", data), 200)
        self.assertEqual(self.put("/good", data), 200)
        stored = self.backend.objects["/bad"]
        self.assertEqual(len(stored), len(data))
        differing = [i for i in range(len(data)) if stored[i] != data[i]]
        self.assertEqual(differing, [2_000_000])
        self.assertEqual(stored[2_000_000], data[2_000_000] ^ 0xFF)
        self.assertEqual(self.backend.objects["/good"], data, "only the matching request is damaged")

    def test_change_etag_rewrites_only_matching_responses(self) -> None:
        data = os.urandom(10_000)
        self.store("/k", data)
        real = etag_of(data)
        self.proxy.set_rules([{"match": {"method": "GET", "headers": {"Range": True}}, "skip": 1,
                               "change_etag": '"0123456789abcdef0123456789abcdef"'}])
        conn = self.connect()
        etags = []
        for headers in ({"Range": "bytes=0-99"}, {"Range": "bytes=100-199"}, {}, {"Range": "bytes=200-299"}):
            response = self.get("/k", headers, conn)
            response.read()
            etags.append(response.getheader("ETag"))
        changed = '"0123456789abcdef0123456789abcdef"'
        self.assertEqual(etags, [real, changed, real, changed])

    def test_change_etag_true_derives_a_different_well_formed_etag(self) -> None:
        self.store("/k", b"abc")
        self.proxy.set_rules([{"change_etag": True}])
        response = self.get("/k")
        etag = response.getheader("ETag")
        self.assertNotEqual(etag, etag_of(b"abc"))
        self.assertRegex(etag, r'^"[0-9a-f]{32}"$')
        self.assertEqual(response.read(), b"abc")

    def test_precondition_failed_preset(self) -> None:
        self.proxy.set_rules([{"match": {"headers": {"If-Match": True}}, "respond": "precondition_failed"}])
        self.store("/k", b"abc")
        self.assertEqual(self.get("/k").status, 200)
        response = self.get("/k", {"If-Match": '"x"'})
        self.assertEqual(response.status, 412)
        self.assertEqual(ET.fromstring(response.read()).findtext("Code"), "PreconditionFailed")

    def test_delay_adds_latency_before_forwarding(self) -> None:
        self.store("/k", b"abc")
        self.proxy.set_rules([{"nth": 1, "delay": 3}])
        with self.assertRaises(TimeoutError):
            self.get("/k", conn=self.connect(timeout=0.5))
        self.proxy.set_rules([{"delay": 0.2}])
        self.assertEqual(self.get("/k").read(), b"abc")

    def test_garbage_is_a_200_that_is_not_xml(self) -> None:
        self.proxy.set_rules([{"match": {"query": "uploads"}, "garbage": True}])
        response = self.get("/k?uploads")
        self.assertEqual(response.status, 200)
        with self.assertRaises(ET.ParseError):
            ET.fromstring(response.read())

    def test_backend_closing_is_mirrored_to_the_client(self) -> None:
        self.store("/close/k", b"abc")
        sock = self.raw_socket()
        sock.sendall(b"GET /close/k HTTP/1.1\r\nHost: b\r\n\r\n")
        self.assertIn(b"Connection: close", read_head(sock))
        self.assertEqual(sock.recv(10), b"abc")
        self.assertEqual(sock.recv(10), b"")  # FIN, as the backend would have done


# ---- rule selection --------------------------------------------------------------------------------------------

class RuleSelectionTest(ProxyTestCase):
    def statuses(self, rule: dict, count: int, path: str = "/k") -> list[int]:
        self.proxy.reset()
        self.proxy.set_rules([rule])
        conn = self.connect()
        statuses = []
        for _ in range(count):
            response = self.get(path, conn=conn)
            response.read()
            statuses.append(response.status)
        return statuses

    def test_nth_times_skip_every(self) -> None:
        self.store("/k", b"abc")
        self.assertEqual(self.statuses({"nth": 2, "respond": "slowdown"}, 4), [200, 503, 200, 200])
        self.assertEqual(self.statuses({"times": 2, "respond": "slowdown"}, 4), [503, 503, 200, 200])
        self.assertEqual(self.statuses({"skip": 1, "every": True, "respond": "slowdown"}, 3), [200, 503, 503])
        self.assertEqual(self.statuses({"skip": 1, "times": 1, "respond": "slowdown"}, 3), [200, 503, 200])
        self.assertEqual(self.statuses({"every": True, "respond": "slowdown"}, 3), [503, 503, 503])
        self.assertEqual(self.statuses({"respond": "slowdown"}, 2), [503, 503])  # no window: every match

    def test_counts_are_per_rule_and_only_matching_requests_count(self) -> None:
        self.store("/a", b"a")
        self.store("/b", b"b")
        self.proxy.set_rules([{"name": "second-b", "match": {"path": "^/b$"}, "nth": 2, "respond": "slowdown"}])
        conn = self.connect()
        statuses = []
        for path in ("/a", "/b", "/a", "/b", "/b"):
            response = self.get(path, conn=conn)
            response.read()
            statuses.append(response.status)
        self.assertEqual(statuses, [200, 200, 200, 503, 200])
        self.assertEqual(self.proxy.get_rules(), [{"name": "second-b", "action": "respond=slowdown", "seen": 3,
                                                   "fired": 1}])
        log = self.proxy.get_log()
        self.assertEqual([e["rule"] for e in log], [None, None, None, "second-b", None])

    def test_match_by_method_query_and_header(self) -> None:
        self.proxy.set_rules([{"match": {"method": "PUT", "query": "(^|&)partNumber=2(&|$)"}, "respond": "slowdown"}])
        conn = self.connect()
        self.assertEqual(self.put("/o?partNumber=1&uploadId=u", b"1", conn), 200)
        self.assertEqual(self.put("/o?partNumber=2&uploadId=u", b"2", conn), 503)
        self.assertEqual(self.put("/o?partNumber=12&uploadId=u", b"12", conn), 200)
        response = self.get("/o?partNumber=2", conn=conn)
        response.read()
        self.assertEqual(response.status, 404)  # GET: not matched, forwarded
        self.proxy.set_rules([{"match": {"headers": {"Range": False}}, "respond": "slowdown"}])
        self.store("/k", b"abcdef")
        self.assertEqual(self.get("/k", {"Range": "bytes=0-1"}, conn).read(), b"ab")
        self.assertEqual(self.get("/k", conn=conn).status, 503)


# ---- control endpoint, start-up, logging ------------------------------------------------------------------------

class ControlTest(ProxyTestCase):
    def test_invalid_rules_are_refused_with_a_reason_and_the_old_rules_stay(self) -> None:
        self.proxy.set_rules([{"respond": "slowdown"}])
        bad = {"unknown key": [{"respond": "slowdown", "nht": 2}],
               "needs exactly one action": [{"respond": "slowdown", "delay": 1}],
               "bad regex": [{"match": {"path": "("}, "delay": 1}],
               "unknown preset": [{"respond": "slow"}],
               "nth counts from 1": [{"nth": 0, "delay": 1}]}
        for reason, rules in bad.items():
            with self.subTest(reason=reason):
                with self.assertRaises(ControlError) as caught:
                    self.proxy.set_rules(rules)
                self.assertIn(reason, str(caught.exception))
        self.assertEqual(self.get("/k").status, 503)

    def test_reset_clears_log_and_rules(self) -> None:
        self.proxy.set_rules([{"respond": "slowdown"}])
        self.assertEqual(self.get("/k").status, 503)
        self.assertEqual(len(self.proxy.get_log()), 1)
        self.proxy.reset()
        self.assertEqual(self.proxy.get_log(), [])
        self.assertEqual(self.proxy.get_rules(), [])
        self.assertEqual(self.get("/k").status, 404)

    def test_rules_file_given_at_start(self) -> None:
        with FaultProxy(self.backend_address, rules=[{"nth": 1, "respond": "internal_error"}]) as proxy:
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            self.addCleanup(conn.close)
            for expected in (500, 404):
                conn.request("GET", "/k")
                response = conn.getresponse()
                response.read()
                self.assertEqual(response.status, expected)

    def test_a_bad_rules_file_stops_the_start_with_the_reason(self) -> None:
        with self.assertRaises(RuntimeError) as caught:
            FaultProxy(self.backend_address, rules=[{"stall": -1}]).start()
        self.assertIn("stall must be a non-negative number of seconds", str(caught.exception))

    def test_secrets_never_reach_stderr_or_the_log(self) -> None:
        secrets = ["AKIDSECRETKEYID", "c0ffee5ignature", "SESSIONTOKENSECRET", "SSECUSTOMERKEYSECRET",
                   "QUERYSIGNATURESECRET", "QUERYTOKENSECRET"]
        sock = self.raw_socket()
        sock.sendall(("GET /k?X-Amz-Credential=AKIDSECRETKEYID%2F20261127&X-Amz-Signature=QUERYSIGNATURESECRET"
                      "&X-Amz-Security-Token=QUERYTOKENSECRET&partNumber=1 HTTP/1.1\r\nHost: b\r\n"
                      "Authorization: AWS4-HMAC-SHA256 Credential=AKIDSECRETKEYID/20261127/us-east-1/s3/"
                      "aws4_request, SignedHeaders=host, Signature=c0ffee5ignature\r\n"
                      "X-Amz-Security-Token: SESSIONTOKENSECRET\r\n"
                      "x-amz-server-side-encryption-customer-key: SSECUSTOMERKEYSECRET\r\n\r\n").encode())
        read_head(sock)
        # The backend got them all (the proxy alters nothing)...
        forwarded = json.dumps(self.backend.requests)
        for secret in secrets:
            self.assertIn(secret, forwarded)
        # ...and neither the stderr line nor the log holds any.
        log_text = json.dumps(self.proxy.wait_log_done())
        stderr = self.proxy.stderr_text()
        self.assertIn('"Authorization": "<redacted>"', stderr)
        self.assertIn('"X-Amz-Security-Token": "<redacted>"', stderr)
        self.assertIn("X-Amz-Signature=<redacted>", stderr)
        self.assertIn("partNumber=1", stderr)
        for secret in secrets:
            self.assertNotIn(secret, stderr)
            self.assertNotIn(secret, log_text)


if __name__ == "__main__":
    unittest.main()
