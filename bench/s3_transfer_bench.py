#!/usr/bin/env python3
"""S3 transfer benchmark: cache-step cp beside `aws s3 cp` (v1 and v2) and `rclone copyto`, same loopback server.

One incompressible file (1 GiB by default, AES-CTR keystream, as tests/integration/test_cp.py makes it) is
uploaded (file -> s3://bucket/key) and downloaded (s3 -> file) by every client, interleaved (A B C, B C A, ..)
for N rounds after one warm-up round. Each run is measured on the child with os.wait4: wall time, user+sys CPU
seconds, peak RSS (ru_maxrss). The server's CPU (its processes' /proc/<pid>/stat) and the whole machine's
(/proc/stat) are read around each run, so one can tell a client-bound run from a server-bound one.

Targets (issue #6): cache-step's client CPU per GB at most a quarter of aws-cli's (checked against v1 and v2
separately), and its peak RSS at most 64 MiB + part size x window, the window being
min(concurrency, memory limit / part size) with the defaults read from `cache-step cp --help`.

Standard library only; needs the clients on the machine (`./run bench-s3` installs awscli and rclone).
Credentials go to the clients through their environment only; nothing here prints them.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import git_state, sha256_file  # noqa: E402  (the git state and binary digest each result records)

ROOT = Path(__file__).resolve().parent.parent
SERVERS_DIR = ROOT / "tests" / "servers"
SERVERS = ("s3rver-sigv4", "s3rver", "rgw", "moto")
MiB = 1 << 20
GiB = 1 << 30
CLK_TCK = os.sysconf("SC_CLK_TCK")
# The same keystream as tests/integration/test_cp.py: deterministic, incompressible, fast to make.
GENERATOR = ("openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff -iv 0 -in /dev/zero "
             "2>/dev/null | head -c {size}")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def parse_size(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B?|B)?\s*", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"not a size: {text}")
    unit = (m.group(2) or "B").upper().rstrip("B").replace("I", "")
    mult = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}[unit]
    return int(float(m.group(1)) * mult)


# ---------------------------------------------------------------------------------------------- server

@dataclass
class Server:
    name: str
    env_file: Path
    endpoint: str
    region: str
    access_key: str
    secret_key: str
    bucket: str
    ca_bundle: str | None
    started_by_us: bool
    state_dir: Path

    @classmethod
    def from_env_file(cls, path: Path, started_by_us: bool) -> "Server":
        values = {}
        for line in path.read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                values[k.strip()] = v.strip()
        return cls(name=path.stem, env_file=path, endpoint=values["S3_ENDPOINT"],
                   region=values.get("S3_REGION", "us-east-1"), access_key=values["S3_ACCESS_KEY"],
                   secret_key=values["S3_SECRET_KEY"], bucket=values["S3_BUCKET"],
                   ca_bundle=values.get("S3_CA_BUNDLE") or None, started_by_us=started_by_us,
                   state_dir=path.parent)

    def pids(self) -> list[int]:
        """The server's processes, as tests/servers/lib.sh records them: <server>.pid names a process group
        (Node servers, moto); rgw's daemons (mon, osd, radosgw) write their own PID files under rgw-data/run."""
        pids: set[int] = set()
        pidfile = self.state_dir / f"{self.name}.pid"
        try:
            pgid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            pgid = None
        if pgid is not None:
            for entry in Path("/proc").iterdir():
                if entry.name.isdigit():
                    st = proc_stat(int(entry.name))
                    if st and st["pgrp"] == pgid:
                        pids.add(int(entry.name))
        for f in (self.state_dir / f"{self.name}-data" / "run").glob("*.pid"):
            try:
                pids.add(int(f.read_text().strip()))
            except (OSError, ValueError):
                pass
        return sorted(p for p in pids if proc_stat(p))

    def scrub(self, text: str) -> str:
        for secret in (self.secret_key, self.access_key):
            if secret:
                text = text.replace(secret, "<redacted>")
        return text


def proc_stat(pid: int) -> dict | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = raw[raw.rindex(")") + 2:].split()  # comm may hold spaces: cut after the last ')'
    # rest[0] = state (field 3); utime/stime are fields 14/15
    return {"state": rest[0], "pgrp": int(rest[2]), "utime": int(rest[11]), "stime": int(rest[12])}


def cpu_seconds_of(pids: list[int]) -> float:
    total = 0
    for p in pids:
        st = proc_stat(p)
        if st:
            total += st["utime"] + st["stime"]
    return total / CLK_TCK


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (all cores), idle and iowait excluded."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def start_server(name: str, state_dir: Path) -> Server:
    script = SERVERS_DIR / f"{name}.sh"
    log(f"== starting {name} ({script.relative_to(ROOT)} start {state_dir})")
    t0 = time.monotonic()
    subprocess.run([str(script), "start", str(state_dir)], check=True, stdin=subprocess.DEVNULL)
    log(f"   ready in {time.monotonic() - t0:.1f} s")
    return Server.from_env_file(state_dir / f"{name}.env", started_by_us=True)


def stop_server(server: Server) -> None:
    if not server.started_by_us:
        return
    log(f"== stopping {server.name}")
    subprocess.run([str(SERVERS_DIR / f"{server.name}.sh"), "stop", str(server.state_dir)],
                   stdin=subprocess.DEVNULL, check=False)


# ---------------------------------------------------------------------------------------------- clients

@dataclass
class Client:
    name: str
    family: str                  # cache-step | aws-cli-v1 | aws-cli-v2 | rclone
    upload: list[str]            # argv with {src} {dst} placeholders
    download: list[str]
    env: dict[str, str]
    note: str = ""
    does_download: bool = True
    is_default: bool = False     # cache-step with default flags: the one the targets apply to


def base_env() -> dict[str, str]:
    """The benchmark's environment minus anything that could change a client's behaviour (AWS profiles,
    proxies, rclone settings)."""
    drop = ("AWS_", "RCLONE_", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def aws_env(server: Server) -> dict[str, str]:
    env = base_env()
    env.update(AWS_ACCESS_KEY_ID=server.access_key, AWS_SECRET_ACCESS_KEY=server.secret_key,
               AWS_DEFAULT_REGION=server.region, AWS_REGION=server.region, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null", AWS_PAGER="")
    if server.ca_bundle:
        env["AWS_CA_BUNDLE"] = server.ca_bundle
    return env


def rclone_env(server: Server, config_file: Path) -> dict[str, str]:
    """An on-the-fly remote `csbench:` from RCLONE_CONFIG_CSBENCH_* variables; no AWS_* at all (the
    equivalent of `env -u AWS_CA_BUNDLE rclone`), a CA bundle goes as --ca-cert instead."""
    env = base_env()
    env.update(RCLONE_CONFIG=str(config_file), RCLONE_CONFIG_CSBENCH_TYPE="s3", RCLONE_CONFIG_CSBENCH_PROVIDER="Other",
               RCLONE_CONFIG_CSBENCH_ENDPOINT=server.endpoint, RCLONE_CONFIG_CSBENCH_REGION=server.region,
               RCLONE_CONFIG_CSBENCH_ACCESS_KEY_ID=server.access_key,
               RCLONE_CONFIG_CSBENCH_SECRET_ACCESS_KEY=server.secret_key,
               RCLONE_CONFIG_CSBENCH_FORCE_PATH_STYLE="true", RCLONE_CONFIG_CSBENCH_NO_CHECK_BUCKET="true")
    return env


# cache-step variants: name -> extra flags, to price the integrity options (the issue: "measure both" payload
# signing and checksums over plain HTTP). What "default" does is whatever `cache-step cp --help` says of
# --sign-payload auto (recorded in the results); at the time of writing: a CRC32C per part, and the body's
# SHA-256 signed only over plain HTTP without a checksum. "never" is kept for older builds, where auto signed
# every plain-HTTP body.
VARIANTS = {
    "default": [],
    "md5": ["--checksum", "md5"],
    "always": ["--sign-payload", "always"],
    "never": ["--sign-payload", "never"],
    "bare": ["--sign-payload", "never", "--checksum", "none"],
}


def resolve_aws_v1() -> str | None:
    """The aws on PATH when it is not Debian's. A pyenv shim is a bash script that runs pyenv before the real
    entry point (extra processes and ~0.1 s of CPU per call): use the real script, `pyenv which aws`."""
    found = shutil.which("aws")
    if not found or found.startswith(("/usr/bin", "/bin")):
        return None
    if "/shims/" in found:
        try:
            real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True, check=True).stdout.strip()
            if real:
                return real
        except (OSError, subprocess.CalledProcessError):
            pass
    return found


def make_clients(args, server: Server, cache_step: str, workdir: Path) -> list[Client]:
    clients: list[Client] = []
    common = ["--endpoint", server.endpoint, "--path-style", "-q"]
    env = aws_env(server)
    variants = args.variants.split(",") if args.variants else ["default", "md5", "always", "bare"]
    for v in variants:
        if v not in VARIANTS:
            sys.exit(f"unknown variant {v} (known: {', '.join(VARIANTS)})")
        name = "cache-step" if v == "default" else f"cache-step {' '.join(VARIANTS[v])}"
        clients.append(Client(name=name, family="cache-step",
                              upload=[cache_step, "cp", "{src}", "{dst}", *common, *VARIANTS[v]],
                              download=[cache_step, "cp", "{src}", "{dst}", *common, *VARIANTS[v]],
                              env=env, is_default=(v == "default"),
                              # the flags only touch the upload path (no download checksum yet): one download row
                              does_download=(v == "default" or args.download_variants)))
    aws_common = ["--endpoint-url", server.endpoint, "--only-show-errors"]
    v1 = resolve_aws_v1()
    if v1:
        clients.append(Client("aws-cli-v1", "aws-cli-v1", [v1, "s3", "cp", "{src}", "{dst}", *aws_common],
                              [v1, "s3", "cp", "{src}", "{dst}", *aws_common], env, note=v1))
    else:
        log("   aws-cli v1 (aws on PATH, not /usr/bin) not found: skipped")
    if os.path.exists("/usr/bin/aws"):
        clients.append(Client("aws-cli-v2", "aws-cli-v2", ["/usr/bin/aws", "s3", "cp", "{src}", "{dst}", *aws_common],
                              ["/usr/bin/aws", "s3", "cp", "{src}", "{dst}", *aws_common], env, note="/usr/bin/aws"))
    else:
        log("   /usr/bin/aws (aws-cli v2, Debian's awscli) not found: skipped (./run bench-s3 installs it)")
    rclone = shutil.which("rclone")
    if rclone:
        conf = workdir / "rclone.conf"
        conf.write_text("")
        extra = ["--ca-cert", server.ca_bundle] if server.ca_bundle else []
        clients.append(Client("rclone", "rclone", [rclone, "copyto", "-q", *extra, "{src}", "{dst}"],
                              [rclone, "copyto", "-q", *extra, "{src}", "{dst}"], rclone_env(server, conf),
                              note=rclone))
    else:
        log("   rclone not found: skipped (./run bench-s3 installs it)")
    if args.clients:
        wanted = set(args.clients.split(","))
        clients = [c for c in clients if c.name in wanted or c.family in wanted]
    return clients


def tool_version(argv: list[str], env: dict[str, str]) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        return (r.stdout or r.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


# ---------------------------------------------------------------------------------------------- measuring

@dataclass
class Run:
    client: str
    direction: str
    round: int          # 0 = warm-up
    ok: bool
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_kib: int
    server_cpu_s: float | None
    machine_busy_s: float
    error: str = ""
    verified: bool | None = None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


def measure(argv: list[str], env: dict[str, str], server: Server, server_pids: list[int], workdir: Path):
    out_path, err_path = workdir / "child.out", workdir / "child.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        srv0 = cpu_seconds_of(server_pids) if server_pids else None
        busy0 = machine_busy_seconds()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=workdir)
        # wait4: the child's own rusage plus any descendants it reaped (none of these clients spawns any)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        busy1 = machine_busy_seconds()
        srv1 = cpu_seconds_of(server_pids) if server_pids else None
        proc.returncode = os.waitstatus_to_exitcode(status)
    error = ""
    if proc.returncode != 0:
        tail = (err_path.read_bytes()[-2000:] + out_path.read_bytes()[-500:]).decode(errors="replace")
        error = server.scrub(f"exit {proc.returncode}: {tail.strip()}")
    return dict(ok=proc.returncode == 0, wall_s=wall, cpu_user_s=ru.ru_utime, cpu_sys_s=ru.ru_stime,
                peak_rss_kib=ru.ru_maxrss, server_cpu_s=(srv1 - srv0) if srv0 is not None else None,
                machine_busy_s=busy1 - busy0, error=error)


class Bench:
    def __init__(self, args, server: Server, clients: list[Client], cache_step: str, workdir: Path, data_dir: Path):
        self.args, self.server, self.clients, self.cache_step = args, server, clients, cache_step
        self.workdir, self.data_dir = workdir, data_dir
        self.prefix = f"bench-{uuid.uuid4().hex[:10]}/"
        self.source = data_dir / "source.bin"
        self.source_sha = ""
        self.runs: list[Run] = []
        self.server_pids = server.pids()
        self.rm_tool = resolve_aws_v1() or ("/usr/bin/aws" if os.path.exists("/usr/bin/aws") else None)

    def url(self, key: str) -> str:
        return f"s3://{self.server.bucket}/{self.prefix}{key}"

    def rclone_url(self, key: str) -> str:
        return f"csbench:{self.server.bucket}/{self.prefix}{key}"

    def remote(self, client: Client, key: str) -> str:
        return self.rclone_url(key) if client.family == "rclone" else self.url(key)

    def make_source(self) -> None:
        log(f"== making {self.args.size} bytes of AES-CTR keystream in {self.source}")
        subprocess.run(GENERATOR.format(size=self.args.size) + f" > '{self.source}'", shell=True, check=True)
        if self.source.stat().st_size != self.args.size:
            sys.exit(f"made {self.source.stat().st_size} bytes, wanted {self.args.size}")
        self.source_sha = sha256_file(self.source)

    def delete(self, key: str) -> None:
        """Removes an object (outside any measurement) so the server's disk does not fill up."""
        if not self.rm_tool:
            return
        argv = [self.rm_tool, "--endpoint-url", self.server.endpoint, "s3", "rm", self.url(key), "--only-show-errors"]
        r = subprocess.run(argv, env=aws_env(self.server), capture_output=True, text=True)
        if r.returncode != 0:
            log(f"   warning: could not delete {self.prefix}{key}: {self.server.scrub(r.stderr.strip())[:300]}")

    def cache_step_download(self, key: str, dst: Path) -> bool:
        argv = [self.cache_step, "cp", self.url(key), str(dst), "--endpoint", self.server.endpoint, "--path-style", "-q"]
        r = subprocess.run(argv, env=aws_env(self.server), capture_output=True, text=True)
        if r.returncode != 0:
            log(f"   cache-step download of {key} failed: {self.server.scrub(r.stderr.strip())[:500]}")
        return r.returncode == 0

    def settle(self) -> None:
        """Between runs: flush dirty pages (the server's writes, a deleted download's) so one run's writeback
        does not land in the next one's measurement."""
        os.sync()
        time.sleep(self.args.pause)

    def one(self, client: Client, direction: str, rnd: int) -> Run:
        key = f"up-{re.sub(r'[^a-z0-9]+', '-', client.name)}-r{rnd}" if direction == "upload" else "source.bin"
        dst_file = self.data_dir / "download.bin"
        if direction == "upload":
            subst = {"{src}": str(self.source), "{dst}": self.remote(client, key)}
        else:
            dst_file.unlink(missing_ok=True)
            subst = {"{src}": self.remote(client, key), "{dst}": str(dst_file)}
        argv = [subst.get(a, a) for a in (client.upload if direction == "upload" else client.download)]
        m = measure(argv, client.env, self.server, self.server_pids, self.workdir)
        run = Run(client=client.name, direction=direction, round=rnd, **m)
        if run.ok:
            if direction == "download":
                size = dst_file.stat().st_size if dst_file.exists() else -1
                if size != self.args.size:
                    run.ok, run.error = False, f"downloaded {size} bytes, expected {self.args.size}"
                elif rnd == 0:  # once per client: the bytes themselves
                    run.verified = sha256_file(dst_file) == self.source_sha
                    if not run.verified:
                        run.ok, run.error = False, "downloaded bytes differ from the source (sha256)"
            elif rnd == 0:  # once per client: read the upload back with cache-step and compare
                check = self.data_dir / "verify.bin"
                check.unlink(missing_ok=True)
                run.verified = self.cache_step_download(key, check) and sha256_file(check) == self.source_sha
                check.unlink(missing_ok=True)
                if not run.verified:
                    run.ok, run.error = False, "the uploaded object does not read back as the source (sha256)"
        if direction == "upload":
            self.delete(key)
        else:
            dst_file.unlink(missing_ok=True)
        self.runs.append(run)
        self.report_run(run)
        self.settle()
        return run

    def report_run(self, r: Run) -> None:
        tag = "warm-up" if r.round == 0 else f"round {r.round}/{self.args.rounds}"
        srv = f", server {r.server_cpu_s:.1f} CPU s ({r.server_cpu_s / r.wall_s:.2f} cores)" if r.server_cpu_s is not None else ""
        ver = {True: ", bytes verified", False: ", VERIFY FAILED", None: ""}[r.verified]
        status = "" if r.ok else f"  FAILED: {r.error[:400]}"
        log(f"   [{tag}] {r.direction:8} {r.client:42} {r.wall_s:7.2f} s  CPU {r.cpu_s:6.2f} s  "
            f"RSS {r.peak_rss_kib / 1024:6.1f} MiB{srv}{ver}{status}")

    def run_all(self) -> None:
        # The download source: written once by cache-step with default flags (what a restore reads).
        log("== uploading the download source with cache-step (default flags)")
        argv = [self.cache_step, "cp", str(self.source), self.url("source.bin"), "--endpoint", self.server.endpoint,
                "--path-style", "-q"]
        r = subprocess.run(argv, env=aws_env(self.server), capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("could not upload the download source: " + self.server.scrub(r.stderr)[:1000])
        self.settle()
        for rnd in range(0, self.args.rounds + 1):
            log(f"== {'warm-up round' if rnd == 0 else f'round {rnd}/{self.args.rounds}'}")
            # The order rotates each round: the first download follows the upload phase, whose writes the
            # kernel is still flushing, and no client should always be the one that pays for it.
            uploaders = rotated(self.clients, rnd)
            downloaders = rotated([c for c in self.clients if c.does_download], rnd)
            for c in uploaders:
                self.one(c, "upload", rnd)
            for c in downloaders:
                self.one(c, "download", rnd)
        self.delete("source.bin")


def rotated(items: list, shift: int) -> list:
    if not items:
        return items
    shift %= len(items)
    return items[shift:] + items[:shift]


# ---------------------------------------------------------------------------------------------- reporting

# A run during which the rest of the machine kept more than this many cores busy is counted as noisy.
NOISY_OTHER_CORES = 0.25


def summarise(runs: list[Run], clients: list[Client], size: int) -> dict:
    out: dict = {}
    for direction in ("upload", "download"):
        rows = {}
        for c in clients:
            rs = [r for r in runs if r.client == c.name and r.direction == direction and r.round > 0]
            if not rs:
                continue
            good = [r for r in rs if r.ok]
            row = {"client": c.name, "family": c.family, "runs": len(rs), "failed": len(rs) - len(good)}
            if good:
                walls = [r.wall_s for r in good]
                cpus = [r.cpu_s for r in good]
                srv = [r.server_cpu_s for r in good if r.server_cpu_s is not None]
                row.update(
                    wall_median_s=statistics.median(walls), wall_min_s=min(walls), wall_max_s=max(walls),
                    mb_per_s=size / 1e6 / statistics.median(walls),
                    cpu_median_s=statistics.median(cpus), cpu_min_s=min(cpus), cpu_max_s=max(cpus),
                    cpu_user_median_s=statistics.median(r.cpu_user_s for r in good),
                    cpu_sys_median_s=statistics.median(r.cpu_sys_s for r in good),
                    cpu_s_per_gib=statistics.median(cpus) / (size / GiB),
                    cpu_s_per_gb=statistics.median(cpus) / (size / 1e9),
                    peak_rss_mib=max(r.peak_rss_kib for r in good) / 1024,
                    server_cpu_median_s=statistics.median(srv) if srv else None,
                    server_cores=statistics.median(r.server_cpu_s / r.wall_s for r in good) if srv else None,
                    client_cores=statistics.median(r.cpu_s / r.wall_s for r in good),
                    noisy_runs=sum(1 for r in good if (r.machine_busy_s - r.cpu_s - (r.server_cpu_s or 0.0)) / r.wall_s
                                   > NOISY_OTHER_CORES),
                    other_cores=statistics.median(
                        max(0.0, r.machine_busy_s - r.cpu_s - (r.server_cpu_s or 0.0)) / r.wall_s for r in good),
                )
            rows[c.name] = row
        peers = [n for n in ("aws-cli-v1", "aws-cli-v2", "rclone") if n in rows and "wall_median_s" in rows[n]]
        for row in rows.values():
            if row["family"] == "cache-step" and "wall_median_s" in row:
                row["vs"] = {p: {"wall": row["wall_median_s"] / rows[p]["wall_median_s"],
                                 "cpu": row["cpu_median_s"] / rows[p]["cpu_median_s"]} for p in peers}
        out[direction] = rows
    return out


def fmt_table(direction: str, rows: dict, has_server: bool) -> str:
    peers = [p for p in ("aws-cli-v1", "aws-cli-v2", "rclone") if p in rows and "wall_median_s" in rows[p]]
    short = {"aws-cli-v1": "v1", "aws-cli-v2": "v2", "rclone": "rclone"}
    head = ["client", "wall s (min-max)", "MB/s", "CPU s (usr+sys)", "CPU s/GiB", "peak RSS MiB"]
    if has_server:
        head += ["srv CPU s", "srv cores", "other cores"]
    head += [f"wall/{short[p]}" for p in peers] + [f"CPU/{short[p]}" for p in peers]
    lines = [head]
    for row in rows.values():
        if "wall_median_s" not in row:
            lines.append([row["client"], f"all {row['runs']} runs failed"] + [""] * (len(head) - 2))
            continue
        cells = [row["client"] + (f" ({row['failed']} failed)" if row["failed"] else ""),
                 f"{row['wall_median_s']:.2f} ({row['wall_min_s']:.2f}-{row['wall_max_s']:.2f})",
                 f"{row['mb_per_s']:.0f}",
                 f"{row['cpu_median_s']:.2f} ({row['cpu_user_median_s']:.2f}+{row['cpu_sys_median_s']:.2f})",
                 f"{row['cpu_s_per_gib']:.2f}", f"{row['peak_rss_mib']:.1f}"]
        if has_server:
            cells += [f"{row['server_cpu_median_s']:.2f}" if row["server_cpu_median_s"] is not None else "-",
                      f"{row['server_cores']:.2f}" if row["server_cores"] is not None else "-",
                      f"{row['other_cores']:.2f}"]
        vs = row.get("vs", {})
        cells += [f"{vs[p]['wall']:.2f}" if p in vs else "" for p in peers]
        cells += [f"{vs[p]['cpu']:.2f}" if p in vs else "" for p in peers]
        lines.append(cells)
    noisy = {row["client"]: row["noisy_runs"] for row in rows.values() if row.get("noisy_runs")}
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    text = [f"{direction}: medians of the measured rounds, peak RSS the max; ratios = cache-step / peer (below 1 is "
            f"better); srv = the server's processes, other = the rest of the machine (noise), in cores busy"]
    for i, l in enumerate(lines):
        text.append("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(l)))
        if i == 0:
            text.append("  ".join("-" * w for w in widths))
    if noisy:
        text.append(f"noisy (other processes > {NOISY_OTHER_CORES} cores busy during the run): " +
                    ", ".join(f"{c} {n} of its runs" for c, n in noisy.items()))
    return "\n".join(text)


def cache_step_defaults(cache_step: str) -> dict:
    """part size, concurrency and memory limit as `cache-step cp --help` prints their defaults."""
    text = subprocess.run([cache_step, "cp", "--help"], capture_output=True, text=True).stdout
    found = {}
    for flag, key in (("--part-size", "part_size"), ("--concurrency", "concurrency"), ("--memory-limit", "memory_limit")):
        m = re.search(re.escape(flag) + r"\s+\S+?=(\S+)", text)
        if m:
            found[key] = parse_size(m.group(1)) if key != "concurrency" else int(m.group(1))
    # Fallback: engine/include/cachestep/engine/config.hpp's defaults as of this writing.
    found.setdefault("part_size", 8 * MiB)
    found.setdefault("concurrency", 8)
    found.setdefault("memory_limit", 96 * MiB)
    found["integrity_help"] = [l.strip() for l in text.splitlines() if l.strip().startswith(("--checksum", "--sign-payload"))]
    found["window"] = min(found["concurrency"], found["memory_limit"] // found["part_size"])
    found["rss_limit_mib"] = 64 + found["part_size"] * found["window"] / MiB
    return found


def check_targets(summary: dict, defaults: dict) -> list[dict]:
    results = []
    for direction, rows in summary.items():
        ours = next((r for r in rows.values() if r["family"] == "cache-step" and r["client"] == "cache-step"), None)
        if not ours or "cpu_median_s" not in ours:
            continue
        for peer in ("aws-cli-v1", "aws-cli-v2"):
            if peer in rows and "cpu_median_s" in rows[peer]:
                ratio = ours["cpu_median_s"] / rows[peer]["cpu_median_s"]
                results.append({"target": f"{direction}: client CPU/GB <= 0.25 x {peer}", "value": round(ratio, 3),
                                "limit": 0.25, "pass": ratio <= 0.25,
                                "detail": f"{ours['cpu_s_per_gb']:.2f} vs {rows[peer]['cpu_s_per_gb']:.2f} CPU s/GB"})
        results.append({"target": f"{direction}: peak RSS <= 64 MiB + {defaults['part_size'] // MiB} MiB x "
                                  f"{defaults['window']} = {defaults['rss_limit_mib']:.0f} MiB",
                        "value": round(ours["peak_rss_mib"], 1), "limit": defaults["rss_limit_mib"],
                        "pass": ours["peak_rss_mib"] <= defaults["rss_limit_mib"],
                        "detail": f"{ours['peak_rss_mib']:.1f} MiB (max over the measured rounds)"})
    return results


def spawn_floor(workdir: Path) -> int:
    """ru_maxrss of /bin/true spawned the same way: the floor any child reports (the kernel counts the parent's
    image the child ran in until exec), so tiny figures can be read against it."""
    dummy = Server("none", Path("/dev/null"), "", "", "", "", "", None, False, workdir)
    return measure(["/bin/true"], base_env(), dummy, [], workdir)["peak_rss_kib"]


# ---------------------------------------------------------------------------------------------- main

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    where = ap.add_mutually_exclusive_group()
    where.add_argument("--server", choices=SERVERS, default="s3rver-sigv4",
                       help="start tests/servers/<server>.sh in a fresh state dir, stop it at the end (default s3rver-sigv4)")
    where.add_argument("--env", type=Path, help="an already-running server's env file (S3_ENDPOINT, S3_ACCESS_KEY, ...)")
    ap.add_argument("--size", default="1GiB", help="file size (default 1GiB)")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds after the warm-up (default 3)")
    ap.add_argument("--tmpfs", action="store_true", help="keep the file (and downloads) in /dev/shm, not on disk")
    ap.add_argument("--workdir", type=Path, default=None, help="where the temp dir goes (default: the system temp dir)")
    ap.add_argument("--json", type=Path, default=None,
                    help="results file (default bench/results/s3_transfer_<server>_<timestamp>.json)")
    ap.add_argument("--cache-step", default=str(ROOT / "build/apps/cache-step/cache-step"),
                    help="the binary (copied into the temp dir first, so a rebuild mid-run changes nothing)")
    ap.add_argument("--variants", default="",
                    help=f"cache-step flag sets, comma-separated, from {', '.join(VARIANTS)} "
                         "(default: default,md5,always,bare)")
    ap.add_argument("--download-variants", action="store_true",
                    help="also download with every variant (the flags only change uploads; default: one download row)")
    ap.add_argument("--clients", default="", help="only these clients (names or families, comma-separated)")
    ap.add_argument("--pause", type=float, default=1.0, help="seconds between runs after sync (default 1)")
    args = ap.parse_args()
    args.size = parse_size(args.size)

    if not os.access(args.cache_step, os.X_OK):
        sys.exit(f"{args.cache_step} is not built: ./run build")
    base = Path("/dev/shm") if args.tmpfs else (args.workdir or Path(tempfile.gettempdir()))
    workdir = Path(tempfile.mkdtemp(prefix="cs-s3-bench-", dir=base))
    # Server state (s3rver keeps objects as files there, rgw its cluster) stays on disk even with --tmpfs.
    state_parent = args.workdir or Path(tempfile.gettempdir())
    state_dir = Path(tempfile.mkdtemp(prefix="cs-s3-bench-state-", dir=state_parent)) if not args.env else None
    cache_step = str(workdir / "cache-step")
    shutil.copy2(args.cache_step, cache_step)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    server = None
    try:
        if args.env:
            server = Server.from_env_file(args.env.resolve(), started_by_us=False)
        else:
            server = start_server(args.server, state_dir)
        clients = make_clients(args, server, cache_step, workdir)
        defaults = cache_step_defaults(cache_step)
        bench = Bench(args, server, clients, cache_step, workdir, workdir)
        versions = {c.name: tool_version([c.upload[0], "--version"] if c.family != "rclone" else [c.upload[0], "version"],
                                         c.env) for c in clients if c.family != "cache-step"}
        versions["cache-step"] = tool_version([cache_step, "--version"], base_env())
        meta = {
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "host": socket.gethostname(),
            "cores": os.cpu_count(), "server": server.name, "endpoint": server.endpoint,
            "server_pids": bench.server_pids, "size_bytes": args.size, "rounds": args.rounds,
            "file_dir": str(workdir), "tmpfs": args.tmpfs, "git": git_state(), "versions": versions,
            "cache_step_sha256": sha256_file(Path(cache_step)), "cache_step_defaults": defaults,
            "spawn_floor_rss_kib": spawn_floor(workdir), "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
            "clients": {c.name: {"upload": c.upload, "download": c.download if c.does_download else None}
                        for c in clients},
            "download_source": "uploaded once by cache-step with default flags",
        }
        log(f"== {server.name} at {server.endpoint}, server pids {bench.server_pids or 'unknown'}; "
            f"{len(clients)} clients: {', '.join(c.name for c in clients)}")
        log(f"   cache-step defaults: part {defaults['part_size'] // MiB} MiB, concurrency {defaults['concurrency']}, "
            f"memory limit {defaults['memory_limit'] // MiB} MiB -> window {defaults['window']}, RSS target "
            f"{defaults['rss_limit_mib']:.0f} MiB; spawn floor RSS {meta['spawn_floor_rss_kib'] / 1024:.1f} MiB")
        bench.make_source()
        bench.run_all()
        meta["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]

        summary = summarise(bench.runs, clients, args.size)
        targets = check_targets(summary, defaults)
        has_server = bool(bench.server_pids)
        print(f"\n{server.name} ({server.endpoint}), {args.size / GiB:g} GiB file in "
              f"{'/dev/shm' if args.tmpfs else 'a temp dir on disk'}, {args.rounds} rounds + warm-up, "
              f"{os.cpu_count()} cores, cache-step {versions['cache-step']} (git {meta['git']['head'][:10]}"
              f"{', dirty tree' if meta['git']['dirty'] else ''})")
        print(f"  peak RSS is ru_maxrss; any child reports at least {meta['spawn_floor_rss_kib'] / 1024:.0f} MiB here "
              f"(this harness's own RSS, inherited until exec)")
        for line in defaults["integrity_help"]:
            print(f"  cache-step cp {line}")
        for direction in ("upload", "download"):
            print()
            print(fmt_table(direction, summary[direction], has_server))
        print("\ntargets (cache-step with default flags):")
        for t in targets:
            print(f"  {'PASS' if t['pass'] else 'MISS'}  {t['target']}: {t['value']} ({t['detail']})")
        failed = [r for r in bench.runs if not r.ok]
        if failed:
            print(f"\n{len(failed)} failed runs:")
            for r in failed:
                print(f"  {r.direction} {r.client} round {r.round}: {r.error[:300]}")

        json_path = args.json or ROOT / "bench" / "results" / f"s3_transfer_{server.name}_{stamp}.json"
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps({
            "meta": meta, "summary": summary, "targets": targets,
            "runs": [{**r.__dict__, "cpu_s": r.cpu_s} for r in bench.runs]}, indent=1))
        print(f"\nresults: {json_path}")
        return 1 if failed else 0
    finally:
        if server:
            stop_server(server)
        shutil.rmtree(workdir, ignore_errors=True)
        if state_dir:
            # the server's log stays for post-mortems only while the dir exists; stop already removed the data
            shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
