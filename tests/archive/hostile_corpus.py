#!/usr/bin/env python3
"""A deterministic corpus of hostile archives for `cache-step unpack` (standard library only: tarfile, gzip,
struct; lz4 and zstd frames are written by hand with stored/raw blocks, which every decoder must accept).

Each case names its archive file, says what it attacks, and what must happen: "refused" (exit 1, one
`cache-step: ` line matching `error`, which holds the entry name as written in the archive and a word for the
reason), "harmless" (exit 0; `present` says what must exist) or "either" (two readings of the contract are
safe: replace, or refuse; the sandbox check is what matters). For every case nothing may change outside the
destination: the test snapshots the whole sandbox.

Layout the cases assume (layout() builds the paths): the sandbox holds `outside/` (files `canary` and `secret`,
the targets absolute names and hard links aim at) and `runs/<case>/`, the case's fresh parent, holding its own
`outside/canary` and the destination `dest/`. So from dest, `../outside` is the case's sibling directory and
`../../../outside` is the sandbox's. Absolute names point into the sandbox (never at the real /etc or /tmp
root), so a defect writes somewhere the test sees, not onto the machine.

Usable as a module (make_corpus(directory, sandbox) -> list[Case]) and as a script:
    python3 hostile_corpus.py OUTDIR      # writes the archives and manifest.json into OUTDIR
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import re
import struct
import sys
import tarfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

MTIME = 1600000000
OUTSIDE_FILES = {"canary": b"canary: must never change\n", "secret": b"root:x:0:0:secret:/root:/bin/sh\n"}
CASE_CANARY = b"case canary: must never change\n"

# Reason words (contract: matched loosely and case-insensitively, never whole sentences).
ESCAPES = r"escap|outside"
SYMLINK = r"symlink|symbolic link"
HARDLINK = r"hard.?link"
DEVICE = r"device|special"
FIFO = r"fifo|special"
CORRUPT = r"truncat|corrupt|not an archive"


@dataclass
class Case:
    name: str
    file: str                   # archive file name inside the corpus directory
    description: str
    expect: str                 # "refused" | "harmless" | "either"
    error: str | None = None    # regex (re.I) one `cache-step: ` stderr line must match when refused
    absent: list[str] = field(default_factory=list)    # paths relative to the destination that must not exist
    # rel -> ["file", text, mode|None] / ["sha256", hex digest] / ["symlink", target] / ["dir", mode|None]
    #        / ["hardlink", other rel] (same inode)
    present: dict[str, list] = field(default_factory=dict)
    only: list[str] | None = None    # when set: exactly these paths exist in the destination afterwards
    preexisting: dict[str, str] = field(default_factory=dict)  # symlinks made in dest before unpacking: rel -> target
    mount: str | None = None    # run with --mount DEST/<mount>; that directory is then the destination


def layout(sandbox: Path, case: Case) -> tuple[Path, Path, Path]:
    """(the case's fresh parent, DIR passed with -C, the destination entries must land in)."""
    parent = Path(sandbox) / "runs" / case.name
    dest = parent / "dest"
    return parent, dest, (dest / case.mount if case.mount else dest)


def name_and(name: str, words: str) -> str:
    """A regex a line matches when it holds the entry name (as in the archive) and one of the words."""
    return rf"^(?=.*{re.escape(name.rstrip('/'))})(?=.*(?:{words}))"


# ------------------------------------------------------------------------------------------ tar writing

def entry(name: str, kind: str = "file", data: bytes = b"", *, mode: int | None = None, link: str = "",
          dev: tuple[int, int] = (0, 0)) -> tuple[tarfile.TarInfo, bytes]:
    """A tar entry written verbatim: tarfile does not sanitise names or link names when writing."""
    info = tarfile.TarInfo(name)
    info.mtime = MTIME
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    types = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
             "hardlink": tarfile.LNKTYPE, "chardev": tarfile.CHRTYPE, "blockdev": tarfile.BLKTYPE,
             "fifo": tarfile.FIFOTYPE}
    info.type = types[kind]
    info.mode = mode if mode is not None else (0o755 if kind == "dir" else 0o644)
    info.linkname = link
    info.devmajor, info.devminor = dev
    info.size = len(data) if kind == "file" else 0
    return info, data


def tar_of(entries, fmt=tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)
    return buf.getvalue()


def header_block(name: bytes, size: int, typeflag: bytes, *, mode: int = 0o644, base256_size: bool = False) -> bytes:
    """One ustar header, built by hand for values tarfile refuses to write (sizes without data, lies)."""
    def octal(value: int, width: int) -> bytes:
        return b"%0*o\0" % (width - 1, value)
    size_field = (b"\x80" + size.to_bytes(11, "big")) if base256_size else octal(size, 12)
    block = bytearray(512)
    block[0:len(name)] = name
    block[100:108] = octal(mode, 8)
    block[108:116] = octal(0, 8)
    block[116:124] = octal(0, 8)
    block[124:136] = size_field
    block[136:148] = octal(MTIME, 12)
    block[148:156] = b" " * 8
    block[156:157] = typeflag
    block[257:265] = b"ustar\x0000"
    checksum = sum(block)
    block[148:156] = b"%06o\0 " % checksum
    return bytes(block)


def pax_record(keyword: str, value: bytes) -> bytes:
    body = f" {keyword}=".encode() + value + b"\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length = len(str(length)) + len(body)
    return str(length).encode() + body


def padded(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 512)


END = b"\0" * 1024


# ------------------------------------------------------------------------------- lz4 and zstd frames

def xxh32(data: bytes, seed: int = 0) -> int:
    p1, p2, p3, p4, p5 = 2654435761, 2246822519, 3266489917, 668265263, 374761393
    m = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    n, i = len(data), 0
    if n >= 16:
        v = [(seed + p1 + p2) & m, (seed + p2) & m, seed & m, (seed - p1) & m]
        while i + 16 <= n:
            for lane in range(4):
                word = struct.unpack_from("<I", data, i + 4 * lane)[0]
                v[lane] = (rotl((v[lane] + word * p2) & m, 13) * p1) & m
            i += 16
        h = (rotl(v[0], 1) + rotl(v[1], 7) + rotl(v[2], 12) + rotl(v[3], 18)) & m
    else:
        h = (seed + p5) & m
    h = (h + n) & m
    while i + 4 <= n:
        h = (rotl((h + struct.unpack_from("<I", data, i)[0] * p3) & m, 17) * p4) & m
        i += 4
    while i < n:
        h = (rotl((h + data[i] * p5) & m, 11) * p1) & m
        i += 1
    h ^= h >> 15
    h = (h * p2) & m
    h ^= h >> 13
    h = (h * p3) & m
    h ^= h >> 16
    return h


LZ4_MAGIC = b"\x04\x22\x4d\x18"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def lz4_frame(data: bytes, block: int = 65536) -> bytes:
    """An LZ4 frame (independent 64 KiB blocks, stored uncompressed: size with the high bit set, no checksums)."""
    descriptor = bytes([0x60, 0x40])  # version 01, block independence; max block 64 KiB
    out = bytearray(LZ4_MAGIC + descriptor + bytes([(xxh32(descriptor) >> 8) & 0xFF]))
    for i in range(0, len(data), block):
        chunk = data[i:i + block]
        out += struct.pack("<I", len(chunk) | 0x80000000) + chunk
    out += b"\0\0\0\0"  # end mark
    return bytes(out)


def zstd_frame(data: bytes, block: int = 65536) -> bytes:
    """A zstd frame of raw blocks: descriptor 0 (no content size, no checksum, no dictionary), a 1 MiB window,
    3-byte block headers (size << 3 | type raw << 1 | last)."""
    out = bytearray(ZSTD_MAGIC + bytes([0x00, 10 << 3]))
    chunks = [data[i:i + block] for i in range(0, len(data), block)] or [b""]
    for index, chunk in enumerate(chunks):
        last = 1 if index == len(chunks) - 1 else 0
        out += ((len(chunk) << 3) | last).to_bytes(3, "little") + chunk
    return bytes(out)


# ---------------------------------------------------------------------------------------------- corpus

def make_corpus(directory: Path | str, sandbox: Path | str | None = None) -> list[Case]:
    """Writes every hostile archive into directory and returns the cases. Absolute names and targets point
    into sandbox (default: directory), laid out as layout() says."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    sandbox = Path(sandbox if sandbox is not None else directory).resolve()
    S = str(sandbox)
    root = f"{S}/recorded-root/mnt"   # the mount an absolute archive recorded when it was saved
    cases: list[Case] = []

    def add(name: str, data: bytes, description: str, expect: str, *, ext: str = "tar", **kwargs) -> Case:
        file = f"{len(cases):02d}-{name}.{ext}"
        (directory / file).write_bytes(data)
        case = Case(name=name, file=file, description=description, expect=expect, **kwargs)
        cases.append(case)
        return case

    ok = entry("ok.txt", data=b"ok\n")
    after = entry("after.txt", data=b"after the refused entry: never extracted\n")

    # ---- relative names that climb out
    add("dotdot-slip", tar_of([ok, entry("../pwned-slip", data=b"pwned"), after]),
        "zip-slip: a file named ../x lands beside the destination", "refused",
        error=name_and("../pwned-slip", ESCAPES), absent=["../pwned-slip", "after.txt"])
    add("dotdot-deep", tar_of([entry("../../../outside/pwned-deep", data=b"pwned"), after]),
        "../../../outside/x reaches the sandbox's outside directory", "refused",
        error=name_and("../../../outside/pwned-deep", ESCAPES), absent=["after.txt"])
    add("dotdot-inner", tar_of([entry("a", "dir"), entry("a/../../pwned-inner", data=b"pwned"), after]),
        "a/../../x: a .. in the middle still escapes", "refused",
        error=name_and("a/../../pwned-inner", ESCAPES), absent=["../pwned-inner", "after.txt"])
    add("dotdot-dot-prefix", tar_of([entry("./../pwned-dot", data=b"pwned"), after]),
        "./../x: a leading ./ does not make .. safe", "refused",
        error=name_and("./../pwned-dot", ESCAPES), absent=["../pwned-dot", "after.txt"])
    add("dotdot-dir", tar_of([entry("../pwned-dir", "dir"), after]),
        "a directory entry ../x", "refused",
        error=name_and("../pwned-dir", ESCAPES), absent=["../pwned-dir", "after.txt"])
    chain = [entry("d" + "/d" * i, "dir") for i in range(150)]
    long_name = "d/" * 150 + "../" * 153 + "outside/pwned-long"
    add("dotdot-long-pax", tar_of(chain + [entry(long_name, data=b"pwned"), after]),
        f"a {len(long_name)}-byte pax path that climbs 153 levels up out of 150 real directories", "refused",
        error=name_and(long_name, ESCAPES), absent=["after.txt"])

    # ---- absolute names
    add("abs-relative-first", tar_of([ok, entry(f"{S}/outside/pwned-abs", data=b"pwned"), after]),
        "an absolute name in an archive whose root (first entry) is relative", "refused",
        error=name_and(f"{S}/outside/pwned-abs", ESCAPES + "|absolute"), absent=["after.txt"])
    abs_tree = [entry(root, "dir"), entry(f"{root}/ok.txt", data=b"ok\n", mode=0o640), entry(f"{root}/sub", "dir"),
                entry(f"{root}/sub/deep.txt", data=b"deep\n"), entry(f"{root}/link", "symlink", link="ok.txt"),
                entry(f"{root}/hard", "hardlink", link=f"{root}/ok.txt")]
    abs_present = {"ok.txt": ["file", "ok\n", 0o640], "sub/deep.txt": ["file", "deep\n", 0o644],
                   "link": ["symlink", "ok.txt"], "hard": ["hardlink", "ok.txt"]}
    data = tar_of(abs_tree)
    add("abs-root-remapped", data, "absolute names under the recorded root land in the destination, "
        "hard-link targets remapped too; nothing at the recorded path", "harmless",
        present=abs_present, only=["hard", "link", "ok.txt", "sub", "sub/deep.txt"])
    add("abs-root-remapped-mount", data, "the same archive with --mount: lands in the mount", "harmless",
        present=abs_present, mount="m")
    data = tar_of(abs_tree[:2] + [entry(f"{S}/outside/pwned-abs2", data=b"pwned"), entry(f"{root}/after.txt")])
    for suffix, mount in (("", None), ("-mount", "m")):
        add(f"abs-root-then-outside{suffix}", data, "first entry is the root; a later absolute name is outside it",
            "refused", error=name_and(f"{S}/outside/pwned-abs2", ESCAPES), absent=["after.txt"], mount=mount)
    data = tar_of(abs_tree[:2] + [entry(f"{root}-evil/pwned", data=b"pwned"), entry(f"{root}/after.txt")])
    for suffix, mount in (("", None), ("-mount", "m")):
        add(f"abs-root-prefix-sibling{suffix}", data,
            "a sibling that shares the root's string prefix (/r/mnt-evil vs /r/mnt) is outside it", "refused",
            error=name_and(f"{root}-evil/pwned", ESCAPES), absent=["after.txt"], mount=mount)
    data = tar_of(abs_tree[:2] + [entry(f"{root}/../../outside/pwned-absdd", data=b"pwned"),
                                  entry(f"{root}/after.txt")])
    for suffix, mount in (("", None), ("-mount", "m")):
        add(f"abs-root-dotdot{suffix}", data, "an absolute name under the root that climbs out with ..", "refused",
            error=name_and(f"{root}/../../outside/pwned-absdd", ESCAPES), absent=["after.txt"], mount=mount)
    add("abs-root-hardlink-outside",
        tar_of(abs_tree[:2] + [entry(f"{root}/stolen", "hardlink", link=f"{S}/outside/secret"),
                               entry(f"{root}/after.txt")]),
        "an absolute archive's hard link to a file outside its root", "refused",
        error=name_and(f"{root}/stolen", HARDLINK + "|" + ESCAPES), absent=["stolen", "after.txt"])

    add("abs-root-slash", tar_of([entry("/", "dir"), entry(f"{S}/outside/pwned-slash", data=b"remapped\n")]),
        "an absolute archive whose root is / : every absolute name is under it and lands inside the "
        "destination (never at the real path)", "harmless",
        present={f"{S}/outside/pwned-slash".lstrip("/"): ["file", "remapped\n", None]})
    add("abs-root-is-symlink",
        tar_of([entry(root, "symlink", link=f"{S}/outside"), entry(f"{root}/pwned-root-sym", data=b"pwned"), after]),
        "the root entry itself is a symlink to outside: the destination must not become that symlink", "refused",
        absent=["after.txt"])

    # ---- the destination itself
    add("dot-as-file", tar_of([entry(".", data=b"pwned"), after]),
        "a regular file named . would replace the destination", "refused", absent=["after.txt"])
    add("dot-as-symlink", tar_of([entry(".", "symlink", link="../outside"), entry("pwned-dot-sym", data=b"pwned"),
                                  after]),
        "a symlink named . would turn the destination into a link to outside, then a file through it", "refused",
        absent=["pwned-dot-sym", "after.txt"])
    add("empty-name", tar_of([entry("", data=b"x"), after]), "an entry with an empty name", "refused",
        absent=["after.txt"])

    # ---- writing through symlinks
    add("symlink-abs-then-file",
        tar_of([entry("esc", "symlink", link=f"{S}/outside"), entry("esc/pwned-sym", data=b"pwned"), after]),
        "symlink to an absolute outside directory, then a file through it", "refused",
        error=name_and("esc/pwned-sym", SYMLINK), absent=["after.txt"])
    add("symlink-rel-then-file",
        tar_of([entry("up", "symlink", link="../.."), entry("up/pwned-rel", data=b"pwned"), after]),
        "relative symlink up -> ../.., then up/x", "refused",
        error=name_and("up/pwned-rel", SYMLINK), absent=["after.txt"])
    add("symlink-chain",
        tar_of([entry("a", "symlink", link="b"), entry("b", "symlink", link="../outside"),
                entry("a/pwned-chain", data=b"pwned"), after]),
        "chained symlinks a -> b -> ../outside, then a/x", "refused",
        error=name_and("a/pwned-chain", SYMLINK), absent=["after.txt"])
    add("symlink-nested",
        tar_of([entry("d", "dir"), entry("d/esc", "symlink", link="../../outside"),
                entry("d/esc/pwned-nested", data=b"pwned"), after]),
        "a symlink inside a directory, climbing two levels, then a file through it", "refused",
        error=name_and("d/esc/pwned-nested", SYMLINK), absent=["after.txt"])
    add("symlink-then-dir",
        tar_of([entry("esc", "symlink", link="../outside"), entry("esc/newdir", "dir"), after]),
        "a directory created through a symlink", "refused",
        error=name_and("esc/newdir", SYMLINK), absent=["after.txt"])
    add("symlink-then-symlink",
        tar_of([entry("esc", "symlink", link="../outside"), entry("esc/evil", "symlink", link="/"), after]),
        "a symlink created through a symlink", "refused",
        error=name_and("esc/evil", SYMLINK), absent=["after.txt"])
    add("symlink-then-hardlink",
        tar_of([ok, entry("esc", "symlink", link="../outside"), entry("esc/pwned-hl", "hardlink", link="ok.txt"),
                after]),
        "a hard link created through a symlink", "refused",
        error=name_and("esc/pwned-hl", SYMLINK), absent=["after.txt"])
    add("symlink-implicit-parent",
        tar_of([entry("esc", "symlink", link=f"{S}/outside"), entry("esc/sub/pwned-mkdir", data=b"pwned"), after]),
        "a file whose missing parent would be created through a symlink (mkdir -p through it)", "refused",
        error=name_and("esc/sub/pwned-mkdir", SYMLINK), absent=["after.txt"])
    add("preexisting-symlink",
        tar_of([entry("cache/pwned-pre", data=b"pwned"), after]),
        "the destination already holds cache -> the sandbox's outside; the archive writes cache/x", "refused",
        error=name_and("cache/pwned-pre", SYMLINK), absent=["after.txt"],
        preexisting={"cache": "../../../outside"})
    add("preexisting-symlink-mkdir",
        tar_of([entry("abs/sub/pwned", data=b"pwned"), after]),
        "a pre-existing absolute symlink to outside as the parent of a missing directory", "refused",
        error=name_and("abs/sub/pwned", SYMLINK), absent=["after.txt"],
        preexisting={"abs": f"{S}/outside"})
    add("symlink-dot-component",
        tar_of([entry("sub", "dir"), entry("sub/.", "symlink", link="../outside"), entry("sub/pwned", data=b"pwned"),
                after]),
        "a symlink named sub/. replaces the directory sub, then sub/x goes through it", "refused",
        error=name_and("sub/pwned", SYMLINK), absent=["after.txt"])
    add("preexisting-symlink-replaced-by-dir",
        tar_of([entry("nm", "dir", mode=0o777), entry("nm/x", data=b"inside\n")]),
        "the destination holds nm -> outside; the archive has a directory nm (mode 0777) and nm/x: the "
        "directory replaces the link (or the restore is refused), outside's mode and contents never change",
        "either", error=name_and("nm", SYMLINK), preexisting={"nm": "../../../outside"})
    add("symlink-outside-verbatim",
        tar_of([entry("abs-out", "symlink", link=f"{S}/outside/canary"),
                entry("rel-out", "symlink", link="../../../outside"), entry("root", "symlink", link="/")]),
        "symlinks pointing outside are created verbatim and nothing is written through them", "harmless",
        present={"abs-out": ["symlink", f"{S}/outside/canary"], "rel-out": ["symlink", "../../../outside"],
                 "root": ["symlink", "/"]})
    add("symlink-replaced-by-file",
        tar_of([entry("flink", "symlink", link=f"{S}/outside/canary"), entry("flink", data=b"replacement\n")]),
        "a symlink to an outside file, then a regular file of the same name: the symlink is replaced, "
        "the outside file untouched", "harmless", present={"flink": ["file", "replacement\n", 0o644]})
    add("preexisting-symlink-replaced-by-file",
        tar_of([entry("victim", data=b"replacement\n", mode=0o600)]),
        "an existing symlink at a file's path is replaced by the file, its target untouched", "harmless",
        present={"victim": ["file", "replacement\n", 0o600]}, preexisting={"victim": "../outside/canary"})
    add("dir-then-symlink-same-name",
        tar_of([entry("x", "dir", mode=0o777), entry("x", "symlink", link="../outside")]),
        "a directory then a symlink of the same name: a deferred chmod/utime of the directory must not follow "
        "the symlink (the outside directory's mode and mtime would change)", "either",
        error=name_and("x", SYMLINK + "|exists|director"))
    add("symlink-then-dir-same-name",
        tar_of([entry("x", "symlink", link="../outside"), entry("x", "dir", mode=0o777)]),
        "a symlink then a directory of the same name: the directory's mode and mtime must not be applied "
        "through the symlink", "either", error=name_and("x", SYMLINK + "|exists|director"))

    # ---- hard links
    add("hardlink-abs-outside",
        tar_of([entry("stolen", "hardlink", link=f"{S}/outside/secret"), entry("stolen", data=b"pwned"), after]),
        "a hard link to an absolute file outside (/etc/passwd-like), then data written to that name", "refused",
        error=name_and("stolen", HARDLINK + "|" + ESCAPES), absent=["stolen", "after.txt"])
    add("hardlink-dotdot",
        tar_of([entry("stolen2", "hardlink", link="../../../outside/secret"), after]),
        "a hard link whose target climbs out with ..", "refused",
        error=name_and("stolen2", HARDLINK + "|" + ESCAPES), absent=["stolen2", "after.txt"])
    add("hardlink-through-symlink",
        tar_of([entry("esc", "symlink", link=f"{S}/outside"), entry("h", "hardlink", link="esc/secret"), after]),
        "a hard link whose target resolves through a symlink to outside", "refused",
        error=name_and("h", SYMLINK + "|" + HARDLINK + "|" + ESCAPES), absent=["h", "after.txt"])
    add("hardlink-to-symlink-outside",
        tar_of([entry("s", "symlink", link=f"{S}/outside/secret"), entry("h", "hardlink", link="s"),
                entry("h2", "hardlink", link="s")]),
        "a hard link to a symlink that points outside: linkat must not follow it (the outside file's link count "
        "would grow)", "either", error=name_and("h", SYMLINK + "|" + HARDLINK))
    add("hardlink-then-file",
        tar_of([entry("ok.txt", data=b"original\n"), entry("h", "hardlink", link="ok.txt"),
                entry("h", data=b"new\n")]),
        "a file replacing a hard link is a new file: the other name keeps its bytes (replaced, not patched)",
        "harmless", present={"ok.txt": ["file", "original\n", 0o644], "h": ["file", "new\n", 0o644]})

    # ---- special files and modes
    add("chardev", tar_of([entry("dev-null", "chardev", dev=(1, 3), mode=0o666), after]),
        "a character device (1,3)", "refused", error=name_and("dev-null", DEVICE),
        absent=["dev-null", "after.txt"])
    add("blockdev", tar_of([entry("dev-loop", "blockdev", dev=(7, 0), mode=0o660), after]),
        "a block device (7,0)", "refused", error=name_and("dev-loop", DEVICE), absent=["dev-loop", "after.txt"])
    add("fifo", tar_of([entry("a-fifo", "fifo"), after]),
        "a fifo", "refused", error=name_and("a-fifo", FIFO), absent=["a-fifo", "after.txt"])
    add("setuid-setgid",
        tar_of([entry("suid", data=b"#!/bin/sh\n", mode=0o6755), entry("sgid-dir", "dir", mode=0o2775),
                entry("sgid-dir/f", data=b"f\n", mode=0o2644), entry("sticky", "dir", mode=0o1777)]),
        "setuid/setgid bits are dropped (mode & 01777), the sticky bit kept", "harmless",
        present={"suid": ["file", "#!/bin/sh\n", 0o755], "sgid-dir": ["dir", 0o775],
                 "sgid-dir/f": ["file", "f\n", 0o644], "sticky": ["dir", 0o1777]},
        only=["sgid-dir", "sgid-dir/f", "sticky", "suid"])
    add("dotted-names",
        tar_of([entry("..\\evil", data=b"1"), entry("..hidden", data=b"2"), entry("a..b", data=b"3"),
                entry("...", data=b"4"), entry("d..", "dir")]),
        "names that contain dots or a backslash but no .. component are ordinary names", "harmless",
        present={"..\\evil": ["file", "1", None], "..hidden": ["file", "2", None], "a..b": ["file", "3", None],
                 "...": ["file", "4", None], "d..": ["dir", None]},
        only=["...", "..\\evil", "..hidden", "a..b", "d.."])

    # ---- corrupt input: valid controls first, so a refused truncation is the truncation's doing
    big = random.Random(7).randbytes(200_000)
    valid_entries = [entry("a.txt", data=b"a\n"), entry("b.bin", data=big)]
    valid = tar_of(valid_entries)
    with tarfile.open(fileobj=io.BytesIO(valid)) as t:
        b_info = t.getmember("b.bin")
    valid_present = {"a.txt": ["file", "a\n", 0o644], "b.bin": ["sha256", hashlib.sha256(big).hexdigest()]}
    add("tar-valid", valid, "control: the archive the truncated cases cut", "harmless",
        present=valid_present, only=["a.txt", "b.bin"])
    add("tar-truncated-mid-header", valid[:b_info.offset + 200],
        "a tar cut in the middle of a header", "refused", error=CORRUPT, absent=["b.bin"])
    add("tar-truncated-mid-data", valid[:b_info.offset_data + 100_000],
        "a tar cut in the middle of a file's data: the partial file is removed", "refused",
        error=CORRUPT, absent=["b.bin"])
    # Cut exactly where b.bin's header starts: every byte present is a whole entry, only the end-of-archive
    # blocks are missing. A cache cut there (an interrupted upload, a download stopped on a frame boundary)
    # would restore a.txt and silently lack b.bin, so it must be refused like any other truncation.
    at_boundary = valid[:b_info.offset]
    add("tar-cut-at-entry-boundary", at_boundary,
        "a tar that ends after a complete entry, without the two zero blocks that end an archive", "refused",
        error=CORRUPT, absent=["b.bin"])
    add("gzip-complete-of-cut-tar", gzip.compress(at_boundary, mtime=0),
        "a complete gzip stream whose tar ends after a complete entry, without end-of-archive blocks (what a "
        "multi-frame stream cut on a frame boundary looks like)", "refused", ext="tar.gz", error=CORRUPT,
        absent=["b.bin"])
    add("zstd-complete-of-cut-tar", zstd_frame(at_boundary),
        "a complete zstd frame whose tar ends after a complete entry, without end-of-archive blocks", "refused",
        ext="tar.zst", error=CORRUPT, absent=["b.bin"])
    bad_checksum = bytearray(valid)
    bad_checksum[b_info.offset + 10] ^= 0x55  # the name changes, the stored checksum does not
    add("tar-bad-checksum", bytes(bad_checksum), "a header whose checksum does not match", "refused",
        error=CORRUPT, absent=["b.bin"])
    for codec, frame, ext, magic in (("lz4", lz4_frame, "tar.lz4", LZ4_MAGIC),
                                     ("zstd", zstd_frame, "tar.zst", ZSTD_MAGIC),
                                     ("gzip", lambda d: gzip.compress(d, mtime=0), "tar.gz", b"\x1f\x8b")):
        framed = frame(valid)
        add(f"{codec}-valid", framed, f"control: the tar in a valid {codec} stream", "harmless", ext=ext,
            present=valid_present, only=["a.txt", "b.bin"])
        add(f"{codec}-truncated-mid-data", framed[:len(framed) * 6 // 10],
            f"a {codec} stream cut inside b.bin's data", "refused", ext=ext, error=CORRUPT, absent=["b.bin"])
        add(f"{codec}-truncated-after-header", framed[:{"lz4": 7, "zstd": 6, "gzip": 10}[codec]],
            f"a {codec} stream of its header only", "refused", ext=ext, error=CORRUPT + "|empty", only=[])
        noise = random.Random(f"magic-{codec}").randbytes(65536)
        add(f"{codec}-magic-random", magic + noise, f"the {codec} magic followed by random bytes", "refused",
            ext=ext, error=CORRUPT, only=[])
    add("random-raw", random.Random("raw").randbytes(65536), "64 KiB of random bytes", "refused",
        ext="bin", error=CORRUPT, only=[])
    add("gzip-of-random", gzip.compress(random.Random("gz").randbytes(65536), mtime=0),
        "a valid gzip stream of random bytes (not a tar)", "refused", ext="bin.gz", error=CORRUPT, only=[])
    add("empty", b"", "an empty input", "refused", ext="bin", error=CORRUPT + "|empty", only=[])
    add("zero-blocks", b"\0" * 10240, "only end-of-archive zero blocks: a valid empty archive", "harmless",
        only=[])

    # ---- sizes that lie
    info, _ = entry("huge.bin")
    info.size = 1 << 40
    add("huge-file-1tib-pax", info.tobuf(tarfile.PAX_FORMAT) + random.Random("huge").randbytes(1024),
        "a header claiming a 1 TiB file (pax size record) followed by 1 KiB: no 1 TiB file, no allocation",
        "refused", error=CORRUPT, absent=["huge.bin"])
    add("huge-file-1tib-base256",
        header_block(b"huge.bin", 1 << 40, b"0", base256_size=True) + random.Random("huge").randbytes(1024),
        "a GNU base-256 size field claiming 1 TiB, 1 KiB of data", "refused", error=CORRUPT, absent=["huge.bin"])
    records = pax_record("size", b"18446744073709551617") + pax_record("path", b"overflow.bin")
    add("pax-size-overflow",
        header_block(b"PaxHeader/overflow.bin", len(records), b"x") + padded(records)
        + header_block(b"overflow.bin", 10, b"0") + padded(b"0123456789") + END,
        "a pax size record of 2^64+1 (overflows 64 bits)", "refused", error=CORRUPT, absent=["overflow.bin"])
    add("pax-header-1tib",
        header_block(b"PaxHeader/x", 1 << 40, b"x") + padded(pax_record("path", b"x.bin")),
        "a pax extended header claiming 1 TiB of records (must not be read into memory)", "refused",
        error=CORRUPT, absent=["x.bin"])
    lying = b"999999 path=lying.bin\n"
    add("pax-record-length-lies",
        header_block(b"PaxHeader/lying", len(lying), b"x") + padded(lying)
        + header_block(b"lying.bin", 3, b"0") + padded(b"abc") + END,
        "a pax record whose length prefix runs past its header", "refused", error=CORRUPT, absent=["lying.bin"])
    add("gnu-longname-1tib",
        header_block(b"././@LongLink", 1 << 40, b"L") + padded(b"long-name.bin\0"),
        "a GNU long-name record claiming 1 TiB", "refused", error=CORRUPT, absent=["long-name.bin"])
    return cases


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    out = Path(argv[1])
    cases = make_corpus(out)
    (out / "manifest.json").write_text(json.dumps([asdict(c) for c in cases], indent=2, ensure_ascii=False) + "\n")
    print(f"{len(cases)} cases in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
