#!/usr/bin/env python3
"""`cache-step pack` then `cache-step unpack` reproduce a tree exactly, for every format: bytes, modes,
symlink targets, hard-link identity (one inode after restore), empty directories and mtimes to the second, on a
seeded tree holding every kind of entry a cache meets (archive_harness.make_tree). Also: the entry order and
byte-identical output the cache key relies on, several sources, --absolute-names with remapping onto another
directory and --mount, replacing what the destination already holds, skipped special files, missing sources,
-q, and a destination that does not exist yet."""

from __future__ import annotations

import io
import os
import random
import socket
import stat
import subprocess
import sys
import tarfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_harness import (FORMATS, MAGIC, Scratch, assert_same_tree, cache_step_binary,  # noqa: E402
                             error_lines, expected_entry_names, make_tree, matching_error, mixed_bytes, pack,
                             random_bytes, run, unpack, walk)


def setUpModule():
    cache_step_binary()  # a missing binary fails every test with one clear message


def ok(tc: unittest.TestCase, result, what: str = ""):
    tc.assertEqual(result.returncode, 0, f"{what} exit {result.returncode}; stderr: "
                                         f"{result.stderr.decode(errors='replace')}")


def member_names(tar_bytes: bytes) -> list[str]:
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tar:
        return [m.name.rstrip("/") for m in tar.getmembers()]


class RoundTripTest(unittest.TestCase):
    """The full tree (with the ~20 MiB file) through every format, made once for the class."""

    @classmethod
    def setUpClass(cls):
        cls.scratch = Scratch("roundtrip")
        cls.tmp = cls.scratch.path
        cls.ws = cls.tmp / "ws"
        cls.ws.mkdir()
        make_tree(cls.ws / "tree", "roundtrip", big=True)

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def fresh(self, label: str) -> Path:
        path = self.tmp / label
        self.assertFalse(path.exists())
        return path

    def test_every_format_round_trips_the_tree(self):
        """Each format through a file: the restored tree equals the source, the tree's own entry included."""
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                archive = self.tmp / f"tree.{fmt}"
                ok(self, pack(self.ws, "tree", fmt=fmt, output=archive), f"pack --format {fmt}")
                data = archive.read_bytes()
                if fmt in MAGIC:
                    self.assertTrue(data.startswith(MAGIC[fmt]), f"{fmt} output starts with {data[:4].hex()}")
                else:
                    self.assertEqual(data[257:263], b"ustar\0", "format tar is an uncompressed POSIX tar")
                dest = self.fresh(f"dest-{fmt}")
                ok(self, unpack(archive, dest), f"unpack of --format {fmt}")
                self.assertEqual(os.listdir(dest), ["tree"])
                assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True,
                                 what=f"format {fmt}")
                archive.unlink()

    def test_default_format_is_lz4_through_stdout_and_stdin(self):
        """`pack` with no -o writes lz4 to stdout; `unpack` with no FILE (and with `-`) reads stdin."""
        result = run("pack", "-C", str(self.ws), "-q", "tree", timeout=300)
        ok(self, result, "pack to stdout")
        self.assertTrue(result.stdout.startswith(MAGIC["lz4"]), f"default format is lz4: {result.stdout[:4].hex()}")
        for label, extra in (("no-file", ()), ("dash", ("-",))):
            with self.subTest(stdin=label):
                dest = self.fresh(f"dest-stdin-{label}")
                ok(self, run("unpack", "-C", str(dest), *extra, input_bytes=result.stdout, timeout=300),
                   f"unpack from stdin ({label})")
                assert_same_tree(self, self.ws / "tree", dest / "tree", root_metadata=True)

    def test_entry_order_is_preorder_with_children_byte_sorted(self):
        """The cache key is the archive: the order is part of the format. Pre-order, children by byte order
        (so `order/a/x` comes before `order/a b`); a hard link's later names are link entries to the first."""
        archive = self.tmp / "order.tar"
        ok(self, pack(self.ws, "tree", fmt="tar", output=archive, extra=("-q",)))
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
        names = [m.name.rstrip("/") for m in members]
        self.assertEqual(names, expected_entry_names(self.ws, "tree"))
        by_name = {m.name.rstrip("/"): m for m in members}
        # By component "hard" < "hard-c.bin", so hard/a.bin comes first (a whole-path sort would put
        # hard-c.bin first: '-' < '/').
        self.assertTrue(by_name["tree/hard/a.bin"].isfile(), "the first name of a hard link holds the data")
        for later in ("tree/hard/b.bin", "tree/hard-c.bin"):
            self.assertTrue(by_name[later].islnk(), f"{later} is a hard-link entry")
            self.assertEqual(by_name[later].linkname, "tree/hard/a.bin")
            self.assertEqual(by_name[later].size, 0, "stored once")
        self.assertEqual(by_name["tree/hard/empty-2"].linkname, "tree/hard/empty-1")
        self.assertEqual(by_name["tree/links/relative"].linkname, "../README with space.txt")
        self.assertEqual(by_name["tree/links/absolute-dir"].linkname, "/etc")
        self.assertTrue(by_name["tree/empty-dir"].isdir())
        archive.unlink()

    def test_unpack_reads_a_trickling_pipe(self):
        """Codec detection and parsing must not depend on how reads split the stream: the archive arrives
        through a pipe one byte at a time for its first bytes, then in odd-sized pieces (a slow download)."""
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                archive = self.tmp / f"trickle.{fmt}"
                ok(self, pack(self.ws, "tree/links", "tree/nested", "tree/one.bin", fmt=fmt, output=archive,
                              extra=("-q",)))
                data = archive.read_bytes()
                dest = self.fresh(f"dest-trickle-{fmt}")
                err_file = self.tmp / f"trickle-{fmt}.stderr"
                with open(err_file, "wb") as err_out:
                    proc = subprocess.Popen([cache_step_binary(), "unpack", "-q", "-C", str(dest)],
                                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err_out)
                try:
                    pos = 0
                    for size in [1] * 6 + [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]:
                        proc.stdin.write(data[pos:pos + size])
                        proc.stdin.flush()
                        pos += size
                        time.sleep(0.01)
                    while pos < len(data):
                        proc.stdin.write(data[pos:pos + 4093])
                        proc.stdin.flush()
                        pos += 4093
                    proc.stdin.close()
                    proc.wait(timeout=60)
                    err = err_file.read_bytes()
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
                for part in ("links", "nested"):
                    assert_same_tree(self, self.ws / "tree" / part, dest / "tree" / part, root_metadata=True,
                                     what=f"trickled {fmt}")
                self.assertEqual((dest / "tree" / "one.bin").read_bytes(), b"\x01")

    def test_packing_twice_gives_identical_bytes(self):
        """Same tree, same bytes (format tar): nothing time-dependent (atime, ctime, inode numbers, the
        clock) may reach the stream, or every save would look like a new cache. The first pack reads every
        file, which updates atimes. -o FILE and stdout agree too."""
        first = self.tmp / "first.tar"
        ok(self, pack(self.ws, "tree", fmt="tar", output=first, extra=("-q",)))
        second = pack(self.ws, "tree", fmt="tar", extra=("-q",))
        ok(self, second)
        data = first.read_bytes()
        self.assertEqual(len(second.stdout), len(data))
        if second.stdout != data:
            at = next(i for i, (a, b) in enumerate(zip(data, second.stdout)) if a != b)
            self.fail(f"the two packs differ first at byte {at} (block {at // 512}): "
                      f"{data[at // 512 * 512: at // 512 * 512 + 512]!r}")
        first.unlink()


class BehaviourTest(unittest.TestCase):
    """Smaller trees, one scratch directory per test."""

    def setUp(self):
        self.scratch = Scratch("roundtrip-behaviour")
        self.tmp = self.scratch.path

    def tearDown(self):
        self.scratch.cleanup()

    def test_multiple_sources_and_a_single_file(self):
        """Several PATHs (a dir, a nested dir, a single file) in one archive; nothing else from the
        workspace. A nested source needs its parent created on restore even if the archive has no entry for it."""
        ws = self.tmp / "ws"
        make_tree(ws / "a", "multi-a", big=False, long_names=False, random_files=10)
        make_tree(ws / "b" / "c", "multi-c", big=False, long_names=True, random_files=10)
        (ws / "b" / "not-packed.txt").write_bytes(b"no")
        (ws / "file.txt").write_bytes(b"single file\n")
        os.chmod(ws / "file.txt", 0o751)
        os.utime(ws / "file.txt", (1500000000, 1500000000))
        (ws / "other").mkdir()
        archive = self.tmp / "multi.tar.zst"
        ok(self, pack(ws, "a", "b/c", "file.txt", fmt="zstd", output=archive))
        dest = self.tmp / "dest"
        ok(self, unpack(archive, dest))
        self.assertEqual(sorted(os.listdir(dest)), ["a", "b", "file.txt"])
        self.assertEqual(os.listdir(dest / "b"), ["c"], "b/not-packed.txt was not a source")
        assert_same_tree(self, ws / "a", dest / "a", root_metadata=True)
        assert_same_tree(self, ws / "b" / "c", dest / "b" / "c", root_metadata=True)
        st = os.lstat(dest / "file.txt")
        self.assertEqual((dest / "file.txt").read_bytes(), b"single file\n")
        self.assertEqual((oct(stat.S_IMODE(st.st_mode)), int(st.st_mtime)), (oct(0o751), 1500000000))

    def test_path_spelling_does_not_change_the_archive(self):
        """`node_modules`, `node_modules/` (how CI configs often write a mount), `./node_modules`, a workspace
        given with a trailing slash or as the current directory: one cache, byte for byte."""
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "spelling", big=False, long_names=True, random_files=10)
        reference = pack(ws, "node_modules", fmt="tar", extra=("-q",))
        ok(self, reference)
        self.assertEqual(member_names(reference.stdout)[0], "node_modules")
        for label, workspace, path, cwd in (("trailing slash", ws, "node_modules/", None),
                                            ("dot slash", ws, "./node_modules", None),
                                            ("workspace with slash", f"{ws}/", "node_modules", None),
                                            ("no -C, cwd", None, "node_modules", ws)):
            with self.subTest(spelling=label):
                again = pack(workspace, path, fmt="tar", extra=("-q",), cwd=cwd)
                ok(self, again, label)
                self.assertTrue(again.stdout == reference.stdout, f"{label}: names "
                                f"{member_names(again.stdout)[:3]} vs {member_names(reference.stdout)[:3]}")

    def test_missing_sources_warn_and_all_missing_fails(self):
        """A missing PATH is a warning naming it (a cache of a directory the build did not make); when none
        exists it is an error, exit 1."""
        ws = self.tmp / "ws"
        (ws / "present").mkdir(parents=True)
        (ws / "present" / "x.txt").write_bytes(b"x")
        archive = self.tmp / "some.tar"
        result = pack(ws, "missing-one", "present", "missing-two", fmt="tar", output=archive)
        ok(self, result, "pack with some sources missing")
        stderr = result.stderr.decode(errors="replace")
        self.assertIn("missing-one", stderr)
        self.assertIn("missing-two", stderr)
        self.assertEqual(member_names(archive.read_bytes()), ["present", "present/x.txt"])

        result = pack(ws, "missing-one", "missing-two", fmt="tar", output=self.tmp / "none.tar")
        self.assertEqual(result.returncode, 1, f"all sources missing must fail; stderr: {result.stderr!r}")
        self.assertTrue(error_lines(result.stderr), f"an error line starting 'cache-step: ': {result.stderr!r}")

    def test_absolute_names_remap_onto_dir_and_mount(self):
        """--absolute-names (the Drone plugin's style): every name is absolute, the source's root entry first.
        Unpacked elsewhere, the root maps onto DIR (or --mount): hard links are remapped with it, symlink targets
        stay verbatim; nothing is written at the recorded path."""
        ws = self.tmp / "harness"
        make_tree(ws / "node_modules", "absolute", big=False, long_names=True, random_files=30)
        root = str(ws / "node_modules")
        archive = self.tmp / "abs.tar"
        ok(self, pack(ws, "node_modules", fmt="tar", output=archive, extra=("--absolute-names",)))
        names = member_names(archive.read_bytes())
        self.assertEqual(names[0], root, "the source's root entry comes first, absolute")
        self.assertEqual(names, [root] + [f"{root}/{rel}" for rel in walk(ws / "node_modules")])
        with tarfile.open(archive) as tar:
            links = {m.name: m.linkname for m in tar.getmembers() if m.islnk()}
        self.assertTrue(links and all(t.startswith(root + "/") for t in links.values()),
                        f"hard-link targets are absolute too: {links}")

        # An absolute PATH without -C gives the same archive.
        again = pack(None, root, fmt="tar", extra=("--absolute-names", "-q"), cwd=self.tmp)
        ok(self, again)
        self.assertEqual(again.stdout, archive.read_bytes(), "pack --absolute-names /abs/path == -C dir path")

        compressed = self.tmp / "abs.tar.lz4"
        ok(self, pack(ws, "node_modules", fmt="lz4", output=compressed, extra=("--absolute-names",)))
        other = self.tmp / "other"
        ok(self, unpack(compressed, other), "unpack -C other (root remapped onto DIR)")
        assert_same_tree(self, ws / "node_modules", other, what="remapped onto DIR")

        elsewhere = self.tmp / "elsewhere"
        mount = self.tmp / "mounted" / "node_modules"
        ok(self, unpack(compressed, elsewhere, mount=mount), "unpack --mount")
        assert_same_tree(self, ws / "node_modules", mount, root_metadata=True, what="remapped onto --mount")
        self.assertEqual(os.listdir(elsewhere) if elsewhere.exists() else [], [], "nothing lands in DIR itself")

        # Restoring in place: the recorded path is the mount (the plugin's restore). The original moves aside
        # (rename keeps inodes, hard links and mtimes) to be the reference.
        reference = self.tmp / "reference"
        os.rename(ws / "node_modules", reference)
        ok(self, unpack(compressed, self.tmp / "cwd", mount=ws / "node_modules"), "restore in place")
        assert_same_tree(self, reference, ws / "node_modules", root_metadata=True, what="restored in place")

    def test_existing_files_are_replaced_not_patched(self):
        """A restore over an old checkout: a longer existing file leaves no trailing bytes; a symlink at a
        file's path is replaced and its target untouched; a read-only file is replaced; a file hard-linked to
        one outside the destination is replaced, so the outside name keeps its bytes."""
        ws = self.tmp / "ws"
        make_tree(ws / "tree", "replace", big=False, long_names=False, random_files=10)
        archive = self.tmp / "tree.tar.gz"
        ok(self, pack(ws, "tree", fmt="gzip", output=archive))

        dest = self.tmp / "dest"
        (dest / "tree").mkdir(parents=True)
        (dest / "tree" / "README with space.txt").write_bytes(b"an older and much longer README" * 100)
        outside = self.tmp / "outside-target.txt"
        outside.write_bytes(b"outside: must not change\n")
        os.symlink(outside, dest / "tree" / "one.bin")
        (dest / "tree" / "readonly.txt").write_bytes(b"old read-only content, longer than the new one\n")
        os.chmod(dest / "tree" / "readonly.txt", 0o444)
        linked_outside = self.tmp / "linked-outside.sh"
        linked_outside.write_bytes(b"#!/bin/sh\necho old\n# and more, longer than the new file\n")
        os.link(linked_outside, dest / "tree" / "exec.sh")
        (dest / "tree" / "empty.bin").write_bytes(b"was not empty")

        ok(self, unpack(archive, dest), "unpack over existing files")
        assert_same_tree(self, ws / "tree", dest / "tree", root_metadata=True, what="restored over old files")
        self.assertEqual(outside.read_bytes(), b"outside: must not change\n")
        self.assertEqual(linked_outside.read_bytes(), b"#!/bin/sh\necho old\n# and more, longer than the new file\n")
        self.assertEqual(os.lstat(linked_outside).st_nlink, 1, "the restored exec.sh is a new inode")

    def test_sockets_and_fifos_are_skipped_with_a_warning(self):
        """Sockets, fifos (and devices) cannot be cached: skipped, with a warning naming each; the rest packs."""
        ws = self.tmp / "ws"
        (ws / "tree").mkdir(parents=True)
        (ws / "tree" / "regular.txt").write_bytes(b"kept\n")
        os.mkfifo(ws / "tree" / "a-fifo")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(str(ws / "tree" / "a-socket"))
            archive = self.tmp / "special.tar"
            result = pack(ws, "tree", fmt="tar", output=archive, timeout=60)
        finally:
            sock.close()
        ok(self, result, "pack with a fifo and a socket")
        stderr = result.stderr.decode(errors="replace")
        self.assertIn("a-fifo", stderr, "the fifo is named in a warning")
        self.assertIn("a-socket", stderr, "the socket is named in a warning")
        self.assertEqual(member_names(archive.read_bytes()), ["tree", "tree/regular.txt"])
        dest = self.tmp / "dest"
        ok(self, unpack(archive, dest))
        self.assertEqual(os.listdir(dest / "tree"), ["regular.txt"])

    def test_unreadable_file_is_an_error_naming_it(self):
        """A file the packer cannot read (EACCES) must fail the pack, not make a cache missing a file."""
        if os.geteuid() == 0:
            self.skipTest("root reads every file: EACCES cannot happen")
        ws = self.tmp / "ws"
        (ws / "tree").mkdir(parents=True)
        (ws / "tree" / "locked.bin").write_bytes(b"locked")
        os.chmod(ws / "tree" / "locked.bin", 0)
        result = pack(ws, "tree", fmt="tar", output=self.tmp / "x.tar")
        self.assertEqual(result.returncode, 1, f"stderr: {result.stderr!r}")
        self.assertIsNotNone(matching_error(result.stderr, "locked.bin"), f"names the file: {result.stderr!r}")

    def test_quiet_prints_nothing_on_success(self):
        """Without -q pack says what it did on stderr; with -q pack and unpack print nothing on success."""
        ws = self.tmp / "ws"
        make_tree(ws / "tree", "quiet", big=False, long_names=False, random_files=5)
        loud = pack(ws, "tree", output=self.tmp / "loud.lz4")
        ok(self, loud)
        self.assertNotEqual(loud.stderr, b"", "without -q, a summary line")
        quiet = pack(ws, "tree", output=self.tmp / "quiet.lz4", extra=("-q",))
        ok(self, quiet)
        self.assertEqual(quiet.stderr, b"")
        restored = unpack(self.tmp / "quiet.lz4", self.tmp / "dest", extra=("-q",))
        ok(self, restored)
        self.assertEqual(restored.stderr, b"")

    def test_destination_is_created_when_missing(self):
        ws = self.tmp / "ws"
        make_tree(ws / "tree", "create-dest", big=False, long_names=True, random_files=5)
        archive = self.tmp / "t.zst"
        ok(self, pack(ws, "tree", fmt="zstd", output=archive))
        dest = self.tmp / "does" / "not" / "exist"
        ok(self, unpack(archive, dest))
        assert_same_tree(self, ws / "tree", dest / "tree", root_metadata=True)

    def test_archive_order_wins_over_parallel_writers(self):
        """unpack writes small files on worker threads; the result must still be the archive applied in order.
        A Python-made archive of 2000 small files in 40 directories (some read-only), where 100 names appear
        again later with new bytes and modes (the last wins, as a new inode: replaced, not patched), hard links
        come right after their target's first version (so they keep the old bytes when the target is replaced),
        and a symlink replaces a file. The expected tree is built by applying the entries in order."""
        rng = random.Random("parallel-order")
        entries: list[tuple[tarfile.TarInfo, bytes]] = []

        def add(name, kind, data=b"", mode=0o644, mtime=None, link=""):
            info = tarfile.TarInfo(name)
            info.type = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "hardlink": tarfile.LNKTYPE,
                         "symlink": tarfile.SYMTYPE}[kind]
            info.mode, info.linkname = mode, link
            info.mtime = mtime if mtime is not None else rng.randint(1000000000, 1700000000)
            info.size = len(data) if kind == "file" else 0
            entries.append((info, data))

        versions: dict[str, tuple[bytes, int, int]] = {}   # the bytes, mode and mtime each file had last
        for i in range(40):
            add(f"d{i:02d}", "dir", mode=0o555 if i % 7 == 0 else 0o755)
            for j in range(50):
                name = f"d{i:02d}/f{j:02d}"
                data = random_bytes(rng.choice([0, 1, 100, 511, 512, 4096, 70000]), f"v1-{name}")
                mode = rng.choice([0o644, 0o600, 0o755, 0o444])
                add(name, "file", data, mode)
                versions[name] = (data, mode, entries[-1][0].mtime)
                if j % 10 == 3:  # a hard link right behind its target, same metadata
                    add(f"d{i:02d}/link-to-f{j:02d}", "hardlink", mode=mode, mtime=entries[-1][0].mtime, link=name)
        for k in range(100):
            name = f"d{k % 40:02d}/f{(k * 7) % 50:02d}"
            data = random_bytes(rng.choice([0, 3, 2000, 300000]), f"v2-{name}-{k}")
            add(name, "file", data, 0o640)
        add("d01/f05", "symlink", link="f06", mode=0o777)  # a file replaced by a symlink

        archive = self.tmp / "ordered.tar"
        with tarfile.open(archive, "w", format=tarfile.PAX_FORMAT) as tar:
            for info, data in entries:
                tar.addfile(info, io.BytesIO(data) if info.type == tarfile.REGTYPE else None)

        # The expected tree: the entries applied one after the other, replacing (never patching); directories'
        # modes and mtimes last, deepest first.
        model = self.tmp / "model"
        model.mkdir()
        dir_meta = []
        for info, data in entries:
            path = model / info.name
            if info.isdir():
                path.mkdir(exist_ok=True)
                dir_meta.append((path, info.mode, info.mtime))
                continue
            if os.path.lexists(path):
                os.unlink(path)
            if info.issym():
                os.symlink(info.linkname, path)
            elif info.islnk():
                os.link(model / info.linkname, path)
            else:
                path.write_bytes(data)
                os.chmod(path, info.mode)
                os.utime(path, (info.mtime, info.mtime))
        for path, mode, mtime in reversed(dir_meta):
            os.chmod(path, mode)
            os.utime(path, (mtime, mtime))

        for threads in ("1", "8"):
            with self.subTest(threads=threads):
                dest = self.tmp / f"dest-{threads}"
                ok(self, unpack(archive, dest, extra=("--threads", threads, "-q")), f"unpack --threads {threads}")
                assert_same_tree(self, model, dest, what=f"ordered restore, --threads {threads}")

    def test_large_file_sizes_around_frame_edges(self):
        """Files whose sizes straddle likely chunk sizes of the parallel compressor (powers of two, ±1), each
        restored byte for byte in every format."""
        ws = self.tmp / "ws"
        (ws / "sizes").mkdir(parents=True)
        for exp in (16, 17, 20, 22):
            for delta in (-1, 0, 1):
                size = (1 << exp) + delta
                (ws / "sizes" / f"s-{size}").write_bytes(mixed_bytes(size, f"size-{size}"))
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                archive = self.tmp / f"sizes.{fmt}"
                ok(self, pack(ws, "sizes", fmt=fmt, output=archive, extra=("-q",)))
                dest = self.tmp / f"dest-{fmt}"
                ok(self, unpack(archive, dest, extra=("-q",)))
                assert_same_tree(self, ws / "sizes", dest / "sizes", root_metadata=True, what=f"sizes, {fmt}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
