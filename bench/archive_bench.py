#!/usr/bin/env python3
"""Archive pipeline benchmark: cache-step pack/unpack beside `tar c | lz4 -1`, `tar c | zstd -T0`, `tar c | gzip`.

Two corpora: a real node_modules (`npm ci --ignore-scripts` of bench/node-project/package-lock.json) and a
synthetic tree of 100k small text-like files (seeded, so every machine gets the same bytes). Both are made once
into a cache dir (~/.cache/cache-step-bench) and reused. For each corpus and each place (a tmpfs and a disk dir,
reported separately: disk writes on the CI VMs are very noisy), the corpus is copied there first, so the tree
being archived lives on the medium measured, then every tool saves it to an archive file and restores that file
into an empty dir, interleaved (rotated each round) for N rounds after one discarded warm-up round.

Per run (`bash -c` running the pipeline, measured with os.wait4, so bash's reaped children count): wall time,
user+sys CPU of the whole pipeline, peak RSS (ru_maxrss: the largest single process), archive size; plus the
time of the `sync` right after the run (the writeback the run left behind, not part of its wall time) and how
busy the rest of the machine was. Every restore of the warm-up round is checked against the source tree (paths,
types, contents, link targets, modes), so a broken fast path cannot win.

Targets (issue #4): save wall time at most 0.75x `tar c | lz4 -1 > file`; restore wall time at most 0.8x
`lz4 -dc | tar x`; judged on tmpfs, disk ratios printed for information.

Standard library only; needs tar, lz4, zstd, gzip, and npm for the node_modules corpus. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import random
import shlex
import shutil
import signal
import socket
import statistics
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import git_state, sha256_file  # noqa: E402  (the git state and binary digest each result records)

ROOT = Path(__file__).resolve().parent.parent
NODE_PROJECT = ROOT / "bench" / "node-project"
DEFAULT_BIN = ROOT / "build" / "apps" / "cache-step" / "cache-step"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "cache-step-bench"
MiB = 1 << 20
CLK_TCK = os.sysconf("SC_CLK_TCK")
NPM_FLAGS = ["--ignore-scripts", "--no-audit", "--no-fund", "--no-update-notifier"]
# A run during which the rest of the machine kept more than this many cores busy is flagged as noisy.
NOISY_OTHER_CORES = 0.25
# Issue #4's targets, on the lz4 pair: cache-step wall time / peer wall time.
TARGETS = {"save": 0.75, "restore": 0.8}
GATING_PLACE = "tmpfs"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- tools

@dataclass(frozen=True)
class Tool:
    """One way to save a tree to a file and restore it. Commands are bash templates with {bin} {src} {name}
    {archive} {dst}, already-quoted paths substituted; each peer is written the way a CI script would."""
    name: str
    codec: str      # lz4 | zstd | gzip: which peer an ours-row is compared with
    ours: bool
    save: str
    restore: str
    ext: str


CODECS = ("lz4", "zstd", "gzip")


def make_tools(codecs: list[str], with_ours: bool) -> list[Tool]:
    """cache-step at each codec's default level and threads, and the tar pipelines at their tools' defaults
    (lz4 -1 as the issue says, zstd -T0 at its default level 3, gzip's default -6). tar runs as it would in a
    script; as root GNU tar x also restores owners (--same-owner is its default for the superuser)."""
    peers = {
        "lz4": Tool("tar|lz4 -1", "lz4", False, "tar -C {src} -cf - {name} | lz4 -1 -q -c > {archive}",
                    "lz4 -dc {archive} | tar -C {dst} -xf -", ".tar.lz4"),
        "zstd": Tool("tar|zstd -T0", "zstd", False, "tar -C {src} -cf - {name} | zstd -T0 -q -c > {archive}",
                     "zstd -dc -q {archive} | tar -C {dst} -xf -", ".tar.zst"),
        "gzip": Tool("tar|gzip", "gzip", False, "tar -C {src} -cf - {name} | gzip -c > {archive}",
                     "gzip -dc {archive} | tar -C {dst} -xf -", ".tar.gz"),
    }
    tools = []
    for codec in codecs:
        if with_ours:
            tools.append(Tool(f"cache-step {codec}", codec, True,
                              "{bin} pack -q -C {src} --format " + codec + " -o {archive} {name}",
                              "{bin} unpack -q -C {dst} {archive}", f".cs.{codec}"))
        tools.append(peers[codec])
    return tools


def binary_supports_archives(binary: str) -> tuple[bool, str]:
    """Whether this build has pack and unpack yet (the CLI arrives with issue #4): `pack --help` and
    `unpack --help` both print their own usage (an older build answers `x --help` with the top-level help and
    exit 0, so the exit code alone says nothing). Returns the help texts for the results file."""
    texts = []
    for sub in ("pack", "unpack"):
        try:
            r = subprocess.run([binary, sub, "--help"], capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as e:
            return False, str(e)
        usage = next((l for l in r.stdout.splitlines() if l.startswith("Usage:")), "")
        if r.returncode != 0 or f" {sub}" not in usage or (sub == "pack" and "--format" not in r.stdout):
            return False, (r.stderr or r.stdout).strip()[:500]
        texts.append(r.stdout.strip())
    return True, "\n\n".join(texts)


def tool_version(argv: list[str]) -> str:
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
        return (r.stdout or r.stderr).strip().splitlines()[0].strip("* ")
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


# ---------------------------------------------------------------------------------------------- corpora

@dataclass
class Corpus:
    name: str           # the top dir's name, archived as-is (node_modules, synthetic)
    source: Path        # the cached tree: copied to each place before its runs
    note: str


def run_npm(args: list[str], cwd: Path) -> None:
    log(f"   $ npm {' '.join(args)}   (in {cwd})")
    t0 = time.monotonic()
    subprocess.run(["npm", *args], cwd=cwd, check=True, stdin=subprocess.DEVNULL)
    log(f"   npm done in {time.monotonic() - t0:.0f} s")


def ensure_node_modules(cache_dir: Path, update_lock: bool) -> Corpus:
    """The node_modules corpus, installed once into <cache>/node-project and reused while the lock file is the
    repo's. `npm ci` from the committed lock keeps the tree identical across machines and days; --update-lock
    resolves package.json afresh (`npm install`) and copies the new lock back into bench/node-project.
    --ignore-scripts: no postinstall downloads (only the npm registry is reachable) and nothing built locally,
    so the tree is exactly the tarballs' contents."""
    project = cache_dir / "node-project"
    project.mkdir(parents=True, exist_ok=True)
    stamp = project / ".installed-from-lock.sha256"
    repo_lock = NODE_PROJECT / "package-lock.json"
    shutil.copy2(NODE_PROJECT / "package.json", project / "package.json")
    if update_lock or not repo_lock.exists():
        log("== node_modules: resolving bench/node-project/package.json afresh (npm install)")
        shutil.rmtree(project / "node_modules", ignore_errors=True)
        (project / "package-lock.json").unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
        run_npm(["install", *NPM_FLAGS], project)
        shutil.copy2(project / "package-lock.json", repo_lock)
        log(f"   wrote {repo_lock.relative_to(ROOT)}")
    else:
        want = hashlib.sha256(repo_lock.read_bytes()).hexdigest()
        have = stamp.read_text().strip() if stamp.exists() else ""
        if have != want or not (project / "node_modules").is_dir():
            log("== node_modules: installing bench/node-project/package-lock.json (npm ci), once per lock file")
            stamp.unlink(missing_ok=True)
            shutil.copy2(repo_lock, project / "package-lock.json")
            run_npm(["ci", *NPM_FLAGS], project)
    stamp.write_text(hashlib.sha256(repo_lock.read_bytes()).hexdigest() + "\n")
    return Corpus("node_modules", project / "node_modules",
                  f"npm ci {' '.join(NPM_FLAGS)} of bench/node-project/package-lock.json")


def text_pool(rng: random.Random, size: int) -> bytes:
    """Source-code-like text: lines of identifiers drawn from a Zipf-weighted vocabulary (2000 words), indented,
    with punctuation; 70% of the lines repeat one of 30k earlier lines (Zipf-weighted too), as code repeats
    imports, calls and boilerplate. Compresses like small JavaScript files do, if less (lz4 -1 ~2.4x,
    zstd -3 ~5.2x, gzip ~3.7x on 4 KiB slices; tar of node_modules' small .js: 4.2x, 7.6x, 6.7x), unlike random
    bytes (1x) or repeated blocks (100x)."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"
    keywords = ["const", "let", "function", "return", "if", "else", "for", "while", "import", "export", "from",
                "await", "async", "new", "this", "null", "undefined", "true", "false", "typeof", "class"]
    vocab = keywords + ["".join(rng.choices(letters, k=rng.randint(2, 14))) for _ in range(2000 - len(keywords))]
    word_cum = list(itertools.accumulate(1.0 / (i + 1) ** 1.1 for i in range(len(vocab))))
    puncts = [";", " {", "}", ");", ",", " =>", " = {", "", ": ", "];"]
    words: list[str] = []

    def fresh_line() -> str:
        nonlocal words
        if len(words) < 12:  # words in bulk: one choices() call per 64k words
            words = rng.choices(vocab, cum_weights=word_cum, k=65536)
        n = rng.randint(2, 12)
        line = "  " * rng.randint(0, 5) + " ".join(words[-n:]) + rng.choice(puncts)
        del words[-n:]
        if rng.random() < 0.1:
            line += f" // {rng.getrandbits(30):x}"
        return line

    phrases = [fresh_line() for _ in range(30_000)]
    phrase_cum = list(itertools.accumulate(1.0 / (i + 1) for i in range(len(phrases))))
    lines, total = [], 0
    while total < size:
        picks = rng.choices(phrases, cum_weights=phrase_cum, k=4096)
        for line in picks:
            if rng.random() < 0.3:
                line = fresh_line()
            lines.append(line)
            total += len(line) + 1
    return "\n".join(lines).encode()[:size]


def generate_synthetic(dest: Path, files: int, dirs: int, seed: int) -> dict:
    """Writes the synthetic tree: `files` files spread at random over `dirs` leaf dirs (two levels, like
    node_modules/<pkg>/<subdir>), sizes log-normal with median 4 KiB (half between 2.5 and 6.8 KiB, clamped to
    64 B..1 MiB), each one a unique header line plus a slice of a 32 MiB text pool at a random offset, ~1% of
    them executable. Everything comes from one seeded RNG: same seed, same bytes. os.open/os.write because
    Python's file objects cost more than the writes themselves here."""
    rng = random.Random(seed)
    pool = text_pool(rng, 32 * MiB)
    tops = max(1, round(math.sqrt(dirs / 2)))
    per_top = max(1, dirs // tops)
    leaves = []
    for t in range(tops):
        for s in range(per_top):
            leaf = dest / f"pkg-{t:03d}" / f"mod-{s:04d}"
            leaf.mkdir(parents=True)
            leaves.append(leaf)
    exts = [".js", ".js", ".js", ".ts", ".d.ts", ".json", ".md", ".map", ".cjs", ".mjs"]
    total = 0
    for i in range(files):
        leaf = leaves[rng.randrange(len(leaves))]
        size = min(max(int(rng.lognormvariate(math.log(4096), 0.75)), 64), MiB)
        path = leaf / f"f{i:06d}{rng.choice(exts)}"
        head = f"// {path.relative_to(dest)} #{i}\n".encode()
        off = rng.randrange(len(pool) - size)
        data = head + pool[off:off + max(0, size - len(head))]
        mode = 0o755 if rng.random() < 0.01 else 0o644
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        total += len(data)
    return {"files": files, "dirs": len(leaves), "bytes": total, "seed": seed}


def ensure_synthetic(cache_dir: Path, files: int, dirs: int, seed: int) -> Corpus:
    """The synthetic corpus, generated once per (files, dirs, seed) into <cache>/synthetic-..., built in a
    temp dir and renamed into place when complete, so an interrupted run never leaves half a corpus behind."""
    base = cache_dir / f"synthetic-{files}f-{dirs}d-seed{seed}"
    tree = base / "synthetic"
    if not tree.is_dir():
        log(f"== synthetic tree: generating {files} files in ~{dirs} dirs (seed {seed}) into {base}")
        t0 = time.monotonic()
        shutil.rmtree(base, ignore_errors=True)
        tmp = base.with_name(base.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        info = generate_synthetic(tmp / "synthetic", files, dirs, seed)
        (tmp / "params.json").write_text(json.dumps(info) + "\n")
        tmp.rename(base)
        log(f"   {info['bytes'] / MiB:.0f} MiB in {time.monotonic() - t0:.0f} s")
    return Corpus("synthetic", tree, f"{files} files in ~{dirs} dirs, seed {seed}, log-normal sizes (median 4 KiB)")


# ---------------------------------------------------------------------------------------------- trees

@dataclass
class Entry:
    kind: str       # f | d | l
    mode: int
    size: int
    mtime: int      # whole seconds: what tar keeps
    digest: str     # content SHA-256, link target, or "" for dirs


def manifest(root: Path) -> dict[str, Entry]:
    """Every entry below root by relative path (root itself excluded: its own mode and mtime are the restore
    dir's business), with content hashes. Used to check a restore and to describe a corpus."""
    out: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            st = os.lstat(full)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = Entry("l", 0, 0, 0, os.readlink(full))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = Entry("d", stat.S_IMODE(st.st_mode), 0, 0, "")
            elif stat.S_ISREG(st.st_mode):
                with open(full, "rb") as f:
                    digest = hashlib.file_digest(f, "sha256").hexdigest()
                out[rel] = Entry("f", stat.S_IMODE(st.st_mode), st.st_size, int(st.st_mtime), digest)
            else:
                out[rel] = Entry("?", stat.S_IMODE(st.st_mode), 0, 0, "")
    return out


def describe(entries: dict[str, Entry]) -> dict:
    files = [e for e in entries.values() if e.kind == "f"]
    return {"files": len(files), "dirs": sum(1 for e in entries.values() if e.kind == "d"),
            "symlinks": sum(1 for e in entries.values() if e.kind == "l"),
            "bytes": sum(e.size for e in files)}


def compare_trees(want: dict[str, Entry], got: dict[str, Entry]) -> dict:
    """Differences between the source and a restored tree. A restore is correct when nothing is missing, extra,
    or different in type, content, link target or permission bits; file mtimes off by a second or more are
    counted apart (a cache that loses mtimes makes build tools rebuild, but restores the right bytes)."""
    missing = [p for p in want if p not in got]
    extra = [p for p in got if p not in want]
    content = [p for p in want if p in got and (want[p].kind, want[p].size, want[p].digest)
               != (got[p].kind, got[p].size, got[p].digest)]
    modes = [p for p in want if p in got and want[p].kind != "l" and want[p].mode != got[p].mode]
    mtimes = [p for p in want if p in got and want[p].kind == "f" and abs(want[p].mtime - got[p].mtime) >= 1]
    ok = not (missing or extra or content or modes)
    return {"ok": ok, "missing": len(missing), "extra": len(extra), "content_differs": len(content),
            "mode_differs": len(modes), "mtime_differs": len(mtimes),
            "examples": (missing[:3] + extra[:3] + content[:3] + modes[:3] + mtimes[:3])}


# ---------------------------------------------------------------------------------------------- places

def filesystem_of(path: Path) -> tuple[str, str]:
    """(mount point, fs type) holding path, from /proc/self/mounts: the longest mount point that prefixes it."""
    real = os.path.realpath(path)
    best = ("/", "?")
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        mnt = fields[1].replace("\\040", " ")
        if (real == mnt or real.startswith(mnt.rstrip("/") + "/")) and len(mnt) >= len(best[0]):
            best = (mnt, fields[2])
    return best


@dataclass
class Place:
    name: str       # tmpfs | disk
    base: Path
    mount: str
    fstype: str


def resolve_places(args) -> list[Place]:
    """tmpfs must really be a tmpfs and disk must not be one (nor another RAM-backed fs): a mislabelled place
    would make the two reports say the same thing under different names."""
    places = []
    for name in args.places.split(","):
        if name not in ("tmpfs", "disk"):
            sys.exit(f"unknown place {name} (tmpfs, disk)")
        base = Path(args.tmpfs_dir if name == "tmpfs" else args.disk_dir)
        base.mkdir(parents=True, exist_ok=True)
        mount, fstype = filesystem_of(base)
        if name == "tmpfs" and fstype != "tmpfs":
            sys.exit(f"{base} is on {fstype} ({mount}), not tmpfs: pass --tmpfs-dir")
        if name == "disk" and fstype in ("tmpfs", "ramfs"):
            sys.exit(f"{base} is on {fstype} ({mount}): pass a --disk-dir on a real disk")
        places.append(Place(name, base, mount, fstype))
    return places


def copy_tree(src: Path, dst_parent: Path) -> Path:
    """cp -a (modes, mtimes, symlinks as links), then sync: the tree starts each place's runs written back.
    It is still in the page cache; nothing here drops caches (not reliably possible on a shared VM), so disk
    saves read from memory and disk figures mostly measure writes."""
    dst_parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-a", str(src), str(dst_parent)], check=True)
    os.sync()
    return dst_parent / src.name


# ---------------------------------------------------------------------------------------------- measuring

@dataclass
class Run:
    corpus: str
    place: str
    tool: str
    op: str             # save | restore
    round: int          # 0 = warm-up
    ok: bool
    wall_s: float
    cpu_user_s: float
    cpu_sys_s: float
    peak_rss_kib: int
    other_cores: float  # the rest of the machine, in cores busy during the run
    sync_after_s: float
    archive_bytes: int | None = None
    error: str = ""
    verify: dict | None = None

    @property
    def cpu_s(self) -> float:
        return self.cpu_user_s + self.cpu_sys_s


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine (all cores), idle and iowait excluded."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


GNU_TIME = "/usr/bin/time"


def peak_rss_from_time(path: Path) -> int | None:
    """GNU time's -o file: `%M` (KiB) on the last line, after a "Command exited with non-zero status" line
    when the pipeline failed."""
    try:
        return int(path.read_text().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def measure(command: str, logdir: Path) -> dict:
    """Runs one pipeline under `bash -c` with pipefail and times it. os.wait4 returns the rusage of the child
    plus that of every descendant it reaped, i.e. the whole pipeline: user+sys summed. Peak RSS (the largest
    process) comes from GNU time wrapped around bash when it is installed: a child's ru_maxrss starts at the
    peak RSS of the process it was forked from, and this harness holds a tree's manifest (100+ MiB), whereas
    time is small. Then syncs, timing the writeback the run left in the page cache (reported apart from its
    wall time)."""
    out_path, err_path, rss_path = logdir / "run.out", logdir / "run.err", logdir / "run.rss"
    argv = ["bash", "-c", "set -o pipefail; " + command]
    if os.access(GNU_TIME, os.X_OK):
        rss_path.unlink(missing_ok=True)
        argv = [GNU_TIME, "-f", "%M", "-o", str(rss_path)] + argv
    os.sync()  # the previous run's (and its clean-up's) writeback must not land in this one
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        busy0 = machine_busy_seconds()
        t0 = time.perf_counter()
        # its own process group, so an interrupted run can take the whole pipeline down with it
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=logdir,
                                start_new_session=True)
        try:
            _, status, ru = os.wait4(proc.pid, 0)
        except BaseException:
            os.killpg(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
            proc.returncode = -9
            raise
        wall = time.perf_counter() - t0
        busy1 = machine_busy_seconds()
        proc.returncode = os.waitstatus_to_exitcode(status)
    t1 = time.perf_counter()
    os.sync()
    sync_s = time.perf_counter() - t1
    error = ""
    if proc.returncode != 0:
        tail = (err_path.read_bytes()[-1500:] + out_path.read_bytes()[-300:]).decode(errors="replace")
        error = f"exit {proc.returncode}: {tail.strip()}"
    cpu = ru.ru_utime + ru.ru_stime
    rss = peak_rss_from_time(rss_path) if argv[0] == GNU_TIME else None
    return dict(ok=proc.returncode == 0, wall_s=wall, cpu_user_s=ru.ru_utime, cpu_sys_s=ru.ru_stime,
                peak_rss_kib=rss if rss is not None else ru.ru_maxrss,
                other_cores=max(0.0, busy1 - busy0 - cpu) / wall,
                sync_after_s=sync_s, error=error)


def rotated(items: list, shift: int) -> list:
    if not items:
        return items
    shift %= len(items)
    return items[shift:] + items[:shift]


class PlaceBench:
    """One corpus on one place: the tree copied there, then save and restore runs for every tool, round after
    round. Archives stay until the restores of the same round have read them; restore dirs are removed after
    each run (not timed)."""

    def __init__(self, args, corpus: Corpus, place: Place, tools: list[Tool], binary: str,
                 source_manifest: dict[str, Entry]):
        self.args, self.corpus, self.place, self.tools, self.binary = args, corpus, place, tools, binary
        self.source_manifest = source_manifest
        self.work = Path(tempfile.mkdtemp(prefix="cs-archive-bench-", dir=place.base))
        self.src_parent = self.work / "src"
        self.archives = self.work / "archives"
        self.restore_dir = self.work / "restore"
        self.logdir = self.work / "logs"
        self.runs: list[Run] = []

    def archive_of(self, tool: Tool) -> Path:
        return self.archives / (tool.name.replace(" ", "_").replace("|", "-") + tool.ext)

    def command(self, tool: Tool, op: str) -> str:
        q = shlex.quote
        return (tool.save if op == "save" else tool.restore).format(
            bin=q(self.binary), src=q(str(self.src_parent)), name=q(self.corpus.name),
            archive=q(str(self.archive_of(tool))), dst=q(str(self.restore_dir)))

    def prepare(self) -> None:
        log(f"== {self.corpus.name} on {self.place.name} ({self.place.fstype} at {self.place.mount}): "
            f"copying the corpus to {self.work}")
        self.archives.mkdir(parents=True)
        self.logdir.mkdir()
        t0 = time.monotonic()
        copy_tree(self.corpus.source, self.src_parent)
        log(f"   copied in {time.monotonic() - t0:.0f} s")

    def save(self, tool: Tool, rnd: int) -> Run:
        archive = self.archive_of(tool)
        archive.unlink(missing_ok=True)  # a fresh file for everyone: no tool pays for truncating another's
        m = measure(self.command(tool, "save"), self.logdir)
        run = Run(self.corpus.name, self.place.name, tool.name, "save", rnd, **m)
        if run.ok:
            run.archive_bytes = archive.stat().st_size if archive.exists() else None
            if not run.archive_bytes:
                run.ok, run.error = False, "no archive written"
        return run

    def restore(self, tool: Tool, rnd: int) -> Run:
        archive = self.archive_of(tool)
        if self.args.keep_restores:  # a new dir per run, all removed with the work dir at the end
            self.restore_dir = self.work / f"restore-r{rnd}-{self.archive_of(tool).name}"
        shutil.rmtree(self.restore_dir, ignore_errors=True)
        self.restore_dir.mkdir()
        if not archive.exists():
            run = Run(self.corpus.name, self.place.name, tool.name, "restore", rnd, ok=False, wall_s=0,
                      cpu_user_s=0, cpu_sys_s=0, peak_rss_kib=0, other_cores=0, sync_after_s=0,
                      error="no archive to restore (its save failed)")
        else:
            m = measure(self.command(tool, "restore"), self.logdir)
            run = Run(self.corpus.name, self.place.name, tool.name, "restore", rnd, **m)
            run.archive_bytes = archive.stat().st_size
        if run.ok and rnd == 0:
            got = manifest(self.restore_dir / self.corpus.name)
            run.verify = compare_trees(self.source_manifest, got)
            if not run.verify["ok"]:
                run.ok, run.error = False, f"restored tree differs from the source: {run.verify}"
        if not self.args.keep_restores:
            shutil.rmtree(self.restore_dir, ignore_errors=True)
        return run

    def record(self, run: Run) -> None:
        self.runs.append(run)
        tag = "warm-up" if run.round == 0 else f"round {run.round}/{self.args.rounds}"
        size = f"  {run.archive_bytes / MiB:7.1f} MiB" if run.archive_bytes and run.op == "save" else ""
        ver = ""
        if run.verify:
            v = run.verify
            ver = "  verified" if v["ok"] else "  VERIFY FAILED"
            if v["mtime_differs"]:
                ver += f" ({v['mtime_differs']} mtimes differ)"
        status = "" if run.ok else f"  FAILED: {run.error[:300]}"
        log(f"   [{tag}] {run.op:7} {run.tool:16} {run.wall_s:7.2f} s  CPU {run.cpu_s:6.2f} s  "
            f"RSS {run.peak_rss_kib / 1024:6.1f} MiB  sync {run.sync_after_s:5.2f} s  "
            f"other {run.other_cores:4.2f}{size}{ver}{status}")

    def run_all(self) -> list[Run]:
        try:
            self.prepare()
            for rnd in range(self.args.rounds + 1):
                log(f"-- {self.corpus.name} / {self.place.name}: "
                    f"{'warm-up round' if rnd == 0 else f'round {rnd}/{self.args.rounds}'}")
                # Rotated each round, so no tool always runs first (after the copy or the other phase).
                for tool in rotated(self.tools, rnd):
                    self.record(self.save(tool, rnd))
                for tool in rotated(self.tools, rnd):
                    self.record(self.restore(tool, rnd))
        finally:
            shutil.rmtree(self.work, ignore_errors=True)
            os.sync()
        return self.runs


# ---------------------------------------------------------------------------------------------- reporting

def summarise(runs: list[Run], tools: list[Tool], tree_bytes: int) -> dict:
    """Per op and tool: medians and min-max over the measured rounds (warm-up excluded), and for cache-step
    rows the ratios to the tar pipeline of the same codec (below 1: cache-step is faster / cheaper)."""
    out: dict = {}
    for op in ("save", "restore"):
        rows = {}
        for tool in tools:
            rs = [r for r in runs if r.tool == tool.name and r.op == op and r.round > 0]
            good = [r for r in rs if r.ok]
            warm = next((r for r in runs if r.tool == tool.name and r.op == op and r.round == 0), None)
            row = {"tool": tool.name, "codec": tool.codec, "ours": tool.ours, "runs": len(rs),
                   "failed": len(rs) - len(good) + (0 if warm is None or warm.ok else 1),
                   "verify": warm.verify if warm else None}
            if good:
                walls = [r.wall_s for r in good]
                cpus = [r.cpu_s for r in good]
                sizes = [r.archive_bytes for r in good if r.archive_bytes]
                row.update(
                    wall_median_s=statistics.median(walls), wall_min_s=min(walls), wall_max_s=max(walls),
                    mb_per_s=tree_bytes / 1e6 / statistics.median(walls),
                    cpu_median_s=statistics.median(cpus), cpu_min_s=min(cpus), cpu_max_s=max(cpus),
                    cpu_user_median_s=statistics.median(r.cpu_user_s for r in good),
                    cpu_sys_median_s=statistics.median(r.cpu_sys_s for r in good),
                    cores=statistics.median(r.cpu_s / r.wall_s for r in good),
                    peak_rss_mib=max(r.peak_rss_kib for r in good) / 1024,
                    sync_after_median_s=statistics.median(r.sync_after_s for r in good),
                    other_cores_median=statistics.median(r.other_cores for r in good),
                    noisy_runs=sum(1 for r in good if r.other_cores > NOISY_OTHER_CORES),
                    quiet_runs=sum(1 for r in good if r.other_cores <= NOISY_OTHER_CORES),
                    wall_quiet_median_s=statistics.median(quiet) if (quiet := [
                        r.wall_s for r in good if r.other_cores <= NOISY_OTHER_CORES]) else None,
                    archive_bytes=max(sizes) if sizes else None,
                    ratio=tree_bytes / max(sizes) if sizes else None)
            rows[tool.name] = row
        for tool in tools:
            row = rows[tool.name]
            peer = next((t for t in tools if not t.ours and t.codec == tool.codec), None)
            if tool.ours and peer and "wall_median_s" in row and "wall_median_s" in rows[peer.name]:
                p = rows[peer.name]
                row["peer"] = peer.name
                row["wall_vs_peer"] = row["wall_median_s"] / p["wall_median_s"]
                row["cpu_vs_peer"] = row["cpu_median_s"] / p["cpu_median_s"]
        out[op] = rows
    return out


def check_targets(summaries: dict) -> list[dict]:
    """Issue #4's two targets on the lz4 pair, per corpus and place. Judged on tmpfs; disk ratios are listed
    as information (its writes vary 2-3x between runs). A cache-step restore that failed verification fails
    its targets whatever its time."""
    results = []
    for (corpus, place), summary in summaries.items():
        for op, limit in TARGETS.items():
            row = summary[op].get("cache-step lz4")
            if not row:
                continue
            restore_check = (summary["restore"].get("cache-step lz4") or {}).get("verify")
            verified = bool(restore_check and restore_check["ok"])
            ratio = row.get("wall_vs_peer")
            peer = "tar c | lz4 -1 > file" if op == "save" else "lz4 -dc | tar x"
            res = {"corpus": corpus, "place": place, "target": f"{op} wall <= {limit} x `{peer}`",
                   "value": round(ratio, 3) if ratio is not None else None, "limit": limit,
                   "gating": place == GATING_PLACE}
            if ratio is None:
                res.update(result="FAIL", detail="no measurement (runs failed)")
            elif not verified:
                res.update(result="FAIL", detail="the restored tree did not verify")
            else:
                peer_row = summary[op][row["peer"]]
                detail = f"{row['wall_median_s']:.2f} s vs {peer_row['wall_median_s']:.2f} s"
                if row["noisy_runs"] or peer_row["noisy_runs"]:
                    # the same ratio over the quiet runs only: a busy machine slows the 2-thread tool most
                    a, b = row["wall_quiet_median_s"], peer_row["wall_quiet_median_s"]
                    quiet = round(a / b, 3) if a and b else None
                    res["value_quiet_runs"] = quiet
                    detail += (f"; quiet runs only ({row['quiet_runs']} and {peer_row['quiet_runs']} of "
                               f"{row['runs']}): {'-' if quiet is None else f'{quiet:.2f}'}")
                res.update(result="PASS" if ratio <= limit else "FAIL", detail=detail)
            if not res["gating"]:
                res["result"] = "info " + res["result"].lower()
            results.append(res)
    return results


def fmt_table(title: str, op: str, rows: dict) -> str:
    head = ["tool", "wall s (min-max)", "MB/s", "CPU s (usr+sys)", "cores", "RSS MiB", "sync s", "other"]
    if op == "save":
        head += ["archive MiB", "ratio"]
    else:
        head += ["verified"]
    head += ["wall/peer", "CPU/peer"]
    lines = [head]
    for row in rows.values():
        name = row["tool"] + (f" ({row['failed']} failed)" if row["failed"] else "")
        if "wall_median_s" not in row:
            lines.append([name, "all runs failed"] + [""] * (len(head) - 2))
            continue
        cells = [name, f"{row['wall_median_s']:.2f} ({row['wall_min_s']:.2f}-{row['wall_max_s']:.2f})",
                 f"{row['mb_per_s']:.0f}",
                 f"{row['cpu_median_s']:.2f} ({row['cpu_user_median_s']:.2f}+{row['cpu_sys_median_s']:.2f})",
                 f"{row['cores']:.2f}", f"{row['peak_rss_mib']:.1f}", f"{row['sync_after_median_s']:.2f}",
                 f"{row['other_cores_median']:.2f}"]
        if op == "save":
            cells += [f"{row['archive_bytes'] / MiB:.1f}" if row["archive_bytes"] else "-",
                      f"{row['ratio']:.2f}" if row["ratio"] else "-"]
        else:
            v = row.get("verify")
            cells += ["-" if not v else ("yes" if v["ok"] else "NO") +
                      (f", {v['mtime_differs']} mtimes off" if v["mtime_differs"] else "")]
        cells += [f"{row['wall_vs_peer']:.2f}" if "wall_vs_peer" in row else "",
                  f"{row['cpu_vs_peer']:.2f}" if "cpu_vs_peer" in row else ""]
        lines.append(cells)
    widths = [max(len(l[i]) for l in lines) for i in range(len(head))]
    text = [f"{title}: {op}"]
    for i, l in enumerate(lines):
        text.append("  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(l)))
        if i == 0:
            text.append("  ".join("-" * w for w in widths))
    noisy = {row["tool"]: row["noisy_runs"] for row in rows.values() if row.get("noisy_runs")}
    if noisy:
        text.append(f"noisy (rest of the machine > {NOISY_OTHER_CORES} cores busy): " +
                    ", ".join(f"{t} {n} runs" for t, n in noisy.items()))
    return "\n".join(text)


def print_report(meta: dict, summaries: dict, targets: list[dict], failed: list[Run]) -> None:
    print(f"\narchive benchmark, {meta['rounds']} round(s) + warm-up, {meta['cores']} cores, "
          f"{meta['versions'].get('cache-step', 'no cache-step')} (git {meta['git']['head'][:10]}"
          f"{', dirty tree' if meta['git']['dirty'] else ''}), {meta['versions']['lz4']}, "
          f"{meta['versions']['zstd']}, {meta['versions']['gzip']}, {meta['versions']['tar']}")
    if meta.get("interrupted"):
        print("  INTERRUPTED: only the runs made before the interruption are reported")
    print("  medians of the measured rounds (min-max); MB/s = tree bytes / wall; cores = CPU / wall; RSS = largest "
          "process (ru_maxrss); sync s = writeback after the run, not in its wall time; other = the rest of the "
          "machine in cores busy (noise); ratio = tree bytes / archive bytes; x/peer = cache-step / tar pipeline "
          "of the same codec")
    print(f"  peak RSS from {meta['rss_from']}; `true` run the same way reports "
          f"{meta['spawn_floor_rss_kib'] / 1024:.1f} MiB; running as uid {meta['euid']}; page cache not dropped")
    for (corpus, place), summary in summaries.items():
        c, p = meta["corpora"][corpus], meta["places"][place]
        title = (f"{corpus} ({c['bytes'] / MiB:.0f} MiB in {c['files']:,} files, {c['dirs']:,} dirs, "
                 f"{c['symlinks']:,} symlinks) on {place} ({p['fstype']} {p['base']})")
        for op in ("save", "restore"):
            print()
            print(fmt_table(title, op, summary[op]))
    print("\ntargets (issue #4, lz4 pair; judged on tmpfs, disk for information):")
    for t in targets:
        print(f"  {t['result']:9} {t['corpus']:12} {t['place']:5}  {t['target']}: "
              f"{t['value'] if t['value'] is not None else '-'} ({t['detail']})")
    if failed:
        print(f"\n{len(failed)} failed runs:")
        for r in failed:
            print(f"  {r.corpus} {r.place} {r.op} {r.tool} round {r.round}: {r.error[:300]}")


def write_json(path: Path, meta: dict, summaries: dict, runs: list[Run], with_ours: bool) -> list[dict]:
    """(Re)writes the results file: after every corpus x place, so an interrupted run keeps what it measured.
    Returns the targets as judged so far."""
    targets = check_targets(summaries) if with_ours else []
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "meta": meta, "summary": {f"{c}/{p}": s for (c, p), s in summaries.items()}, "targets": targets,
        "runs": [{**asdict(r), "cpu_s": r.cpu_s} for r in runs]}, indent=1))
    return targets


def spawn_floor_kib(logdir: Path) -> int:
    """Peak RSS of `true` run the same way: the floor every row reports (bash's own RSS; without GNU time,
    this harness's peak RSS, which the kernel counts for every child)."""
    return measure("true", logdir)["peak_rss_kib"]


# ---------------------------------------------------------------------------------------------- main

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache-step", default=os.environ.get("CACHESTEP_BIN", str(DEFAULT_BIN)),
                    help="the binary (default $CACHESTEP_BIN or build/apps/cache-step/cache-step); copied into a "
                         "temp dir first, so a rebuild mid-run changes nothing")
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
                    help=f"where the corpora are made once and kept (default {DEFAULT_CACHE_DIR})")
    ap.add_argument("--corpora", default="node_modules,synthetic", help="node_modules,synthetic (default both)")
    ap.add_argument("--places", default="tmpfs,disk", help="tmpfs,disk (default both)")
    ap.add_argument("--tmpfs-dir", default="/dev/shm", help="a dir on a tmpfs (default /dev/shm)")
    ap.add_argument("--disk-dir", default="/var/tmp", help="a dir on a disk (default /var/tmp)")
    ap.add_argument("--codecs", default=",".join(CODECS), help="lz4,zstd,gzip (default all)")
    ap.add_argument("--peers-only", action="store_true",
                    help="only the tar pipelines (also automatic when the binary has no pack/unpack yet)")
    ap.add_argument("--keep-restores", action="store_true",
                    help="restore into a new dir each run and delete them all when the place is done, not after "
                         "each run (on ext4 with online discard, a restore right after deleting the previous one "
                         "cost 10x the kernel CPU; needs rounds x tools x tree size of space)")
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds after the warm-up (default 3)")
    ap.add_argument("--synthetic-files", type=int, default=100_000, help="default 100000")
    ap.add_argument("--synthetic-dirs", type=int, default=5_000, help="default 5000")
    ap.add_argument("--seed", type=int, default=1, help="the synthetic tree's seed (default 1)")
    ap.add_argument("--update-lock", action="store_true",
                    help="npm install bench/node-project/package.json afresh and rewrite its package-lock.json")
    ap.add_argument("--prepare-only", action="store_true", help="make the corpora, measure nothing")
    ap.add_argument("--json", type=Path, default=None,
                    help="results file (default bench/results/archive-<timestamp>.json)")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    # SIGTERM (and SIGINT, which a background job inherits ignored) end the run like Ctrl-C: temp dirs
    # removed, the runs made so far reported.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    codecs = [c for c in args.codecs.split(",") if c]
    if bad := [c for c in codecs if c not in CODECS]:
        sys.exit(f"unknown codecs {bad} (known: {', '.join(CODECS)})")
    for tool in ("tar", "lz4", "zstd", "gzip", "cp"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found")
    places = resolve_places(args)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")

    corpora: list[Corpus] = []
    for name in args.corpora.split(","):
        if name == "node_modules":
            corpora.append(ensure_node_modules(args.cache_dir, args.update_lock))
        elif name == "synthetic":
            corpora.append(ensure_synthetic(args.cache_dir, args.synthetic_files, args.synthetic_dirs, args.seed))
        else:
            sys.exit(f"unknown corpus {name} (node_modules, synthetic)")
    if args.prepare_only:
        for c in corpora:
            log(f"   {c.name}: {describe(manifest(c.source))} at {c.source}")
        return 0

    bindir = Path(tempfile.mkdtemp(prefix="cs-archive-bench-bin-"))
    try:
        with_ours, help_text = False, ""
        binary = str(bindir / "cache-step")
        if not args.peers_only:
            if os.access(args.cache_step, os.X_OK):
                shutil.copy2(args.cache_step, binary)
                with_ours, help_text = binary_supports_archives(binary)
                if not with_ours:
                    log(f"!! {args.cache_step} has no pack/unpack yet ({help_text[:200]}): tar pipelines only")
            else:
                log(f"!! {args.cache_step} is not built: tar pipelines only")
        tools = make_tools(codecs, with_ours)
        versions = {t: tool_version([t, "--version"]) for t in ("tar", "lz4", "zstd", "gzip")}
        if with_ours:
            versions["cache-step"] = tool_version([binary, "--version"])
        meta = {
            "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"), "host": socket.gethostname(),
            "cores": os.cpu_count(), "euid": os.geteuid(), "rounds": args.rounds, "git": git_state(),
            "versions": versions, "cache_step": args.cache_step if with_ours else None,
            "cache_step_sha256": sha256_file(Path(binary)) if with_ours else None, "cache_step_help": help_text,
            "spawn_floor_rss_kib": spawn_floor_kib(bindir), "rss_from": "GNU time %M" if os.access(
                GNU_TIME, os.X_OK) else "ru_maxrss of the pipeline (floor: this harness's peak RSS)",
            "loadavg_before": Path("/proc/loadavg").read_text().split()[:3],
            "places": {p.name: {"base": str(p.base), "mount": p.mount, "fstype": p.fstype} for p in places},
            "keep_restores": args.keep_restores, "corpora": {}, "tools": {t.name: {"save": t.save, "restore": t.restore} for t in tools},
            "caches_dropped": False,
        }
        summaries: dict = {}
        all_runs: list[Run] = []
        json_path = args.json or ROOT / "bench" / "results" / f"archive-{stamp}.json"
        try:
            for corpus in corpora:
                log(f"== {corpus.name}: hashing the source tree (the reference for every restore)")
                source_manifest = manifest(corpus.source)
                meta["corpora"][corpus.name] = {**describe(source_manifest), "source": str(corpus.source),
                                                "note": corpus.note}
                log(f"   {meta['corpora'][corpus.name]}")
                for place in places:
                    bench = PlaceBench(args, corpus, place, tools, binary, source_manifest)
                    try:
                        bench.run_all()
                    finally:  # an interrupted place still reports the runs it made
                        all_runs += bench.runs
                        summaries[(corpus.name, place.name)] = summarise(
                            bench.runs, tools, meta["corpora"][corpus.name]["bytes"])
                        write_json(json_path, meta, summaries, all_runs, with_ours)
                        log(f"   results so far: {json_path}")
        except KeyboardInterrupt:
            meta["interrupted"] = True
            log("!! interrupted: reporting the runs made so far")
        meta["loadavg_after"] = Path("/proc/loadavg").read_text().split()[:3]
        targets = write_json(json_path, meta, summaries, all_runs, with_ours)
        failed = [r for r in all_runs if not r.ok]
        print_report(meta, summaries, targets, failed)
        print(f"\nresults: {json_path}")
        return 1 if failed or meta.get("interrupted") or any(t["result"] == "FAIL" for t in targets) else 0
    finally:
        shutil.rmtree(bindir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
