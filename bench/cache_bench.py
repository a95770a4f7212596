#!/usr/bin/env python3
"""End-to-end cache benchmark: `cache-step save` / `cache-step restore` beside the pipelines a CI script would use
(tar | lz4 | aws s3 cp, v1 and v2, rclone rcat/cat, the Drone/Harness cache plugin or its emulation), against one
loopback S3 server, unshaped and through bench/wan_proxy (an S3-shaped link: 90e6 B/s per connection, 10 ms).

Per corpus (node_modules, the synthetic 100k tree from archive_bench.py, a Maven-like tree of jars, one 2 GiB
incompressible file) and profile (unshaped, wan): one warm-up round (every tool's restore verified against the
source) then --rounds rounds, tools interleaved (rotated each round), each tool a save under a fresh key then a
restore into an empty dir. Every run is a bash pipeline measured with os.wait4 (user+sys of the whole pipeline)
and GNU time (%M: peak RSS of its largest process), as in archive_bench.py. See bench/README.md.

Standard library only (plus the tools measured: tar, lz4, zstd, gzip, aws, rclone, curl).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import archive_bench as ab  # noqa: E402  (corpora, manifests, tree comparison, the CPU accounting)

ROOT = ab.ROOT
MiB = 1 << 20
GiB = 1 << 30
GNU_TIME = "/usr/bin/time"
CODEC_PIPES = {  # compress, decompress (the tar pipelines archive_bench.py measures); "" = no such stage
    "tar": ("", "", "tar"),
    "lz4": ("lz4 -1 -q -c", "lz4 -dc", "tar.lz4"),
    "zstd": ("zstd -T0 -q -c", "zstd -dc -q", "tar.zst"),
    "gzip": ("gzip -c", "gzip -dc", "tar.gz"),
}
ALL_CORPORA = ("node_modules", "synthetic", "maven", "big2g")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def newest(pattern: str) -> str | None:
    found = [p for p in ROOT.glob(pattern) if os.access(p, os.X_OK)]
    return str(max(found, key=lambda p: p.stat().st_mtime)) if found else None


# ---------------------------------------------------------------------------------------------- corpora

def ensure_big(cache_dir: Path, size: int, seed: int) -> ab.Corpus:
    """One incompressible file (SHAKE-256 of seed + block number, 16 MiB blocks): the same bytes everywhere."""
    base = cache_dir / f"big-{size}-seed{seed}"
    tree = base / "big2g"
    if not (tree / "blob.bin").exists():
        log(f"== big object: writing {size / GiB:.1f} GiB of SHAKE-256 output into {base}")
        tmp = base.with_name(base.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        (tmp / "big2g").mkdir(parents=True)
        block = 16 * MiB
        with open(tmp / "big2g" / "blob.bin", "wb") as f:
            left, i = size, 0
            while left > 0:
                n = min(block, left)
                f.write(hashlib.shake_256(f"cache-bench-{seed}-{i}".encode()).digest(n))
                left -= n
                i += 1
        shutil.rmtree(base, ignore_errors=True)
        tmp.rename(base)
    return ab.Corpus("big2g", tree, f"one {size} B file of SHAKE-256 output (seed {seed})")


def ensure_maven(cache_dir: Path, jars: int, seed: int) -> ab.Corpus:
    """A ~/.m2/repository-like tree: `jars` deflated jars (zipfile of class-like entries: a constant-pool-ish
    text part and random bytecode-ish bytes), each with a .pom and .sha1, seeded. ~300 MB for 2000 jars."""
    base = cache_dir / f"maven-{jars}j-seed{seed}"
    tree = base / "repository"
    if not tree.is_dir():
        log(f"== maven tree: generating {jars} jars (seed {seed}) into {base}")
        t0 = time.monotonic()
        rng = random.Random(seed)
        tmp = base.with_name(base.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        words = [("".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12))))
                 for _ in range(3000)]
        total = 0
        for j in range(jars):
            group = f"org/{words[j % 97]}/{words[(j * 7) % 389]}"
            art = f"{words[(j * 13) % 2999]}-{j % 50}"
            ver = f"{rng.randint(0, 9)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            d = tmp / "repository" / group / art / ver
            d.mkdir(parents=True, exist_ok=True)
            jar = d / f"{art}-{ver}.jar"
            target = int(min(8 * MiB, max(8 * 1024, rng.lognormvariate(11.85, 1.0))))  # bytes of class content
            with zipfile.ZipFile(jar, "w", zipfile.ZIP_DEFLATED) as z:
                z.writestr("META-INF/MANIFEST.MF", f"Manifest-Version: 1.0\nImplementation-Title: {art}\n")
                done, k = 0, 0
                while done < target:
                    n = min(target - done, rng.randint(1024, 24 * 1024))
                    text = " ".join(rng.choice(words) for _ in range(n // 16)).encode()[: n // 2]
                    body = b"\xca\xfe\xba\xbe" + text + rng.randbytes(n - len(text))
                    z.writestr(f"{group}/{art.replace('-', '_')}/C{k}.class", body)
                    done += n
                    k += 1
            (d / f"{art}-{ver}.pom").write_text(f"<project><groupId>{group}</groupId><artifactId>{art}</artifactId>"
                                                f"<version>{ver}</version></project>\n")
            data = jar.read_bytes()
            (d / f"{art}-{ver}.jar.sha1").write_text(hashlib.sha1(data).hexdigest() + "\n")
            total += len(data)
        (tmp / "params.json").write_text(json.dumps({"jars": jars, "seed": seed, "bytes": total}) + "\n")
        shutil.rmtree(base, ignore_errors=True)
        tmp.rename(base)
        log(f"   {total / 1e6:.0f} MB of jars in {time.monotonic() - t0:.0f} s")
    return ab.Corpus("repository", tree, f"{jars} deflated jars + pom + sha1 (seed {seed}), Maven layout")


# ---------------------------------------------------------------------------------------------- servers

@dataclass
class Server:
    kind: str
    endpoint: str
    access_key: str
    secret_key: str
    bucket: str
    region: str
    state: Path | None = None
    stop_cmd: list | None = None
    pid_file: Path | None = None

    def pids(self) -> list[int]:
        """The server's processes: its pid file names a process group (s3sink.sh, tests/servers)."""
        try:
            pgid = int(self.pid_file.read_text().strip()) if self.pid_file else None
        except (OSError, ValueError):
            return []
        if pgid is None:
            return []
        return [int(e.name) for e in Path("/proc").iterdir() if e.name.isdigit() and pgrp_of(int(e.name)) == pgid]


def proc_cpu_s(pid: int) -> float:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    rest = raw[raw.rindex(")") + 2:].split()
    return (int(rest[11]) + int(rest[12])) / ab.CLK_TCK


def pgrp_of(pid: int) -> int | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(raw[raw.rindex(")") + 2:].split()[2])


def read_env(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[7:]
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            out[k] = shlex.split(v)[0] if v else ""
    return out


def start_server(args, work: Path) -> Server:
    if args.endpoint:
        return Server("external", args.endpoint, args.access_key, args.secret_key, args.bucket, args.region)
    state = work / "server"
    if args.server == "s3sink":
        env = dict(os.environ)
        sink = os.environ.get("CACHESTEP_S3SINK") or newest("build*/bench/s3sink/cachestep-s3sink")
        if not sink:
            sys.exit("no cachestep-s3sink built (ninja -C build cachestep-s3sink)")
        env["CACHESTEP_S3SINK"] = sink
        script = ROOT / "bench" / "s3sink" / "s3sink.sh"
        subprocess.run([str(script), "start", str(state), "--threads", "2", "--preallocate", args.preallocate],
                       check=True, env=env, stdout=sys.stderr)
        e = read_env(state / "s3sink.env")
        stop = [str(script), "stop", str(state)]
        pid_file = state / "s3sink.pid"
    else:
        script = ROOT / "tests" / "servers" / f"{args.server}.sh"
        subprocess.run([str(script), "start", str(state)], check=True, stdout=sys.stderr)
        e = read_env(state / f"{args.server}.env")
        stop = [str(script), "stop", str(state)]
        pid_file = state / f"{args.server}.pid"
    return Server(args.server, e["S3_ENDPOINT"], e["S3_ACCESS_KEY"], e["S3_SECRET_KEY"], e["S3_BUCKET"],
                  e.get("S3_REGION", "us-east-1"), state, stop, pid_file)


class Proxy:
    def __init__(self, binary: str, upstream: str, work: Path, extra: list[str]):
        self.port_file = work / "wan.port"
        self.err = open(work / "wan.err", "wb")
        self.proc = subprocess.Popen([binary, "--upstream", upstream.split("://", 1)[1].rstrip("/"),
                                      "--port-file", str(self.port_file), *extra],
                                     stdout=subprocess.DEVNULL, stderr=self.err, start_new_session=True)
        for _ in range(200):
            if self.port_file.exists() and self.port_file.read_text().strip():
                break
            time.sleep(0.05)
        else:
            sys.exit("the WAN proxy did not start")
        self.endpoint = f"http://127.0.0.1:{self.port_file.read_text().strip()}"

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        return (self.port_file.parent / "wan.err").read_text(errors="replace").strip().splitlines()[-1:]


# ---------------------------------------------------------------------------------------------- tools

@dataclass
class Tool:
    name: str
    family: str          # cache-step | aws-cli-v1 | aws-cli-v2 | rclone | plugin | local | curl
    codec: str           # lz4 | zstd | gzip | tar
    save: str            # bash command templates: {src} {name} {dst} {key} {bucket} {ep} {obj}
    restore: str
    env: dict
    profiles: tuple = ("unshaped", "wan")
    note: str = ""


def base_env() -> dict[str, str]:
    drop = ("AWS_", "RCLONE_", "PLUGIN_", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy",
            "NO_PROXY")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def resolve_aws_v1() -> str | None:
    found = shutil.which("aws")
    if not found or found.startswith(("/usr/bin", "/bin")):
        return None
    if "/shims/" in found:
        r = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip():
            return r.stdout.strip()
    return found


def make_tools(args, srv: Server, work: Path, cs: str, corpus: str) -> list[Tool]:
    aws_conf = work / "aws.config"
    aws_conf.write_text("[default]\ns3 =\n    addressing_style = path\n")
    plug_conf = work / "aws-plugin.config"
    plug_conf.write_text("[default]\ns3 =\n    addressing_style = path\n    multipart_chunksize = 5MB\n"
                         "    max_concurrent_requests = 5\n")
    curl_conf = work / "curl.config"
    curl_conf.write_text(f'user = "{srv.access_key}:{srv.secret_key}"\naws-sigv4 = "aws:amz:{srv.region}:s3"\n'
                         'header = "x-amz-content-sha256: UNSIGNED-PAYLOAD"\nsilent\nshow-error\nfail\n')
    os.chmod(curl_conf, 0o600)
    aws = base_env()
    aws.update(AWS_ACCESS_KEY_ID=srv.access_key, AWS_SECRET_ACCESS_KEY=srv.secret_key, AWS_REGION=srv.region,
               AWS_DEFAULT_REGION=srv.region, AWS_CONFIG_FILE=str(aws_conf), AWS_SHARED_CREDENTIALS_FILE="/dev/null",
               AWS_PAGER="")
    plug_env = dict(aws, AWS_CONFIG_FILE=str(plug_conf))
    rclone = base_env()
    (work / "rclone.conf").write_text("")
    rclone.update(RCLONE_CONFIG=str(work / "rclone.conf"), RCLONE_CONFIG_CB_TYPE="s3", RCLONE_CONFIG_CB_PROVIDER="Other",
                  RCLONE_CONFIG_CB_ENDPOINT="{ep}", RCLONE_CONFIG_CB_REGION=srv.region,
                  RCLONE_CONFIG_CB_ACCESS_KEY_ID=srv.access_key, RCLONE_CONFIG_CB_SECRET_ACCESS_KEY=srv.secret_key,
                  RCLONE_CONFIG_CB_FORCE_PATH_STYLE="true", RCLONE_CONFIG_CB_NO_CHECK_BUCKET="true")
    v1, v2 = resolve_aws_v1(), ("/usr/bin/aws" if os.path.exists("/usr/bin/aws") else None)
    s3 = "--bucket {bucket} --endpoint {ep} --path-style -q"
    tools: list[Tool] = []
    if corpus == "big2g":
        f = "{src}/{name}/blob.bin"
        out = "mkdir -p {dst}/{name} && "
        tools.append(Tool("cache-step-cp", "cache-step", "raw", f"{cs} cp -q {f} s3://{{bucket}}/{{key}}/blob.bin "
                          "--endpoint {ep} --path-style",
                          out + f"{cs} cp -q s3://{{bucket}}/{{key}}/blob.bin {{dst}}/{{name}}/blob.bin "
                          "--endpoint {ep} --path-style", aws))
        for n, b in (("aws-cli-v1", v1), ("aws-cli-v2", v2)):
            if b:
                tools.append(Tool(n, n, "raw", f"{b} s3 cp --only-show-errors {f} s3://{{bucket}}/{{key}}/blob.bin "
                                  "--endpoint-url {ep}",
                                  out + f"{b} s3 cp --only-show-errors s3://{{bucket}}/{{key}}/blob.bin "
                                  "{dst}/{name}/blob.bin --endpoint-url {ep}", aws))
        if shutil.which("rclone"):
            tools.append(Tool("rclone", "rclone", "raw", f"rclone copyto -q {f} cb:{{bucket}}/{{key}}/blob.bin",
                              out + "rclone copyto -q cb:{bucket}/{key}/blob.bin {dst}/{name}/blob.bin", rclone))
        tools.append(Tool("single-stream", "curl", "raw",
                          f"curl -K {curl_conf} -T {f} {{ep}}/{{bucket}}/{{key}}/blob.bin -o /dev/null",
                          out + f"curl -K {curl_conf} {{ep}}/{{bucket}}/{{key}}/blob.bin -o {{dst}}/{{name}}/blob.bin",
                          aws, note="one PUT / one GET (curl --aws-sigv4)"))
        return tools
    for codec in args.codecs:
        fmt = f" --archive-format {codec}" if codec != "lz4" else ""
        tools.append(Tool(f"cache-step-{codec}", "cache-step", codec,
                          f"{cs} save --key {{key}} --source-path {{name}} -C {{src}} {s3}{fmt}",
                          f"{cs} restore --key {{key}} -C {{dst}} {s3}", aws))
    for codec in args.codecs:
        comp, decomp, ext = CODEC_PIPES[codec]
        tar_c = f"tar -C {{src}} -cf - {{name}}" + (f" | {comp}" if comp else "")
        tar_x = (f"{decomp} | " if decomp else "") + "tar -C {dst} -xf -"
        for n, b in (("aws-cli-v1", v1), ("aws-cli-v2", v2)):
            if b:
                tools.append(Tool(f"{n}-{codec}", n, codec,
                                  f"{tar_c} | {b} s3 cp --only-show-errors - s3://{{bucket}}/{{key}}/{{name}}.{ext} "
                                  "--endpoint-url {ep}",
                                  f"{b} s3 cp --only-show-errors s3://{{bucket}}/{{key}}/{{name}}.{ext} - "
                                  f"--endpoint-url {{ep}} | {tar_x}", aws))
        if shutil.which("rclone"):
            tools.append(Tool(f"rclone-{codec}", "rclone", codec,
                              f"{tar_c} | rclone rcat -q cb:{{bucket}}/{{key}}/{{name}}.{ext}",
                              f"rclone cat -q cb:{{bucket}}/{{key}}/{{name}}.{ext} | {tar_x}", rclone))
        # the local pipelines (no network): the fast-sink targets' yardstick; restore reads a prepared archive
        # (GNU tar writing to /dev/null itself skips reading the files: hence `| cat`.)
        local_c = f"{tar_c} > /dev/null" if comp else f"{tar_c} | cat > /dev/null"
        local_x = (f"{decomp} {{work}}/local.{ext} | tar -C {{dst}} -xf -" if decomp
                   else f"tar -C {{dst}} -xf {{work}}/local.{ext}")
        tools.append(Tool(f"local-{codec}", "local", codec, local_c, local_x, base_env(), profiles=("unshaped",),
                          note=f"tar c | {comp or 'cat'} > /dev/null ; {decomp + ' FILE | tar x' if decomp else 'tar xf FILE'}"))
    plugin = os.environ.get("CACHE_BENCH_PLUGIN")
    formats = ["tar"] + (["gzip"] if "gzip" in args.codecs else [])
    for fmt in formats:
        if plugin:
            penv = base_env()
            penv.update(PLUGIN_BACKEND="s3", PLUGIN_BUCKET=srv.bucket, PLUGIN_ENDPOINT="{ep}", PLUGIN_PATH_STYLE="true",
                        PLUGIN_ACCESS_KEY=srv.access_key, PLUGIN_SECRET_KEY=srv.secret_key, PLUGIN_REGION=srv.region,
                        PLUGIN_ARCHIVE_FORMAT=fmt, PLUGIN_OVERRIDE="false", PLUGIN_EXIT_CODE="true",
                        PLUGIN_BACKEND_OPERATION_TIMEOUT="3m", PLUGIN_MOUNT="{name}")
            tools.append(Tool(f"plugin-{fmt}", "plugin", fmt,
                              f"cd {{src}} && PLUGIN_REBUILD=true PLUGIN_CACHE_KEY={{key}} {plugin}",
                              f"mkdir -p {{dst}} && cd {{dst}} && PLUGIN_RESTORE=true PLUGIN_CACHE_KEY={{key}} {plugin}",
                              penv, note=plugin))
        elif v1:
            z = " | gzip -c" if fmt == "gzip" else ""
            uz = "gzip -dc | " if fmt == "gzip" else ""
            tools.append(Tool(f"plugin-emulated-{fmt}", "plugin", fmt,
                              f"tar -C {{src}} --format=posix -cf - {{name}}{z} | {v1} s3 cp --only-show-errors - "
                              "s3://{bucket}/{key}/{name} --endpoint-url {ep}",
                              f"curl -K {curl_conf} {{ep}}/{{bucket}}/{{key}}/{{name}} | {uz}tar -C {{dst}} -xf -",
                              plug_env, note="GNU tar --format=posix (close to Go's archive/tar) | aws-cli v1 5 MiB "
                              "parts x 5 up; one GET (curl --aws-sigv4) down"))
    return tools


# ---------------------------------------------------------------------------------------------- measuring

@dataclass
class Run:
    corpus: str
    profile: str
    tool: str
    op: str
    round: int
    ok: bool
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_kib: int
    other_cores: float
    server_cpu_s: float = 0.0
    proxy_cpu_s: float = 0.0
    error: str = ""
    verify: dict | None = None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


RUN_TIMEOUT_S = 900


def _alarm(signum, frame):
    raise TimeoutError


def measure(command: str, env: dict, logdir: Path, server_pids: list[int], proxy_pids: list[int]) -> dict:
    """archive_bench.measure with an environment: bash -c under GNU time, os.wait4 for the whole pipeline."""
    out_path, err_path, rss_path = logdir / "run.out", logdir / "run.err", logdir / "run.rss"
    argv = ["bash", "-c", "set -o pipefail; " + command]
    if os.access(GNU_TIME, os.X_OK):
        rss_path.unlink(missing_ok=True)
        argv = [GNU_TIME, "-f", "%M", "-o", str(rss_path)] + argv
    os.sync()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        srv0 = sum(map(proc_cpu_s, server_pids))
        prx0 = sum(map(proc_cpu_s, proxy_pids))
        busy0 = ab.machine_busy_seconds()
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=logdir, env=env,
                                start_new_session=True)
        timed_out = False
        signal.alarm(RUN_TIMEOUT_S)
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except TimeoutError:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, ru = os.wait4(proc.pid, 0)
            timed_out = True
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            raise
        finally:
            signal.alarm(0)
        wall = time.perf_counter() - t0
        busy1 = ab.machine_busy_seconds()
        srv_cpu = sum(map(proc_cpu_s, server_pids)) - srv0
        prx_cpu = sum(map(proc_cpu_s, proxy_pids)) - prx0
        rc = os.waitstatus_to_exitcode(status)
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # anything the pipeline left behind
        except ProcessLookupError:
            pass
    error = f"timed out after {RUN_TIMEOUT_S} s; " if timed_out else ""
    if rc != 0:
        error += f"exit {rc}: " + (err_path.read_bytes()[-1200:] + out_path.read_bytes()[-200:]).decode(errors="replace")
    cpu = ru.ru_utime + ru.ru_stime
    rss = ab.peak_rss_from_time(rss_path) if argv[0] == GNU_TIME else None
    return dict(ok=rc == 0, wall_s=wall, cpu_user_s=ru.ru_utime, cpu_sys_s=ru.ru_stime,
                peak_rss_kib=rss if rss is not None else ru.ru_maxrss,
                other_cores=max(0.0, busy1 - busy0 - cpu - srv_cpu - prx_cpu) / wall,
                server_cpu_s=srv_cpu, proxy_cpu_s=prx_cpu, error=error)


def fill(template: str, **kw) -> str:
    return template.format(**{k: (shlex.quote(str(v)) if k not in ("ep",) else v) for k, v in kw.items()})


class Bench:
    def __init__(self, args, srv: Server, cs: str, work: Path, proxy: Proxy | None):
        self.args, self.srv, self.cs, self.work, self.proxy = args, srv, cs, work, proxy
        self.runs: list[Run] = []
        self.server_pids = srv.pids()
        self.proxy_pids = [proxy.proc.pid] if proxy else []
        self.rm_env = base_env()
        self.rm_env.update(AWS_ACCESS_KEY_ID=srv.access_key, AWS_SECRET_ACCESS_KEY=srv.secret_key,
                           AWS_REGION=srv.region)

    def delete(self, key: str) -> None:
        """Every object under key/ (cache-step rm, directly against the server; not timed)."""
        subprocess.run([self.cs, "rm", key, "--bucket", self.srv.bucket, "--endpoint", self.srv.endpoint,
                        "--path-style", "-q"], env=self.rm_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def corpus(self, corpus: ab.Corpus, label: str, src_parent: Path, want: dict, profiles: list[str],
               restore_bases: list[tuple[str, Path]]) -> None:
        args = self.args
        for profile in profiles:
            ep = self.proxy.endpoint if profile == "wan" else self.srv.endpoint
            tools = [t for t in make_tools(args, self.srv, self.work, self.cs, label) if profile in t.profiles]
            for place, rbase in restore_bases:
                tag = profile if place == "tmpfs" else f"{profile}/{place}"
                log(f"== {label} / {tag}: {', '.join(t.name for t in tools)}")
                for rnd in range(args.rounds + 1):
                    for tool in ab.rotated(tools, rnd):
                        self.one(corpus, label, tag, tool, rnd, ep, src_parent, rbase, want)

    def one(self, corpus, label, tag, tool: Tool, rnd, ep, src_parent, rbase: Path, want) -> None:
        key = f"cb-{label}-{rnd}-{tool.name}-{uuid.uuid4().hex[:8]}"
        dst = Path(tempfile.mkdtemp(prefix="restore-", dir=rbase))
        env = {k: v.replace("{ep}", ep).replace("{name}", corpus.name) for k, v in tool.env.items()}
        kw = dict(src=src_parent, name=corpus.name, dst=dst, key=key, bucket=self.srv.bucket, ep=ep, work=self.work)
        logdir = self.work / "logs"
        logdir.mkdir(exist_ok=True)
        try:
            for op in ("save", "restore"):
                m = measure(fill(getattr(tool, op), **kw), env, logdir, self.server_pids,
                            self.proxy_pids if tag.startswith("wan") else [])
                r = Run(label, tag, tool.name, op, rnd, **m)
                if op == "restore" and r.ok and rnd == 0:
                    got = ab.manifest(dst / corpus.name)
                    r.verify = ab.compare_trees(want, got)
                    r.verify["files"] = sum(1 for e in got.values() if e.kind == "f")
                    if not r.verify["ok"]:
                        r.ok = False
                        r.error = f"restore differs from the source: {r.verify}"
                self.runs.append(r)
                mark = "warm-up " if rnd == 0 else f"round {rnd}"
                log(f"   {mark} {tool.name:24s} {op:7s} {r.wall_s:7.2f} s  cpu {r.cpu_s:6.2f} s  "
                    f"rss {r.peak_rss_kib / 1024:6.1f} MiB  srv {r.server_cpu_s:5.2f}  proxy {r.proxy_cpu_s:5.2f}  "
                    f"other {r.other_cores:.2f}"
                    + ("" if r.ok else f"  FAILED {r.error[:300]}"))
                if not r.ok and op == "save":
                    break
        finally:
            shutil.rmtree(dst, ignore_errors=True)
            self.delete(key)


# ---------------------------------------------------------------------------------------------- report

def summarise(runs: list[Run], sizes: dict[str, int]) -> dict:
    out: dict = {}
    for r in runs:
        if r.round == 0:
            continue
        out.setdefault(r.corpus, {}).setdefault(r.profile, {}).setdefault(r.op, {}).setdefault(r.tool, []).append(r)
    summ: dict = {}
    for corpus, profs in out.items():
        gb = sizes[corpus] / 1e9
        for profile, ops in profs.items():
            for op, tools in ops.items():
                rows = {}
                for tool, rs in tools.items():
                    good = [r for r in rs if r.ok]
                    if not good:
                        rows[tool] = {"failed": len(rs)}
                        continue
                    w = [r.wall_s for r in good]
                    c = [r.cpu_s for r in good]
                    med_w, med_c = statistics.median(w), statistics.median(c)
                    rows[tool] = dict(n=len(good), failed=len(rs) - len(good), wall_median_s=med_w,
                                      wall_min_s=min(w), wall_max_s=max(w), mb_s=sizes[corpus] / 1e6 / med_w,
                                      cpu_median_s=med_c, cpu_s_per_gb=med_c / gb,
                                      rss_max_mib=max(r.peak_rss_kib for r in good) / 1024,
                                      other_cores=statistics.median(r.other_cores for r in good),
                                      server_cpu_s=statistics.median(r.server_cpu_s for r in good),
                                      proxy_cpu_s=statistics.median(r.proxy_cpu_s for r in good))
                summ.setdefault(corpus, {}).setdefault(profile, {})[op] = rows
    return summ


def ours_for(tool: str, rows: dict) -> str | None:
    codec = tool.rsplit("-", 1)[-1]
    for cand in (f"cache-step-{codec}", "cache-step-lz4", "cache-step-cp",
                 *sorted(t for t in rows if t.startswith("cache-step-"))):
        if cand in rows and "wall_median_s" in rows[cand]:
            return cand
    return None


def fmt_table(corpus: str, profile: str, op: str, rows: dict, size: int) -> str:
    lines = [f"\n### {corpus} ({size / 1e6:.0f} MB), {profile}, {op}\n",
             "| tool | wall s median (min-max) | MB/s | CPU s | CPU s/GB | peak RSS MiB | ours/tool wall | ours/tool CPU "
             "| srv CPU s | other cores |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for tool, s in rows.items():
        if "wall_median_s" not in s:
            lines.append(f"| {tool} | FAILED ({s['failed']} runs) | | | | | | | | |")
            continue
        ours = ours_for(tool, rows)
        rw = rc = ""
        if ours and ours != tool and not tool.startswith("cache-step"):
            o = rows[ours]
            rw = f"{o['wall_median_s'] / s['wall_median_s']:.2f}"
            rc = f"{o['cpu_median_s'] / s['cpu_median_s']:.2f}" if s["cpu_median_s"] > 0 else ""
        noisy = " (noisy)" if s["other_cores"] > ab.NOISY_OTHER_CORES else ""
        lines.append(f"| {tool} | {s['wall_median_s']:.2f} ({s['wall_min_s']:.2f}-{s['wall_max_s']:.2f}){noisy} | "
                     f"{s['mb_s']:.0f} | {s['cpu_median_s']:.2f} | {s['cpu_s_per_gb']:.2f} | {s['rss_max_mib']:.0f} | "
                     f"{rw} | {rc} | {s['server_cpu_s']:.2f} | {s['other_cores']:.2f} |")
    return "\n".join(lines)


def check_targets(summ: dict, runs: list[Run]) -> list[dict]:
    out = []

    def add(name, ours, peer, limit, corpus, profile, op, metric="wall_median_s"):
        rows = summ.get(corpus, {}).get(profile, {}).get(op, {})
        if ours not in rows or peer not in rows or metric not in rows[ours] or metric not in rows[peer]:
            return
        ratio = rows[ours][metric] / rows[peer][metric]
        out.append(dict(target=name, corpus=corpus, profile=profile, op=op, ours=ours, peer=peer, ratio=ratio,
                        limit=limit, passed=ratio <= limit))

    for corpus, profs in summ.items():
        if corpus == "big2g":
            for profile in profs:
                for op in ("save", "restore"):
                    add("2 GiB object >= 5x single stream (wall <= 0.2)", "cache-step-cp", "single-stream", 0.2,
                        corpus, profile, op)
                    for v in ("aws-cli-v1", "aws-cli-v2"):
                        add("2 GiB object >= 1.5x aws-cli (wall <= 0.667)", "cache-step-cp", v, 1 / 1.5,
                            corpus, profile, op)
            continue
        for profile, ops in profs.items():
            base = profile.split("/")[0]
            if base == "wan":
                plug = next((p for p in ("plugin-tar", "plugin-emulated-tar") if p in ops.get("save", {})), None)
                if plug:
                    add("WAN save <= 0.5x incumbent tar", "cache-step-lz4", plug, 0.5, corpus, profile, "save")
                    add("WAN restore <= 0.25x incumbent tar", "cache-step-lz4", plug, 0.25, corpus, profile, "restore")
                for v in ("aws-cli-v1-lz4", "aws-cli-v2-lz4"):
                    for op in ("save", "restore"):
                        add("WAN <= 0.5x aws-cli lz4 pipeline", "cache-step-lz4", v, 0.5, corpus, profile, op)
            else:
                add("fast sink save <= 0.75x local tar|lz4 >/dev/null", "cache-step-lz4", "local-lz4", 0.75,
                    corpus, profile, "save")
                add("fast sink restore <= 0.75x local lz4 -dc|tar x", "cache-step-lz4", "local-lz4", 0.75,
                    corpus, profile, "restore")
                for op in ("save", "restore"):
                    rows = ops.get(op, {})
                    peers = [(s["cpu_median_s"], t) for t, s in rows.items() if "cpu_median_s" in s
                             and not t.startswith(("cache-step", "local-"))]
                    if peers and "cache-step-lz4" in rows:
                        add("client CPU <= 0.5x cheapest peer pipeline", "cache-step-lz4", min(peers)[1], 0.5,
                            corpus, profile, op, metric="cpu_median_s")
                    # For information, like for like: each codec's cache-step against that codec's pipelines.
                    for codec in ("lz4", "tar", "zstd", "gzip"):
                        same = [p for p in peers if p[1].endswith(f"-{codec}")]
                        if same and f"cache-step-{codec}" in rows:
                            add(f"(info) client CPU <= 0.5x cheapest {codec} peer pipeline", f"cache-step-{codec}",
                                min(same)[1], 0.5, corpus, profile, op, metric="cpu_median_s")
    ours_rss = [r.peak_rss_kib / 1024 for r in runs if r.ok and r.tool in ("cache-step-lz4", "cache-step-cp")]
    if ours_rss:
        out.append(dict(target="peak RSS at defaults <= 128 MiB", ours="cache-step (lz4, cp)", peer="",
                        ratio=max(ours_rss), limit=128, passed=max(ours_rss) <= 128, corpus="all", profile="all",
                        op="all"))
    return out


def write_svg(path: Path, summ: dict) -> None:
    """Median wall time per tool, one group of bars per corpus x profile x op, a whisker from the fastest to the
    slowest run (stdlib SVG; write_png turns it into the PNG)."""
    groups = [(c, p, o, rows) for c, ps in summ.items() for p, ops in ps.items() for o, rows in ops.items()]
    bar_h, gap, left, width = 14, 26, 190, 520
    height = sum(gap + bar_h * len(g[3]) for g in groups) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 90}" height="{height}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="4" y="16" font-size="13">cache-step save/restore vs peers: median wall s (shorter is better)</text>']
    y = 30
    for c, p, o, rows in groups:
        parts.append(f'<text x="4" y="{y + 14}" font-weight="bold">{c} / {p} / {o}</text>')
        y += gap - 6
        vals = [s.get("wall_median_s", 0) for s in rows.values()]
        top = max(vals) or 1
        for tool, s in rows.items():
            v = s.get("wall_median_s", 0)
            colour = "#d9534f" if tool.startswith("cache-step") else "#7f8c9d"
            lo, hi = s.get("wall_min_s", v), s.get("wall_max_s", v)
            whisker_y = y + (bar_h - 2) / 2
            parts.append(f'<text x="{left - 4}" y="{y + bar_h - 3}" text-anchor="end">{tool}</text>'
                         f'<rect x="{left}" y="{y}" width="{max(1, v / top * width):.1f}" height="{bar_h - 2}" '
                         f'fill="{colour}"/>'
                         f'<line x1="{left + lo / top * width:.1f}" x2="{left + hi / top * width:.1f}" '
                         f'y1="{whisker_y:.1f}" y2="{whisker_y:.1f}" stroke="black" stroke-width="1"/>'
                         f'<text x="{left + hi / top * width + 4:.1f}" y="{y + bar_h - 3}">{v:.2f}</text>')
            y += bar_h
        y += 6
    parts.append("</svg>")
    path.write_text("\n".join(parts) + "\n")


def write_png(svg: Path) -> Path | None:
    """The SVG rendered to PNG by rsvg-convert (Debian librsvg2-bin, which ./run bench-cache installs)."""
    tool = shutil.which("rsvg-convert")
    if not tool:
        log("rsvg-convert not found (apt install librsvg2-bin): the chart is in SVG only")
        return None
    png = svg.with_suffix(".png")
    done = subprocess.run([tool, "--background-color", "white", "-o", str(png), str(svg)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        log(f"rsvg-convert failed: {done.stderr.strip()}")
        return None
    return png


# ---------------------------------------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="s3sink", help="s3sink (default), s3rver-sigv4, or any tests/servers/<name>")
    ap.add_argument("--endpoint", help="an already running server instead (with the three below)")
    ap.add_argument("--access-key")
    ap.add_argument("--secret-key")
    ap.add_argument("--bucket", default="cache-step-test")
    ap.add_argument("--region", default="us-east-1")
    ap.add_argument("--preallocate", default="3GiB", help="the sink's --preallocate")
    ap.add_argument("--profiles", default="unshaped,wan")
    ap.add_argument("--wan", action="store_true", help="only the WAN profile (same as --profiles wan)")
    ap.add_argument("--wan-arg", action="append", default=[], help="extra argument for the proxy (repeatable)")
    ap.add_argument("--corpora", default=",".join(ALL_CORPORA))
    ap.add_argument("--codecs", default="lz4")
    ap.add_argument("--places", default="tmpfs", help="restore targets: tmpfs and/or disk")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="1 round, node_modules, unshaped + wan, lz4")
    ap.add_argument("--cache-dir", default=str(ab.DEFAULT_CACHE_DIR))
    ap.add_argument("--tmpfs-dir", default="/dev/shm")
    ap.add_argument("--disk-dir", default="/var/tmp")
    ap.add_argument("--big-size", type=int, default=2 * GiB)
    ap.add_argument("--maven-jars", type=int, default=2000)
    ap.add_argument("--synthetic-files", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=int, default=900, help="seconds one run may take before it is killed")
    ap.add_argument("--json", help="default bench/results/cache-<timestamp>.json")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.corpora, args.codecs, args.profiles = 1, "node_modules", "lz4", "unshaped,wan"
    if args.wan:
        args.profiles = "wan"
    args.codecs = args.codecs.split(",")
    args.corpora = args.corpora.split(",")
    args.profiles = args.profiles.split(",")
    for c in args.codecs:
        if c not in CODEC_PIPES:
            ap.error(f"unknown codec {c}")
    for c in args.corpora:
        if c not in ALL_CORPORA:
            ap.error(f"unknown corpus {c} ({', '.join(ALL_CORPORA)})")
    if args.endpoint and not (args.access_key and args.secret_key):
        ap.error("--endpoint needs --access-key and --secret-key")
    return args


def save_json(path: Path, meta: dict, described: dict, sizes: dict, runs: list[Run]) -> tuple[dict, list[dict]]:
    summ = summarise(runs, sizes)
    targets = check_targets(summ, runs)
    out = dict(meta=meta, corpora=described, summary=summ, targets=targets,
               runs=[dict(asdict(r), cpu_s=r.cpu_s) for r in runs])
    path.write_text(json.dumps(out, indent=1) + "\n")
    return summ, targets


def versions(cs: str) -> dict:
    def first_line(argv):
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=base_env())
            return ((r.stdout or r.stderr).strip().splitlines() or ["?"])[0]
        except (OSError, subprocess.TimeoutExpired):
            return "missing"
    out = {"cache-step": first_line([cs, "--version"]), "tar": first_line(["tar", "--version"]),
           "lz4": first_line(["lz4", "--version"]), "zstd": first_line(["zstd", "--version"]),
           "gzip": first_line(["gzip", "--version"]), "curl": first_line(["curl", "--version"])}
    v1 = resolve_aws_v1()
    if v1:
        out["aws-cli-v1"] = first_line([v1, "--version"])
    if os.path.exists("/usr/bin/aws"):
        out["aws-cli-v2"] = first_line(["/usr/bin/aws", "--version"])
    if shutil.which("rclone"):
        out["rclone"] = first_line(["rclone", "version"])
    return out


def machine() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model = next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith("Model name")), "?")
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": os.uname().release,
            "mem_gib": round(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / GiB, 1)}


def main() -> int:
    args = parse_args()
    global RUN_TIMEOUT_S
    RUN_TIMEOUT_S = args.timeout
    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    cache_dir = Path(args.cache_dir)
    cs_src = os.environ.get("CACHESTEP_BIN", str(ab.DEFAULT_BIN))
    if not os.access(cs_src, os.X_OK):
        sys.exit(f"no cache-step at {cs_src} (CACHESTEP_BIN)")
    proxy_bin = os.environ.get("CACHESTEP_WAN_PROXY") or newest("build*/bench/wan_proxy/cachestep-wan-proxy")
    if "wan" in args.profiles and not proxy_bin:
        sys.exit("no cachestep-wan-proxy built (ninja -C build cachestep-wan-proxy)")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    json_path = Path(args.json) if args.json else ROOT / "bench" / "results" / f"cache-{stamp}.json"
    json_path.parent.mkdir(parents=True, exist_ok=True)

    corpora = {}
    for c in args.corpora:
        if c == "node_modules":
            corpora[c] = ab.ensure_node_modules(cache_dir, False)
        elif c == "synthetic":
            corpora[c] = ab.ensure_synthetic(cache_dir, args.synthetic_files, args.synthetic_files // 20, args.seed)
        elif c == "maven":
            corpora[c] = ensure_maven(cache_dir, args.maven_jars, args.seed)
        else:
            corpora[c] = ensure_big(cache_dir, args.big_size, args.seed)

    work = Path(tempfile.mkdtemp(prefix="cache-bench-", dir=args.tmpfs_dir))
    if ab.filesystem_of(work)[1] != "tmpfs":
        log(f"warning: {work} is not on a tmpfs")
    cs = str(work / "cache-step")
    shutil.copy2(cs_src, cs)  # a rebuild elsewhere must not swap the binary mid-run
    srv = proxy = None
    bench = None
    meta = dict(started=stamp, argv=[("***" if args.secret_key and a == args.secret_key else a) for a in sys.argv], machine=machine(), git=ab.git_state(), cache_step=cs_src,
                cache_step_sha256=ab.sha256_file(Path(cs_src)), wan_proxy=proxy_bin, rounds=args.rounds,
                profiles=args.profiles, codecs=args.codecs, places=args.places)
    meta["versions"] = versions(cs)
    sizes: dict[str, int] = {}
    described: dict[str, dict] = {}
    rc = 0
    try:
        srv = start_server(args, work)
        meta["server"] = dict(kind=srv.kind, endpoint=srv.endpoint, bucket=srv.bucket)
        if "wan" in args.profiles:
            proxy = Proxy(proxy_bin, srv.endpoint, work, args.wan_arg)
            meta["wan"] = dict(endpoint=proxy.endpoint, args=args.wan_arg or ["(defaults: 90e6 B/s, 10 ms)"])
        bench = Bench(args, srv, cs, work, proxy)
        for label, corpus in corpora.items():
            log(f"== {label}: copying {corpus.source} to tmpfs")
            src_parent = work / f"src-{label}"
            ab.copy_tree(corpus.source, src_parent)
            want = ab.manifest(src_parent / corpus.name)
            described[label] = dict(ab.describe(want), note=corpus.note)
            sizes[label] = described[label]["bytes"]
            log(f"   {described[label]}")
            if label != "big2g":
                for codec in args.codecs:
                    comp, _, ext = CODEC_PIPES[codec]
                    subprocess.run(f"tar -C {shlex.quote(str(src_parent))} -cf - {corpus.name}"
                                   + (f" | {comp}" if comp else "")
                                   + f" > {shlex.quote(str(work / ('local.' + ext)))}", shell=True, check=True)
            bases = []
            for place in args.places.split(","):
                b = (work if place == "tmpfs" else Path(tempfile.mkdtemp(prefix="cache-bench-", dir=args.disk_dir)))
                bases.append((place, b))
            try:
                bench.corpus(corpus, label, src_parent, want, args.profiles, bases)
                save_json(json_path, meta, described, sizes, bench.runs)  # partial results survive a crash
            finally:
                shutil.rmtree(src_parent, ignore_errors=True)
                for place, b in bases:
                    if place != "tmpfs":
                        shutil.rmtree(b, ignore_errors=True)
                for f in work.glob("local.*"):
                    f.unlink()
    except KeyboardInterrupt:
        log("interrupted: reporting what was measured")
        rc = 130
    finally:
        if proxy:
            meta["wan_totals"] = proxy.stop()
        if srv and srv.stop_cmd:
            subprocess.run(srv.stop_cmd, stdout=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)

    runs = bench.runs if bench else []
    summ, targets = save_json(json_path, meta, described, sizes, runs)
    print(f"# cache_bench {stamp}: {meta['machine']['nproc']} cores, {meta['machine']['cpu']}, "
          f"kernel {meta['machine']['kernel']}, git {meta['git']['head'][:10]}{' (dirty)' if meta['git']['dirty'] else ''}, "
          f"server {meta.get('server', {}).get('kind')}, {args.rounds} round(s) + warm-up")
    for corpus, profs in summ.items():
        for profile, ops in profs.items():
            for op, rows in ops.items():
                print(fmt_table(corpus, profile, op, rows, sizes[corpus]))
    print("\n### Targets\n\n| target | corpus | profile | op | ours | peer | ratio | limit | |\n|---|---|---|---|---|---|---|---|---|")
    for t in targets:
        print(f"| {t['target']} | {t['corpus']} | {t['profile']} | {t['op']} | {t['ours']} | {t['peer']} | "
              f"{t['ratio']:.3f} | {t['limit']:.3f} | {'PASS' if t['passed'] else 'FAIL'} |")
    failed = [r for r in runs if not r.ok]
    for r in failed:
        print(f"\nFAILED: {r.corpus} {r.profile} {r.tool} {r.op} round {r.round}: {r.error[:500]}")
    svg = json_path.with_suffix(".svg")
    write_svg(svg, summ)
    png = write_png(svg)
    log(f"wrote {json_path}, {svg}" + (f" and {png}" if png else ""))
    if failed or any(not t["passed"] for t in targets):
        rc = rc or 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
