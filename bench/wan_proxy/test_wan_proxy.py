#!/usr/bin/env python3
"""Functional test of cachestep-wan-proxy (bench/wan_proxy): through the proxy, in front of a tiny raw-socket
upstream server started here,

  - bytes pass unaltered both ways (GET, PUT and a full-duplex ECHO, shaped and unshaped, several exchanges on
    one kept-alive connection), and a half-close passes through;
  - one connection's throughput is capped at the configured rate within +-10%, downloads and uploads, with the
    default settings (90e6 B/s);
  - the caps are per connection: 4 parallel connections each get the rate, together ~4x;
  - a proxy stalled 15 ms every 100 ms (SIGSTOP) still holds the cap (catch-up);
  - the first byte of each response arrives at least `latency` after its request was sent (and not much later),
    a new connection's first response at least connect latency + latency after connect(), and an upload's
    response at least `latency` after its last byte could have left at the capped rate.

The upstream speaks a line protocol on kept-alive connections: "GET n" -> n bytes of a fixed random pattern;
"PUT n" + n bytes -> "OK <sha256>\\n"; "ECHO n" + n bytes -> the same n bytes streamed back as they arrive.

Usage: python3 bench/wan_proxy/test_wan_proxy.py [--proxy PATH] [--rate-tolerance 0.10] [--parallel-rate 40e6]
                                                [--proxy-arg=--copy] [--proxy-arg=--threads=1]
The proxy binary: --proxy, else $CACHESTEP_WAN_PROXY, else the newest build*/bench/wan_proxy/cachestep-wan-proxy
under the repository. Prints PASS/FAIL per check and the proxy's CPU per GB moved; exit status 1 on a failure.
Standard library only.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MiB = 1 << 20
BLOB = random.Random(6).randbytes(4 * MiB)  # the GET pattern, repeated
failures: list[str] = []


def check(name: str, ok: bool, detail: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}", flush=True)
    if not ok:
        failures.append(name)


def pattern_sha(n: int) -> str:
    h = hashlib.sha256()
    for off in range(0, n, len(BLOB)):
        h.update(memoryview(BLOB)[: min(len(BLOB), n - off)])
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Upstream server


class Upstream:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = conn.makefile("rb", buffering=MiB)
        buf = bytearray(MiB)
        try:
            while True:
                line = f.readline()
                if not line:
                    break  # EOF: the client half-closed; close our side too
                op, n = line.split()
                n = int(n)
                if op == b"GET":
                    mv = memoryview(BLOB)
                    for off in range(0, n, len(BLOB)):
                        conn.sendall(mv[: min(len(BLOB), n - off)])
                elif op == b"PUT":
                    h, left = hashlib.sha256(), n
                    while left:
                        got = f.readinto(memoryview(buf)[: min(len(buf), left)])
                        if not got:
                            return
                        h.update(memoryview(buf)[:got])
                        left -= got
                    conn.sendall(b"OK " + h.hexdigest().encode() + b"\n")
                elif op == b"ECHO":
                    left = n
                    while left:
                        chunk = f.read1(min(MiB, left))
                        if not chunk:
                            return
                        conn.sendall(chunk)
                        left -= len(chunk)
                else:
                    return
        except (OSError, ValueError):
            pass
        finally:
            f.close()
            conn.close()

    def close(self) -> None:
        self.sock.close()


# ---------------------------------------------------------------------------------------------------------
# The proxy process


def find_proxy(arg: str | None) -> str:
    if arg:
        return arg
    if os.environ.get("CACHESTEP_WAN_PROXY"):
        return os.environ["CACHESTEP_WAN_PROXY"]
    found = glob.glob(os.path.join(REPO, "build*", "bench", "wan_proxy", "cachestep-wan-proxy"))
    if not found:
        sys.exit("cachestep-wan-proxy not found: build it (ninja cachestep-wan-proxy) or pass --proxy")
    return max(found, key=os.path.getmtime)


def proc_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


class Proxy:
    extra: list[str] = []  # --proxy-arg: appended to every proxy's command line

    def __init__(self, binary: str, upstream_port: int, *args: str) -> None:
        self.args = [binary, "--upstream", f"127.0.0.1:{upstream_port}", "--port", "0", *args, *Proxy.extra]
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on 127.0.0.1:"):
            self.proc.kill()
            raise RuntimeError(f"proxy did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1])

    def cpu(self) -> float:
        return proc_cpu(self.proc.pid)

    def close(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        _, err = self.proc.communicate(timeout=10)
        return err

    def __enter__(self) -> "Proxy":
        return self

    def __exit__(self, *exc) -> None:
        if self.proc.poll() is None:
            self.close()


# ---------------------------------------------------------------------------------------------------------
# Client side


def connect(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_n(s: socket.socket, n: int, hash_it: bool = False) -> tuple[float, float, str | None]:
    """Receives exactly n bytes; returns (time of the first byte, time of the last, sha256 or None)."""
    buf = bytearray(MiB)
    mv = memoryview(buf)
    h = hashlib.sha256() if hash_it else None
    first = last = 0.0
    left = n
    while left:
        got = s.recv_into(mv, min(len(buf), left))
        if not got:
            raise RuntimeError(f"connection closed with {left} of {n} bytes left")
        last = time.monotonic()
        if left == n:
            first = last
        if h:
            h.update(mv[:got])
        left -= got
    return first, last, h.hexdigest() if h else None


def recv_line(s: socket.socket) -> tuple[float, bytes]:
    data = b""
    first = 0.0
    while not data.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed before a full line")
        if not data:
            first = time.monotonic()
        data += chunk
    return first, data


def get(s: socket.socket, n: int, hash_it: bool = False) -> tuple[float, float, float, str | None]:
    """GET n: returns (send time, first byte, last byte, sha)."""
    t0 = time.monotonic()
    s.sendall(b"GET %d\n" % n)
    first, last, sha = recv_n(s, n, hash_it)
    return t0, first, last, sha


def put(s: socket.socket, data: bytes | memoryview) -> tuple[float, float, str]:
    """PUT: returns (start, time the response's first byte arrived, the server's sha256)."""
    t0 = time.monotonic()
    s.sendall(b"PUT %d\n" % len(data))
    s.sendall(data)
    first, line = recv_line(s)
    return t0, first, line.split()[1].decode()


def put_pattern(s: socket.socket, n: int) -> tuple[float, float, str]:
    """PUT of n pattern bytes without building them in memory."""
    t0 = time.monotonic()
    s.sendall(b"PUT %d\n" % n)
    mv = memoryview(BLOB)
    for off in range(0, n, len(BLOB)):
        s.sendall(mv[: min(len(BLOB), n - off)])
    first, line = recv_line(s)
    return t0, first, line.split()[1].decode()


def echo(s: socket.socket, data: bytes) -> str:
    """Full duplex: a thread sends while this one receives; returns the sha256 of what came back."""
    s.sendall(b"ECHO %d\n" % len(data))
    sender = threading.Thread(target=lambda: s.sendall(data), daemon=True)
    sender.start()
    _, _, sha = recv_n(s, len(data), hash_it=True)
    sender.join()
    return sha


def mb_s(nbytes: float, seconds: float) -> float:
    return nbytes / seconds / 1e6 if seconds > 0 else float("inf")


# ---------------------------------------------------------------------------------------------------------
# The checks


def test_integrity(binary: str, up: Upstream) -> None:
    rnd = random.Random(7)
    payload = rnd.randbytes(12 * MiB + 12345)
    want = hashlib.sha256(payload).hexdigest()
    for label, args in (("unshaped", ("--rate", "0", "--latency", "0")),
                        ("shaped", ("--rate", "60e6", "--burst", "64KiB", "--latency", "2ms", "--buffer", "100000"))):
        with Proxy(binary, up.port, *args) as p:
            s = connect(p.port)
            ok = []
            for i in range(2):  # several exchanges on one kept-alive connection
                _, _, _, sha = get(s, 9 * MiB + 777, hash_it=True)
                ok.append(("GET", sha == pattern_sha(9 * MiB + 777)))
                _, _, sha = put(s, payload)
                ok.append(("PUT", sha == want))
                ok.append(("ECHO", echo(s, payload) == want))
                _, _, _, sha = get(s, 1, hash_it=True)
                ok.append(("GET 1", sha == pattern_sha(1)))
            s.close()
            bad = [name for name, good in ok if not good]
            check(f"integrity, {label}", not bad,
                  f"GET 9 MiB, PUT/ECHO 12 MiB random, GET 1 B, twice on one connection: "
                  f"{'all bytes equal' if not bad else 'corrupted: ' + ', '.join(bad)}")

            # Half-close: the client shuts its sending side after a request; the whole response still arrives,
            # then the upstream's EOF.
            s = connect(p.port)
            s.sendall(b"GET %d\n" % (3 * MiB))
            s.shutdown(socket.SHUT_WR)
            _, _, sha = recv_n(s, 3 * MiB, hash_it=True)
            s.settimeout(5)
            tail = s.recv(1)
            s.close()
            check(f"half-close, {label}", sha == pattern_sha(3 * MiB) and tail == b"",
                  f"response after SHUT_WR {'complete' if sha == pattern_sha(3 * MiB) else 'corrupt'}, "
                  f"then {'EOF' if tail == b'' else repr(tail)}")


def test_single_connection(binary: str, up: Upstream, tol: float) -> tuple[float, float]:
    """Defaults (90e6 B/s, 10 ms): one connection's download and upload rate, and the default latency."""
    rate, latency = 90e6, 0.010
    n = int(rate)  # one second's worth
    with Proxy(binary, up.port) as p:
        s = connect(p.port)
        get(s, 1000)  # the connection is set up
        lat = []
        for _ in range(5):
            t0, first, _, _ = get(s, 1000)
            lat.append(first - t0)
        check("default latency", min(lat) >= latency,
              f"5 small GETs, first byte after {', '.join(f'{x * 1e3:.1f}' for x in lat)} ms (>= 10 ms)")

        cpu0 = p.cpu()
        t0, first, last, sha = get(s, n)
        got = mb_s(n, last - first)
        check("one connection, download rate", abs(got / (rate / 1e6) - 1) <= tol,
              f"{n / 1e6:.0f} MB at {got:.1f} MB/s, cap {rate / 1e6:.0f} (+-{tol:.0%})")
        t0, first, sha = put_pattern(s, n)
        # The body leaves at the cap; the response is held `latency` after the last byte was forwarded.
        got_up = mb_s(n, first - t0 - latency)
        check("one connection, upload rate", abs(got_up / (rate / 1e6) - 1) <= tol and sha == pattern_sha(n),
              f"{n / 1e6:.0f} MB at {got_up:.1f} MB/s, cap {rate / 1e6:.0f} (+-{tol:.0%}), sha256 "
              f"{'equal' if sha == pattern_sha(n) else 'DIFFERENT'}")
        cpu = p.cpu() - cpu0
        s.close()
    return cpu, 2 * n


def test_parallel(binary: str, up: Upstream, rate: float, tol: float, conns: int = 4) -> tuple[float, float]:
    n = int(rate)  # one second each
    with Proxy(binary, up.port, "--rate", repr(rate), "--latency", "1ms") as p:
        socks = [connect(p.port) for _ in range(conns)]
        for s in socks:
            get(s, 1000)
        results: list[tuple[float, float, float, str | None]] = [None] * conns  # type: ignore[list-item]
        barrier = threading.Barrier(conns)

        def run(i: int) -> None:
            barrier.wait()
            results[i] = get(socks[i], n)

        cpu0 = p.cpu()
        threads = [threading.Thread(target=run, args=(i,)) for i in range(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cpu = p.cpu() - cpu0
        for s in socks:
            s.close()
    each = [mb_s(n, last - first) for _, first, last, _ in results]
    start = min(r[0] for r in results)
    end = max(r[2] for r in results)
    total = mb_s(conns * n, end - start)
    check(f"{conns} connections, each capped independently", all(abs(e / (rate / 1e6) - 1) <= tol for e in each),
          f"{', '.join(f'{e:.1f}' for e in each)} MB/s, cap {rate / 1e6:.0f} each (+-{tol:.0%})")
    check(f"{conns} connections, aggregate ~{conns}x", abs(total / (conns * rate / 1e6) - 1) <= tol,
          f"{total:.1f} MB/s = {total / (rate / 1e6):.2f}x one connection's cap")
    return cpu, conns * n


def test_catch_up(binary: str, up: Upstream) -> None:
    """A proxy stopped (SIGSTOP) for ~15 ms every 100 ms, as a busy machine may deschedule it, still holds the
    cap: the time it lost while bytes waited is made up (--catch-up, default 20 ms). Only stalls longer than
    catch-up + burst / rate may cost time; the stalls are timed here (a loaded machine stretches the sleeps) and
    the expected rate allows for that. A plain bucket (--catch-up 0) loses ~(stall - burst / rate) per stall:
    printed for comparison."""
    rate, n, catch_up, tau = 50e6, 100_000_000, 0.020, 256 * 1024 / 50e6
    got, stalls_of = {}, {}
    for label, extra in (("default", ()), ("--catch-up 0", ("--catch-up", "0"))):
        with Proxy(binary, up.port, "--rate", "50e6", "--latency", "1ms", *extra) as p:
            s = connect(p.port)
            get(s, 100)
            stop = threading.Event()
            stalls: list[float] = []

            def stall() -> None:
                while not stop.wait(0.085):
                    t0 = time.monotonic()
                    os.kill(p.proc.pid, signal.SIGSTOP)
                    time.sleep(0.015)
                    os.kill(p.proc.pid, signal.SIGCONT)
                    stalls.append(time.monotonic() - t0)

            staller = threading.Thread(target=stall)
            staller.start()
            try:
                _, first, last, _ = get(s, n)
            finally:
                stop.set()
                staller.join()
                os.kill(p.proc.pid, signal.SIGCONT)
            s.close()
            got[label], stalls_of[label] = mb_s(n, last - first), stalls
    stalls = stalls_of["default"]
    excess = sum(max(0.0, d - catch_up - tau) for d in stalls)
    expected = mb_s(n, n / rate + excess)
    check("catch-up: a stalled proxy keeps the cap", abs(got["default"] / expected - 1) <= 0.05,
          f"{len(stalls)} stalls of {min(stalls) * 1e3:.0f}-{max(stalls) * 1e3:.0f} ms: {got['default']:.1f} MB/s, "
          f"expected {expected:.1f} (cap {rate / 1e6:.0f}, less stall time beyond catch-up; +-5%); "
          f"with --catch-up 0: {got['--catch-up 0']:.1f} MB/s")


def test_latency(binary: str, up: Upstream) -> None:
    latency, connect_latency, rate = 0.020, 0.030, 20e6
    with Proxy(binary, up.port, "--latency", "20ms", "--connect-latency", "30ms", "--rate", "20e6",
               "--burst", "256KiB") as p:
        t0 = time.monotonic()
        s = connect(p.port)
        _, first, _, _ = get(s, 100)
        setup = first - t0
        check("new connection: connect latency + latency", setup >= connect_latency + latency,
              f"first byte {setup * 1e3:.1f} ms after connect() (>= {(connect_latency + latency) * 1e3:.0f} ms)")

        lat = []
        for i in range(20):
            t0, first, _, _ = get(s, 100 + 1000 * i)
            lat.append(first - t0)
        med = statistics.median(lat)
        check("every request's first byte >= latency", min(lat) >= latency,
              f"20 GETs on one connection: min {min(lat) * 1e3:.2f} ms, median {med * 1e3:.2f} ms, "
              f"max {max(lat) * 1e3:.2f} ms (latency {latency * 1e3:.0f} ms)")
        check("and not much later", med <= latency + 0.005,
              f"median {med * 1e3:.2f} ms <= {(latency + 0.005) * 1e3:.0f} ms")

        # An upload: the response waits `latency` after the last body byte, which leaves at the cap.
        n = 2 * MiB
        body = random.Random(8).randbytes(n)
        t0, first, sha = put(s, body)
        floor = (n - 256 * 1024) / rate + latency
        check("upload: response >= latency after the body", first - t0 >= floor and sha == hashlib.sha256(body).hexdigest(),
              f"2 MiB at 20e6 B/s: response after {(first - t0) * 1e3:.1f} ms (>= {floor * 1e3:.1f} ms: "
              f"(size - burst) / rate + latency)")

        # A large response: only its first byte waits; the rest streams at the cap.
        n = 4 * MiB
        t0, first, last, _ = get(s, n)
        check("large response: latency once, then the cap", first - t0 >= latency and
              abs(mb_s(n - 256 * 1024, last - first) / (rate / 1e6) - 1) <= 0.10,
              f"first byte {(first - t0) * 1e3:.1f} ms, then {mb_s(n - 256 * 1024, last - first):.1f} MB/s")
        s.close()

    # Latency 0 adds nothing measurable.
    with Proxy(binary, up.port, "--latency", "0", "--rate", "0") as p:
        s = connect(p.port)
        get(s, 100)
        lat = []
        for _ in range(20):
            t0, first, _, _ = get(s, 100)
            lat.append(first - t0)
        s.close()
        check("latency 0: pass-through", statistics.median(lat) < 0.003,
              f"median first byte {statistics.median(lat) * 1e3:.2f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--proxy", help="the cachestep-wan-proxy binary")
    ap.add_argument("--rate-tolerance", type=float, default=0.10)
    ap.add_argument("--parallel-rate", type=float, default=40e6,
                    help="per-connection cap for the 4-connection check (default 40e6: 160 MB/s in all, which "
                         "this Python client sustains on a busy 2-core machine)")
    ap.add_argument("--proxy-arg", action="append", default=[], metavar="ARG",
                    help="add ARG to every proxy's command line, e.g. --proxy-arg=--copy (repeatable)")
    args = ap.parse_args()
    Proxy.extra = args.proxy_arg
    binary = find_proxy(args.proxy)
    print(f"proxy: {binary} {' '.join(Proxy.extra)}", flush=True)
    up = Upstream()
    test_integrity(binary, up)
    cpu1, bytes1 = test_single_connection(binary, up, args.rate_tolerance)
    cpu4, bytes4 = test_parallel(binary, up, args.parallel_rate, args.rate_tolerance)
    test_latency(binary, up)
    test_catch_up(binary, up)
    up.close()
    print(f"proxy CPU: {cpu1 / (bytes1 / 1e9):.3f} s per GB at 1 x 90 MB/s, "
          f"{cpu4 / (bytes4 / 1e9):.3f} s per GB at 4 x {args.parallel_rate / 1e6:.0f} MB/s", flush=True)
    print(f"{'FAILED: ' + ', '.join(failures) if failures else 'all checks passed'}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
