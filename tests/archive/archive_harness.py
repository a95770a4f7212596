"""Shared helpers for the archive tool tests (test_roundtrip, test_interop, test_hostile): running
`cache-step pack` / `cache-step unpack`, generating seeded trees that hold every kind of entry a cache meets, and
comparing trees by what a restore must reproduce: bytes, modes, symlink targets, hard-link identity, empty
directories and mtimes (to the second). Standard library only; never follows a symlink while looking."""

from __future__ import annotations

import hashlib
import os
import random
import re
import shutil
import stat
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

CACHE_STEP = os.environ.get("CACHESTEP_BIN", "cache-step")
MiB = 1 << 20
FORMATS = ["lz4", "zstd", "gzip", "tar"]
# The first bytes each format starts with (lz4 frame, zstd frame, gzip member; tar: the ustar magic at 257).
MAGIC = {"lz4": b"\x04\x22\x4d\x18", "zstd": b"\x28\xb5\x2f\xfd", "gzip": b"\x1f\x8b"}
DECOMPRESS = {"lz4": ["lz4", "-dc"], "zstd": ["zstd", "-dcq"], "gzip": ["gzip", "-dc"]}
COMPRESS = {"lz4": ["lz4", "-c", "-q"], "zstd": ["zstd", "-c", "-q"], "gzip": ["gzip", "-c"]}


def cache_step_binary() -> str:
    """The binary under test, resolved once: CACHESTEP_BIN (ctest sets it) or `cache-step` on PATH."""
    found = CACHE_STEP if os.path.sep in CACHE_STEP else shutil.which(CACHE_STEP)
    if not found or not os.access(found, os.X_OK):
        raise RuntimeError(f"cache-step binary not found ({CACHE_STEP!r}): set CACHESTEP_BIN or run through ctest")
    return os.path.abspath(found)


def require_tools(*names: str) -> None:
    """The reference tools (./run installs them on Debian): a missing one is a clear failure, not a skip, so
    an interop test can never pass by not running."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        raise RuntimeError(f"reference tools missing: {' '.join(missing)} (apt-get install lz4 zstd gzip tar)")


def run(*args: str, cwd: Path | str | None = None, input_bytes: bytes | None = None, stdin=None,
        timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `cache-step <args>`; never raises on a non-zero exit (tests assert it). A hang is a failure: the
    child is killed at the timeout and the TimeoutExpired propagates."""
    if input_bytes is None and stdin is None:
        stdin = subprocess.DEVNULL  # never the terminal's or ctest's stdin: unpack reads stdin by default
    return subprocess.run([cache_step_binary(), *args], cwd=cwd, input=input_bytes,
                          stdin=stdin if input_bytes is None else None, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)


def pack(workspace: Path | str | None, *paths: str, fmt: str | None = None, output: Path | str | None = None,
         extra: tuple[str, ...] = (), cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    args = ["pack"]
    if workspace is not None:
        args += ["-C", str(workspace)]
    if fmt is not None:
        args += ["--format", fmt]
    if output is not None:
        args += ["-o", str(output)]
    return run(*args, *extra, *paths, cwd=cwd, timeout=timeout)


def unpack(archive: Path | str | None, dest: Path | str | None, *, mount: Path | str | None = None,
           extra: tuple[str, ...] = (), input_bytes: bytes | None = None, cwd=None,
           timeout: float = 120) -> subprocess.CompletedProcess:
    args = ["unpack"]
    if dest is not None:
        args += ["-C", str(dest)]
    if mount is not None:
        args += ["--mount", str(mount)]
    args += list(extra)
    if archive is not None:
        args.append(str(archive))
    return run(*args, cwd=cwd, input_bytes=input_bytes, timeout=timeout)


def pipe(commands: list[list[str]], input_path: Path | str | None = None, cwd=None,
         timeout: float = 120) -> tuple[bytes, list[tuple[str, int, bytes]]]:
    """Runs `cmd1 < input_path | cmd2 | ...` without a shell (stdin /dev/null without input_path); returns the
    last command's stdout and, for each command, (its name, exit code, stderr)."""
    procs, errs = [], []
    try:
        with open(input_path if input_path is not None else os.devnull, "rb") as source:
            stdin = source
            for command in commands:
                err = tempfile.TemporaryFile()
                errs.append(err)
                p = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=err, cwd=cwd)
                if procs:
                    procs[-1].stdout.close()  # the upstream gets SIGPIPE if this one exits early
                procs.append(p)
                stdin = p.stdout
            out, _ = procs[-1].communicate(timeout=timeout)
        results = []
        for command, p, err in zip(commands, procs, errs):
            p.wait(timeout=timeout)
            err.seek(0)
            results.append((" ".join(command), p.returncode, err.read()))
        return out, results
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        for err in errs:
            err.close()


def decompress(fmt: str, data: bytes) -> bytes:
    """The reference decoder's view of an archive (`tar` format: the bytes themselves)."""
    if fmt == "tar":
        return data
    result = subprocess.run(DECOMPRESS[fmt], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=120)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(DECOMPRESS[fmt])} failed ({result.returncode}): "
                             f"{result.stderr.decode(errors='replace')}")
    return result.stdout


def random_bytes(size: int, seed: str) -> bytes:
    """Deterministic incompressible bytes (SHAKE-256 of the seed): reproducible failures, no /dev/urandom."""
    return hashlib.shake_256(seed.encode()).digest(size) if size else b""


def mixed_bytes(size: int, seed: str) -> bytes:
    """Half incompressible, half repetitive text: exercises both the stored and the compressing paths of a codec."""
    half = size // 2
    text = (f"{seed} line of a build log, which compresses well\n" * (size // 40 + 1)).encode()
    return random_bytes(half, seed) + text[: size - half]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def error_lines(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode(errors="replace").splitlines() if line.startswith("cache-step: ")]


def matching_error(stderr: bytes, regex: str) -> str | None:
    """The first `cache-step: ` line on stderr matching regex (case-insensitive), or None."""
    for line in error_lines(stderr):
        if re.search(regex, line, re.IGNORECASE):
            return line
    return None


def both(name: str, words: str) -> str:
    """A regex a line matches when it contains the literal name and one of the words, in any order."""
    return rf"^(?=.*{re.escape(name)})(?=.*(?:{words}))"


# ------------------------------------------------------------------------------------------------ trees

@dataclass(frozen=True)
class Node:
    kind: str             # "file", "dir", "symlink", "other"
    mode: int | None      # permission bits (st_mode & 0o7777); None for symlinks
    size: int | None
    digest: str | None    # sha256 of a file's bytes
    target: str | None    # a symlink's target, verbatim
    mtime: int | None     # whole seconds; None for symlinks (the contract restores file and dir mtimes)


def describe(path: Path) -> Node:
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        return Node("symlink", None, None, None, os.readlink(path), None)
    if stat.S_ISDIR(st.st_mode):
        return Node("dir", stat.S_IMODE(st.st_mode), None, None, None, int(st.st_mtime))
    if stat.S_ISREG(st.st_mode):
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(MiB), b""):
                h.update(chunk)
        return Node("file", stat.S_IMODE(st.st_mode), st.st_size, h.hexdigest(), None, int(st.st_mtime))
    return Node("other", stat.S_IMODE(st.st_mode), None, None, None, int(st.st_mtime))


def walk(root: Path) -> list[str]:
    """Every path under root (not root itself), relative, pre-order, children sorted by byte order; never
    descends into a symlink."""
    out: list[str] = []

    def visit(directory: Path, prefix: str):
        names = sorted(os.listdir(directory), key=os.fsencode)
        for name in names:
            rel = f"{prefix}{name}"
            out.append(rel)
            full = directory / name
            if stat.S_ISDIR(os.lstat(full).st_mode):
                visit(full, rel + "/")

    visit(Path(root), "")
    return out


def tree_snapshot(root: Path, *, mtimes: bool = True) -> dict[str, Node]:
    snap = {}
    for rel in walk(root):
        node = describe(Path(root) / rel)
        if not mtimes:
            node = Node(node.kind, node.mode, node.size, node.digest, node.target, None)
        snap[rel] = node
    return snap


def hardlink_groups(root: Path) -> set[frozenset[str]]:
    """Sets of relative names sharing one inode (regular files with more than one name inside root)."""
    by_inode: dict[tuple[int, int], set[str]] = {}
    for rel in walk(root):
        st = os.lstat(Path(root) / rel)
        if stat.S_ISREG(st.st_mode) and st.st_nlink > 1:
            by_inode.setdefault((st.st_dev, st.st_ino), set()).add(rel)
    return {frozenset(names) for names in by_inode.values() if len(names) > 1}


def diff_trees(expected: dict[str, Node], got: dict[str, Node], limit: int = 25) -> list[str]:
    problems = []
    for rel in sorted(set(expected) | set(got), key=os.fsencode):
        e, g = expected.get(rel), got.get(rel)
        if e == g:
            continue
        if g is None:
            problems.append(f"missing: {rel!r} ({e.kind})")
        elif e is None:
            problems.append(f"unexpected: {rel!r} ({g.kind})")
        else:
            fields = []
            for f in ("kind", "mode", "size", "digest", "target", "mtime"):
                ev, gv = getattr(e, f), getattr(g, f)
                if ev != gv:
                    if f == "mode":
                        ev, gv = (oct(v) if v is not None else None for v in (ev, gv))
                    fields.append(f"{f}: expected {ev!r}, got {gv!r}")
            problems.append(f"differs: {rel!r}: " + "; ".join(fields))
        if len(problems) >= limit:
            problems.append("...")
            break
    return problems


def assert_same_tree(tc, expected_root: Path, got_root: Path, *, mtimes: bool = True, hardlinks: bool = True,
                     root_metadata: bool = False, what: str = ""):
    """got_root must hold exactly what expected_root holds: same names, kinds, bytes, modes, symlink
    targets, (optionally) mtimes to the second, and the same hard-link groups. root_metadata also compares
    the two roots' own mode and mtime (when the root itself was an archive entry)."""
    if not os.path.isdir(got_root):
        tc.fail(f"{what or got_root}: {got_root} is not a directory (nothing restored there)")
    expected = tree_snapshot(expected_root, mtimes=mtimes)
    got = tree_snapshot(got_root, mtimes=mtimes)
    problems = diff_trees(expected, got)
    if root_metadata:
        e, g = describe(expected_root), describe(got_root)
        if (e.mode, e.mtime if mtimes else None) != (g.mode, g.mtime if mtimes else None):
            problems.insert(0, f"root {got_root}: mode/mtime expected {oct(e.mode)}/{e.mtime}, "
                               f"got {oct(g.mode)}/{g.mtime}")
    if hardlinks:
        e_groups, g_groups = hardlink_groups(expected_root), hardlink_groups(got_root)
        if e_groups != g_groups:
            problems.append(f"hard links: expected groups {sorted(map(sorted, e_groups))}, "
                            f"got {sorted(map(sorted, g_groups))}")
    if problems:
        tc.fail(f"{what or got_root}: tree differs from {expected_root}:\n  " + "\n  ".join(problems))


def force_rmtree(path: Path | str) -> None:
    """rmtree that also removes read-only directories (0555 dirs in the trees) when not running as root."""
    def onerror(func, p, _exc):
        try:
            parent = os.path.dirname(p)
            os.chmod(parent, 0o755)
            if os.path.isdir(p) and not os.path.islink(p):
                os.chmod(p, 0o755)
            func(p)
        except OSError:
            pass
    if os.path.lexists(path):
        shutil.rmtree(path, onerror=onerror)


class Scratch:
    """A temporary directory removed with force_rmtree (trees hold read-only dirs)."""

    def __init__(self, label: str = "archive-test"):
        self.path = Path(tempfile.mkdtemp(prefix=f"cache-step-{label}-")).resolve()

    def cleanup(self):
        force_rmtree(self.path)

    def __enter__(self):
        return self.path

    def __exit__(self, *exc):
        self.cleanup()


# Names a tree holds at its top level; each stands for a case a cache meets.
DEEP_COMPONENT = "deep-directory-component-of-sixty-characters-long-xxxxxxxxxx"  # 60 chars
LONG_NAME = "long-file-name-" + "n" * 200 + ".txt"             # 219 bytes: needs a pax path
LONG_UTF8_NAME = "ü" * 120 + ".bin"                               # 244 bytes in UTF-8, 124 characters
LONG_TARGET = "../" + "t" * 150 + "/dangling-long-target"         # a symlink target over 100 bytes


def make_tree(root: Path, seed: str, *, big: bool = True, long_names: bool = True, mid_size: int = MiB + 1,
              random_files: int = 60, hardlinks: bool = True) -> Path:
    """Creates root and fills it with a deterministic tree (seeded): nested and empty directories, 0-byte,
    1-byte, tar-block-boundary, 1 MiB+1 and (big) ~20 MiB files, modes 0755/0644/0600/0444/0666/0640,
    read-only and private directories, symlinks (relative, absolute, dangling, to a directory, long target),
    hard links (also of a 0-byte file and to a deep name), names with spaces, UTF-8, a leading dash, a
    backslash, names that sort differently by component than by whole path, and distinct mtimes (one with a
    fraction of a second, 0, 1 and 2^32). With long_names (default) also 200+ byte names, paths over 255
    bytes, a symlink target over 100 bytes and an mtime of 2^33 (past ustar's 11 octal digits); without, the
    tree fits a ustar archive. Modes and mtimes are set last."""
    rng = random.Random(seed)
    root = Path(root)
    root.mkdir(parents=True)
    files: dict[str, int] = {}   # rel -> mode
    dirs: dict[str, int] = {}    # rel -> mode

    def file(rel: str, data: bytes, mode: int = 0o644):
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        files[rel] = mode

    def directory(rel: str, mode: int = 0o755):
        (root / rel).mkdir(parents=True, exist_ok=True)
        dirs[rel] = mode

    file("README with space.txt", b"a cache of node_modules\n")
    file("empty.bin", b"")
    file("one.bin", b"\x01")
    for size in (511, 512, 513, 10240):
        file(f"pad-{size}.bin", random_bytes(size, f"{seed}-pad-{size}"))
    file("mid.bin", mixed_bytes(mid_size, f"{seed}-mid"))
    if big:
        file("big.bin", mixed_bytes(20 * MiB + 12345, f"{seed}-big"))
    file("exec.sh", b"#!/bin/sh\necho hi\n", 0o755)
    file("private.key", b"secret\n", 0o600)
    file("readonly.txt", b"read only\n", 0o444)
    file("world-writable.txt", b"0666\n", 0o666)
    file("group.txt", b"0640\n", 0o640)
    file("ütf-8 ✓ 名前.txt", "ütf-8 ✓ 名前\n".encode())
    file("-leading-dash.txt", b"dash\n")
    file("back\\slash.txt", b"backslash is a plain character on Linux\n")
    file("percent%20#hash.txt", b"percent\n")
    for name in ("epoch-0.txt", "epoch-1.txt", "year-2242.txt"):
        file(name, name.encode())
    directory("empty-dir")
    directory("nested/a/b/c/empty-leaf")
    file("nested/a/b/c/file.txt", b"nested\n")
    directory("ro-dir", 0o555)
    file("ro-dir/inside.txt", b"in a read-only directory\n", 0o444)
    directory("private-dir", 0o700)
    file("private-dir/f", b"private\n", 0o600)
    # Component order differs from whole-path order: "a" < "a b" < "a-b" < "a.b" by component, but
    # "a b" < "a-b" < "a.b" < "a/x" by whole path ('/' is 0x2f).
    for rel in ("order/a/x", "order/a b", "order/a-b", "order/a.b", "order/B", "order/Z", "order/é", "order/_"):
        file(rel, rel.encode())
    if long_names:
        file(LONG_NAME, b"long name\n")
        file(LONG_UTF8_NAME, b"long utf-8 name\n")
        deep = "/".join([DEEP_COMPONENT] * 5)  # 304 bytes of directories
        file(f"{deep}/deep-file.txt", b"deep\n")
        dirs[deep] = 0o755
    directory("links")
    os.symlink("../README with space.txt", root / "links/relative")
    os.symlink("/usr/share/cache-step-test/absolute-target", root / "links/absolute-dangling")
    os.symlink("/etc", root / "links/absolute-dir")
    os.symlink("does/not/exist", root / "links/dangling")
    os.symlink("../nested", root / "links/to-dir")
    os.symlink(".", root / "links/dot")
    os.symlink("ütf-8 target ✓", root / "links/utf8-target")
    if long_names:
        os.symlink(LONG_TARGET, root / "links/long-target")
    if hardlinks:
        directory("hard")
        file("hard/a.bin", random_bytes(3000, f"{seed}-hard"))
        os.link(root / "hard/a.bin", root / "hard/b.bin")
        os.link(root / "hard/a.bin", root / "hard-c.bin")          # across directories; by component after hard/
        file("hard/empty-1", b"")
        os.link(root / "hard/empty-1", root / "hard/empty-2")      # hard links of a 0-byte file
        if long_names:
            os.link(root / f"{deep}/deep-file.txt", root / "zz-link-to-deep")  # linkname over 100 bytes
    # A seeded random subtree: random depth, names, sizes around block edges and modes.
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 ._-äöü✓"
    sizes = [0, 1, 2, 100, 511, 512, 513, 1023, 1024, 4095, 4096, 4097, 65535, 65536, 65537, 200_000]
    modes = [0o644, 0o755, 0o600, 0o444, 0o640, 0o700]
    existing_dirs = ["random"]
    directory("random")
    for i in range(random_files):
        parent = rng.choice(existing_dirs)
        name = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24))).strip() or f"n{i}"
        name = f"{name}-{i}"
        rel = f"{parent}/{name}"
        if rng.random() < 0.25 and parent.count("/") < 6:
            directory(rel, rng.choice([0o755, 0o750, 0o700, 0o775]))
            existing_dirs.append(rel)
        else:
            size = rng.choice(sizes)
            file(rel, random_bytes(size, f"{seed}-{rel}"), rng.choice(modes))
    # Modes last (a 0555 dir must stay writable while it is filled), then mtimes: children before parents
    # does not matter for utime, but creating entries does, and that is done.
    for rel, mode in files.items():
        os.chmod(root / rel, mode)
    for rel, mode in sorted(dirs.items(), key=lambda kv: -kv[0].count("/")):
        os.chmod(root / rel, mode)
    for rel in walk(root):
        p = root / rel
        if os.path.islink(p):
            continue
        if os.lstat(p).st_nlink > 1 and not p.is_dir() and rel not in files:
            continue  # a later name of a hard link: one inode, one mtime (set through its first name)
        mtime = rng.randint(946684800, 1893456000)  # 2000..2030
        os.utime(p, (mtime, mtime), follow_symlinks=False)
    os.utime(root / "one.bin", (1234567890.75, 1234567890.75))  # a fraction: restored to the second at least
    # Edge mtimes: 0 and 1 (reproducible builds, the Nix store) and 2^33 (year 2242: more than the 11 octal
    # digits of a ustar header hold, so a pax record or base-256).
    for name, mtime in (("epoch-0.txt", 0), ("epoch-1.txt", 1), ("year-2242.txt", 1 << 33 if long_names else 1 << 32)):
        os.utime(root / name, (mtime, mtime))
    os.chmod(root, 0o755)
    os.utime(root, (1600000000, 1600000000))
    return root


def expected_entry_names(workspace: Path, source: str) -> list[str]:
    """The entry names `pack -C workspace source` must write, in order: the source's own entry, then a
    pre-order walk with children sorted by byte order."""
    names = [source]
    if stat.S_ISDIR(os.lstat(Path(workspace) / source).st_mode):
        names += [f"{source}/{rel}" for rel in walk(Path(workspace) / source)]
    return names


def raw_headers(tar: bytes) -> list[dict]:
    """Walks a tar stream's 512-byte headers without interpreting pax/GNU records (tarfile hides them):
    typeflag, magic+version, the raw name field and the header's offset. Stops at the first zero block."""
    out = []
    offset = 0
    while offset + 512 <= len(tar):
        block = tar[offset:offset + 512]
        if block == b"\0" * 512:
            break
        size_field = block[124:136]
        if size_field[0] & 0x80:
            size = int.from_bytes(size_field[1:], "big")
        else:
            size = int(size_field.split(b"\0")[0].strip() or b"0", 8)
        typeflag = block[156:157]
        out.append({"offset": offset, "typeflag": typeflag, "magic": block[257:265],
                    "name": block[0:100].split(b"\0")[0], "size": size})
        data = size if typeflag not in (b"1", b"2", b"3", b"4", b"5", b"6") else 0
        offset += 512 + (data + 511) // 512 * 512
    return out


def frame_ends(fmt: str, data: bytes) -> list[int]:
    """The offsets where each lz4 frame, zstd frame or gzip member of a stream ends (the last is len(data)),
    read from the framing alone: where a download cut on a frame boundary would stop."""
    import zlib
    ends = []
    pos = 0
    if fmt == "gzip":
        while pos < len(data):
            d = zlib.decompressobj(wbits=31)
            d.decompress(data[pos:])
            if not d.eof:
                raise ValueError(f"gzip member at {pos} does not end")
            pos = len(data) - len(d.unused_data)
            ends.append(pos)
        return ends
    while pos < len(data):
        magic = struct.unpack_from("<I", data, pos)[0]
        if magic & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame (lz4 and zstd)
            pos += 8 + struct.unpack_from("<I", data, pos + 4)[0]
        elif fmt == "lz4" and magic == 0x184D2204:
            flg = data[pos + 4]
            pos += 4 + 2 + (8 if flg & 0x08 else 0) + (4 if flg & 0x01 else 0) + 1
            while True:
                size = struct.unpack_from("<I", data, pos)[0]
                pos += 4
                if size == 0:
                    break
                pos += (size & 0x7FFFFFFF) + (4 if flg & 0x10 else 0)
            pos += 4 if flg & 0x04 else 0
        elif fmt == "zstd" and magic == 0xFD2FB528:
            fhd = data[pos + 4]
            single = (fhd >> 5) & 1
            fcs = {0: 1 if single else 0, 1: 2, 2: 4, 3: 8}[fhd >> 6]
            pos += 4 + 1 + (0 if single else 1) + [0, 1, 2, 4][fhd & 3] + fcs
            while True:
                header = int.from_bytes(data[pos:pos + 3], "little")
                pos += 3
                kind, size = (header >> 1) & 3, header >> 3
                pos += 1 if kind == 1 else size
                if header & 1:
                    break
            pos += 4 if fhd & 0x04 else 0
        else:
            raise ValueError(f"no {fmt} frame at offset {pos}")
        ends.append(pos)
    return ends
