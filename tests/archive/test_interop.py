#!/usr/bin/env python3
"""cache-step's archives are ordinary archives, and ordinary archives restore with cache-step: ours through
`lz4 -dc`, `zstd -dc`, `gzip -dc` into GNU tar and Python's tarfile (every member checked against the source);
the parallel frames decode to exactly the `--format tar` stream whatever --threads and --level say; theirs (GNU
tar in gnu/posix/ustar formats through lz4/zstd/gzip, Python tarfile ustar/gnu/pax and gzip, a Go-style archive
with absolute names and no trailing slashes, GNU tar -P) restore with `cache-step unpack`. A missing reference
tool fails the test (./run installs them); nothing is skipped."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_harness import (COMPRESS, DECOMPRESS, FORMATS, MiB, Scratch, assert_same_tree,  # noqa: E402
                             cache_step_binary, decompress, expected_entry_names, make_tree, pack, pipe,
                             raw_headers, require_tools, unpack, walk)


def setUpModule():
    cache_step_binary()
    require_tools("tar", "lz4", "zstd", "gzip")


def ok(tc: unittest.TestCase, result, what: str = ""):
    tc.assertEqual(result.returncode, 0, f"{what}: exit {result.returncode}; stderr: "
                                         f"{result.stderr.decode(errors='replace')}")


def pipeline_ok(tc: unittest.TestCase, results, what: str):
    for command, code, err in results:
        tc.assertEqual(code, 0, f"{what}: `{command}` exit {code}: {err.decode(errors='replace')}")


class OursReadByReferenceToolsTest(unittest.TestCase):
    """One seeded tree (a 6 MiB file so the compressors cut several frames), packed once per format."""

    @classmethod
    def setUpClass(cls):
        cls.scratch = Scratch("interop-ours")
        cls.tmp = cls.scratch.path
        cls.ws = cls.tmp / "ws"
        cls.ws.mkdir()
        make_tree(cls.ws / "tree", "interop-ours", big=False, mid_size=6 * MiB + 3, random_files=60)
        cls.archives = {}
        for fmt in FORMATS:
            archive = cls.tmp / f"tree.{fmt}"
            result = pack(cls.ws, "tree", fmt=fmt, output=archive, extra=("-q",))
            if result.returncode != 0:
                raise AssertionError(f"pack --format {fmt} failed: {result.stderr.decode(errors='replace')}")
            cls.archives[fmt] = archive
        cls.tar_stream = cls.archives["tar"].read_bytes()

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_reference_decompressor_then_gnu_tar_extract(self):
        """`lz4 -dc | tar x` (and zstd, gzip; plain `tar x` for format tar) restore the same tree: bytes, modes,
        symlinks, hard links, empty dirs, mtimes."""
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                dest = self.tmp / f"gnu-tar-{fmt}"
                dest.mkdir()
                extract = ["tar", "-x", "-p", "-f", "-", "-C", str(dest)]
                commands = [extract] if fmt == "tar" else [DECOMPRESS[fmt], extract]
                _, results = pipe(commands, input_path=self.archives[fmt])
                pipeline_ok(self, results, f"{' | '.join(' '.join(c) for c in commands)} < {self.archives[fmt]}")
                assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True,
                                 what=f"GNU tar extract of --format {fmt}")

    def test_bsdtar_extracts_every_format(self):
        """libarchive's own reader (bsdtar: lz4 with our digest trailers, which it must skip, zstd, gzip, tar)."""
        if not shutil.which("bsdtar"):
            self.skipTest("bsdtar not installed (Debian libarchive-tools; ./run test installs it)")
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                dest = self.tmp / f"bsdtar-{fmt}"
                dest.mkdir()
                ok(self, subprocess.run(["bsdtar", "-x", "-p", "-f", str(self.archives[fmt]), "-C", str(dest)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE), f"bsdtar -x --format {fmt}")
                assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True,
                                 what=f"bsdtar extract of --format {fmt}")

    def test_gnu_tar_lists_the_entries_in_order(self):
        listed = subprocess.run(["tar", "-t", "--quoting-style=literal", "-f", str(self.archives["tar"])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "LC_ALL": "C.UTF-8"})
        self.assertEqual(listed.returncode, 0, listed.stderr)
        names = [n.rstrip("/") for n in listed.stdout.decode().split("\n") if n]
        self.assertEqual(names, expected_entry_names(self.ws, "tree"))

    def test_python_tarfile_reads_every_member(self):
        """Every member, in every format, matches the source: type, mode, mtime, bytes, symlink target; a hard
        link names the first path of its inode."""
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                data = self.archives[fmt].read_bytes()
                stream = gzip.decompress(data) if fmt == "gzip" else decompress(fmt, data)
                self.check_members(stream, f"format {fmt}")

    def check_members(self, stream: bytes, what: str):
        first_name_of_inode: dict[tuple[int, int], str] = {}
        seen = []
        with tarfile.open(fileobj=io.BytesIO(stream), mode="r:") as tar:
            for m in tar:
                name = m.name.rstrip("/")
                seen.append(name)
                st = os.lstat(self.ws / name)
                where = f"{what}: {name}"
                if stat.S_ISLNK(st.st_mode):
                    self.assertTrue(m.issym(), where)
                    self.assertEqual(m.linkname, os.readlink(self.ws / name), where)
                    continue
                self.assertEqual(oct(m.mode & 0o7777), oct(stat.S_IMODE(st.st_mode)), f"{where}: mode")
                self.assertEqual(int(m.mtime), int(st.st_mtime), f"{where}: mtime")
                if stat.S_ISDIR(st.st_mode):
                    self.assertTrue(m.isdir(), where)
                    continue
                self.assertTrue(stat.S_ISREG(st.st_mode), where)
                key = (st.st_dev, st.st_ino)
                if st.st_nlink > 1 and key in first_name_of_inode:
                    self.assertTrue(m.islnk(), f"{where}: a later name of an inode is a hard-link entry")
                    self.assertEqual(m.linkname, first_name_of_inode[key], where)
                    continue
                first_name_of_inode[key] = name
                self.assertTrue(m.isfile(), where)
                self.assertEqual(m.size, st.st_size, where)
                self.assertEqual(tar.extractfile(m).read(), (self.ws / name).read_bytes(), f"{where}: bytes")
        self.assertEqual(seen, expected_entry_names(self.ws, "tree"), f"{what}: member names")

    def test_python_reads_gzip_output_directly(self):
        """The gzip members (one per parallel chunk) read as one stream by Python's gzip and tarfile r:gz."""
        with tarfile.open(self.archives["gzip"], mode="r:gz") as tar:
            self.assertEqual([m.name.rstrip("/") for m in tar], expected_entry_names(self.ws, "tree"))
        self.assertEqual(gzip.decompress(self.archives["gzip"].read_bytes()), self.tar_stream)

    def test_compressed_streams_decode_to_the_tar_stream(self):
        """Whatever the codec, threads and level, the reference decoder yields exactly the `--format tar`
        bytes: compression is framing around one deterministic tar stream."""
        for fmt in ("lz4", "zstd", "gzip"):
            for extra in ((), ("--threads", "1"), ("--threads", "3"), ("--level", "1"), ("--level", "9")):
                with self.subTest(format=fmt, flags=" ".join(extra)):
                    result = pack(self.ws, "tree", fmt=fmt, extra=("-q", *extra))
                    ok(self, result, f"pack --format {fmt} {' '.join(extra)}")
                    decoded = decompress(fmt, result.stdout)
                    self.assertTrue(decoded == self.tar_stream,
                                    f"{' '.join(DECOMPRESS[fmt])} of --format {fmt} {' '.join(extra)} differs from "
                                    f"--format tar ({len(decoded)} vs {len(self.tar_stream)} bytes)")

    def test_headers_are_posix_pax_not_gnu(self):
        """A POSIX pax stream: every header has the POSIX magic (`ustar\\0` `00`); long names and link targets
        use pax records ('x'), never GNU 'L'/'K' records."""
        headers = raw_headers(self.tar_stream)
        self.assertTrue(headers)
        self.assertEqual({h["magic"] for h in headers}, {b"ustar\x0000"})
        flags = {h["typeflag"] for h in headers}
        self.assertFalse(flags & {b"L", b"K"}, f"GNU long-name records: {flags}")
        self.assertIn(b"x", flags, "the 200+ byte names need pax records")
        self.assertLessEqual(flags, {b"0", b"1", b"2", b"5", b"x", b"g"}, flags)


class GoTarInfo(tarfile.TarInfo):
    """Go's archive/tar as the Drone cache plugin drives it: it sets header.Name to the absolute path, so
    directory names carry no trailing slash (tarfile adds one; this does not)."""

    def get_info(self):
        info = super().get_info()
        info["name"] = info["name"].rstrip("/")
        return info


class TheirsReadByOursTest(unittest.TestCase):
    """Archives written by GNU tar, Python's tarfile and a Go-style writer, restored with cache-step unpack."""

    @classmethod
    def setUpClass(cls):
        cls.scratch = Scratch("interop-theirs")
        cls.tmp = cls.scratch.path
        cls.ws = cls.tmp / "ws"
        cls.ws.mkdir()
        make_tree(cls.ws / "tree", "interop-theirs", big=False, mid_size=2 * MiB + 1, random_files=40)
        # ustar cannot hold names over 256 bytes or link targets over 100: a tree without them.
        make_tree(cls.ws / "short", "interop-short", big=False, long_names=False, random_files=20)

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def restore(self, archive: Path, label: str, *, mount: Path | None = None) -> Path:
        dest = self.tmp / f"dest-{label}"
        self.assertFalse(dest.exists(), dest)
        ok(self, unpack(archive, dest, mount=mount), f"cache-step unpack -C {dest} {archive} ({label})")
        return dest

    def test_gnu_tar_archives_through_each_compressor(self):
        for tar_format in ("gnu", "posix"):
            for codec in ("none", "lz4", "zstd", "gzip"):
                with self.subTest(format=tar_format, codec=codec):
                    label = f"gnu-{tar_format}-{codec}"
                    archive = self.tmp / f"{label}.archive"
                    commands = [["tar", "-C", str(self.ws), f"--format={tar_format}", "-cf", "-", "tree"]]
                    if codec != "none":
                        commands.append(COMPRESS[codec])
                    out, results = pipe(commands)
                    pipeline_ok(self, results, label)
                    archive.write_bytes(out)
                    dest = self.restore(archive, label)
                    assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True, what=label)

    def test_reference_compressor_options(self):
        """The frame options other writers use: lz4 with linked blocks, block checksums, content size, 4 MiB
        blocks, or the default of `lz4` without -c flags; zstd with a high level, no checksum, several threads,
        long mode; gzip -9 and -1 --no-name. Detection and decoding must accept every one."""
        plain, results = pipe([["tar", "-C", str(self.ws), "--format=posix", "-cf", "-", "tree"]])
        pipeline_ok(self, results, "tar c")
        variants = [["lz4", "-c", "-q", "-BD"], ["lz4", "-c", "-q", "-BX", "--content-size", "-B7"],
                    ["lz4", "-c", "-q", "--no-frame-crc", "-9"],
                    ["zstd", "-c", "-q", "-19"], ["zstd", "-c", "-q", "--no-check", "-T2"],
                    ["zstd", "-c", "-q", "--long=27"], ["gzip", "-c", "-9"], ["gzip", "-c", "-1", "--no-name"]]
        for index, command in enumerate(variants):
            with self.subTest(command=" ".join(command)):
                compressed = subprocess.run(command, input=plain, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                self.assertEqual(compressed.returncode, 0, compressed.stderr)
                archive = self.tmp / f"variant-{index}.archive"
                archive.write_bytes(compressed.stdout)
                dest = self.restore(archive, f"variant-{index}")
                assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True, what=" ".join(command))

    def test_gnu_tar_ustar_and_dot_archives(self):
        """`--format=ustar`, and `tar -czf - .` from inside the tree (names `./x`, a `./` root entry)."""
        archive = self.tmp / "ustar.tar"
        subprocess.run(["tar", "-C", str(self.ws), "--format=ustar", "-cf", str(archive), "short"], check=True)
        dest = self.restore(archive, "gnu-ustar")
        assert_same_tree(self, self.ws / "short", dest / "short", root_metadata=True, what="GNU tar ustar")

        archive = self.tmp / "dot.tar.gz"
        subprocess.run(["tar", "-C", str(self.ws / "tree"), "-czf", str(archive), "."], check=True)
        dest = self.restore(archive, "gnu-dot")
        assert_same_tree(self, self.ws / "tree", dest, what="GNU tar of '.'")

    def test_gnu_tar_absolute_names_remap_onto_mount(self):
        """`tar -P` keeps absolute names (with trailing slashes): the first entry is the root, remapped."""
        archive = self.tmp / "absolute.tar.zst"
        out, results = pipe([["tar", "-P", "-cf", "-", str(self.ws / "tree")], COMPRESS["zstd"]])
        pipeline_ok(self, results, "tar -P | zstd")
        archive.write_bytes(out)
        mount = self.tmp / "mounted" / "tree"
        self.restore(archive, "gnu-absolute", mount=mount)
        assert_same_tree(self, self.ws / "tree", mount, root_metadata=True, what="GNU tar -P onto --mount")

    def test_python_tarfile_archives(self):
        """tarfile's ustar, gnu and pax formats, plain and gzip (pax stores the fractional mtime as a record)."""
        for fmt_name, fmt, source in (("ustar", tarfile.USTAR_FORMAT, "short"), ("gnu", tarfile.GNU_FORMAT, "tree"),
                                      ("pax", tarfile.PAX_FORMAT, "tree")):
            for mode in ("w", "w:gz"):
                with self.subTest(format=fmt_name, mode=mode):
                    label = f"python-{fmt_name}-{mode.replace(':', '')}"
                    archive = self.tmp / f"{label}.archive"
                    with tarfile.open(archive, mode=mode, format=fmt) as tar:
                        tar.add(self.ws / source, arcname=source)
                    dest = self.restore(archive, label)
                    assert_same_tree(self, self.ws / source, dest / source, root_metadata=True, what=label)

    def go_style_archive(self, recorded_root: str) -> bytes:
        """The tree as the Drone cache plugin (Go) writes it: absolute names under the mount it saved, first
        entry the mount directory itself, no trailing slashes, pre-order in lexical order, PAX where needed;
        Go's FileInfoHeader does not detect hard links, so every file is stored in full."""
        buf = io.BytesIO()
        base = self.ws / "tree"
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, tarinfo=GoTarInfo) as tar:
            for rel in [""] + walk(base):
                path = base / rel if rel else base
                st = os.lstat(path)
                info = GoTarInfo(recorded_root + ("/" + rel if rel else ""))
                info.mode = stat.S_IMODE(st.st_mode)
                info.mtime = int(st.st_mtime)
                info.uid = info.gid = 0
                if stat.S_ISDIR(st.st_mode):
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif stat.S_ISLNK(st.st_mode):
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.readlink(path)
                    tar.addfile(info)
                else:
                    info.size = st.st_size
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
        return buf.getvalue()

    def test_go_style_absolute_archive_remaps(self):
        """A Drone-plugin archive saved at a path that does not exist here restores onto DIR and onto --mount;
        the recorded path is never created."""
        recorded_root = str(self.tmp / "recorded" / "drone" / "src" / "node_modules")
        data = self.go_style_archive(recorded_root)
        dir_headers = [h for h in raw_headers(data) if h["typeflag"] == b"5"]
        self.assertTrue(dir_headers and not any(h["name"].endswith(b"/") for h in dir_headers),
                        "fixture: Go-style directory names carry no trailing slash")
        for codec in ("none", "gzip", "zstd"):
            with self.subTest(codec=codec):
                archive = self.tmp / f"go-{codec}.archive"
                archive.write_bytes(data if codec == "none" else gzip.compress(data, mtime=0) if codec == "gzip"
                                    else compress_with(COMPRESS["zstd"], data))
                dest = self.restore(archive, f"go-{codec}")
                assert_same_tree(self, self.ws / "tree", dest, hardlinks=False, what=f"Go-style ({codec}) onto DIR")
                mount = self.tmp / f"go-mount-{codec}" / "node_modules"
                self.restore(archive, f"go-{codec}-dir", mount=mount)
                assert_same_tree(self, self.ws / "tree", mount, hardlinks=False, root_metadata=True,
                                 what=f"Go-style ({codec}) onto --mount")
                self.assertFalse((self.tmp / "recorded").exists(), "the recorded path must not be written")


def compress_with(command: list[str], data: bytes) -> bytes:
    return subprocess.run(command, input=data, stdout=subprocess.PIPE, check=True).stdout


if __name__ == "__main__":
    unittest.main(verbosity=2)
