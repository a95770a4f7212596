#!/usr/bin/env python3
"""`cache-step unpack` against hostile and corrupt archives (hostile_corpus.py): every entry must land inside
the destination. Each case runs in a fresh parent inside one sandbox; the whole sandbox (its outside
directories with canary files, every other case's directory, the corpus) is snapshotted before and after, so a
write, a new file, a hard link (link count), a chmod or a utime anywhere but the destination fails the case,
whatever the exit code. Refused cases must exit 1 with a `cache-step: ` line naming the entry and the reason;
harmless ones must exit 0 and leave what `present` says. One test method per case, named after it.

Also: truncated streams made by the real lz4/zstd/gzip and by cache-step pack itself (a partial file is
removed), including cuts that leave only whole frames or whole entries (only the missing end-of-archive blocks
tell), and the corpus's own hand-made lz4/zstd frames are checked against the reference decoders, so a refused
truncation is never the corpus's bug."""

from __future__ import annotations

import atexit
import hashlib
import os
import re
import stat
import subprocess
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_harness import (COMPRESS, FORMATS, MiB, Scratch, decompress, error_lines,  # noqa: E402
                             force_rmtree, frame_ends, matching_error, pack, random_bytes, raw_headers,
                             require_tools, unpack)
from hostile_corpus import (CASE_CANARY, CORRUPT, OUTSIDE_FILES, Case, layout, lz4_frame,  # noqa: E402
                            make_corpus, zstd_frame)

UNPACK_TIMEOUT = 60  # a 1 TiB claim or a lying length must fail fast, not hang or fill the disk

SANDBOX_DIR = Scratch("hostile")
atexit.register(SANDBOX_DIR.cleanup)
SANDBOX = SANDBOX_DIR.path
CORPUS_DIR = SANDBOX / "corpus"
CASES = make_corpus(CORPUS_DIR, SANDBOX)


def reset_shared_outside():
    """The sandbox's outside directory (and no recorded root) as the corpus expects them, before every case: a
    defect in one case (a file written there, the canary changed) then fails that case alone."""
    force_rmtree(SANDBOX / "outside")
    force_rmtree(SANDBOX / "recorded-root")
    (SANDBOX / "outside").mkdir()
    for name, data in OUTSIDE_FILES.items():
        (SANDBOX / "outside" / name).write_bytes(data)


def snapshot(top: Path, exclude: Path) -> dict[str, tuple]:
    """Everything under top except the destination subtree: kind, mode, mtime (ns), link count, bytes' hash,
    symlink target. lstat only: a symlink planted in the destination is never followed."""
    out = {}

    def visit(path: Path):
        st = os.lstat(path)
        rel = os.path.relpath(path, top)
        if stat.S_ISLNK(st.st_mode):
            out[rel] = ("symlink", os.readlink(path))
        elif stat.S_ISDIR(st.st_mode):
            out[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            for name in sorted(os.listdir(path)):
                child = path / name
                if child != exclude:
                    visit(child)
        elif stat.S_ISREG(st.st_mode):
            out[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_mtime_ns, st.st_nlink,
                        hashlib.sha256(path.read_bytes()).hexdigest())
        else:
            out[rel] = ("special", st.st_mode, st.st_rdev)

    visit(top)
    return out


def snapshot_diff(before: dict, after: dict) -> list[str]:
    changes = []
    for rel in sorted(set(before) | set(after)):
        if before.get(rel) != after.get(rel):
            changes.append(f"{rel}: {before.get(rel)} -> {after.get(rel)}")
    return changes


def entries_in(root: Path) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            out.append(os.path.relpath(os.path.join(dirpath, name), root))
    return sorted(out)


class HostileCorpusTest(unittest.TestCase):
    """One test per corpus case (added below)."""

    def run_case(self, case: Case):
        reset_shared_outside()
        parent, dest, target = layout(SANDBOX, case)
        parent.mkdir(parents=True)
        (parent / "outside").mkdir()
        (parent / "outside" / "canary").write_bytes(CASE_CANARY)
        dest.mkdir()
        for rel, link_target in case.preexisting.items():
            os.symlink(link_target, dest / rel)
        target.mkdir(parents=True, exist_ok=True)
        before = snapshot(SANDBOX, exclude=target)

        try:
            result = unpack(CORPUS_DIR / case.file, dest, mount=target if case.mount else None,
                            timeout=UNPACK_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail(f"{case.name}: unpack did not finish within {UNPACK_TIMEOUT} s ({case.description})")
        stderr = result.stderr.decode(errors="replace")
        command = f"cache-step unpack -C {dest}{f' --mount {target}' if case.mount else ''} {CORPUS_DIR / case.file}"

        # Nothing outside the destination changed, whatever the outcome.
        changes = snapshot_diff(before, snapshot(SANDBOX, exclude=target))
        self.assertEqual(changes, [], f"{case.name}: {command} changed the sandbox outside {target} "
                                      f"({case.description}); stderr: {stderr}")
        for name, data in OUTSIDE_FILES.items():
            self.assertEqual((SANDBOX / "outside" / name).read_bytes(), data)
        self.assertEqual((parent / "outside" / "canary").read_bytes(), CASE_CANARY)

        self.assertGreaterEqual(result.returncode, 0, f"{case.name}: killed by signal {-result.returncode} "
                                                      f"(crash?); stderr: {stderr}")
        if case.expect == "refused":
            self.assertEqual(result.returncode, 1, f"{case.name}: {command} must be refused with exit 1 "
                                                   f"({case.description}); stderr: {stderr}")
        elif case.expect == "harmless":
            self.assertEqual(result.returncode, 0, f"{case.name}: {command} must succeed "
                                                   f"({case.description}); stderr: {stderr}")
        else:
            self.assertIn(result.returncode, (0, 1), f"{case.name}: stderr: {stderr}")
        if result.returncode == 1:
            self.assertTrue(error_lines(result.stderr), f"{case.name}: no line starting 'cache-step: ' "
                                                        f"on stderr: {stderr!r}")
            if case.error:
                self.assertIsNotNone(matching_error(result.stderr, case.error),
                                     f"{case.name}: no error line matches /{case.error}/ (entry name and "
                                     f"reason); stderr: {stderr}")

        for rel in case.absent:
            self.assertFalse(os.path.lexists(target / rel), f"{case.name}: {rel} exists after unpack "
                                                             f"({case.description}); stderr: {stderr}")
        if case.only is not None:
            self.assertEqual(entries_in(target), sorted(case.only),
                             f"{case.name}: the destination must hold exactly these; stderr: {stderr}")
        for rel, expected in case.present.items():
            path = target / rel
            kind = expected[0]
            self.assertTrue(os.path.lexists(path), f"{case.name}: {rel} missing; stderr: {stderr}")
            st = os.lstat(path)
            if kind in ("file", "sha256"):
                self.assertTrue(stat.S_ISREG(st.st_mode), f"{case.name}: {rel} is not a regular file")
                if kind == "file":
                    self.assertEqual(path.read_bytes(), expected[1].encode(), f"{case.name}: {rel} bytes")
                    if expected[2] is not None:
                        self.assertEqual(oct(stat.S_IMODE(st.st_mode)), oct(expected[2]), f"{case.name}: {rel} mode")
                else:
                    self.assertEqual(hashlib.sha256(path.read_bytes()).hexdigest(), expected[1],
                                     f"{case.name}: {rel} bytes")
            elif kind == "symlink":
                self.assertTrue(stat.S_ISLNK(st.st_mode), f"{case.name}: {rel} is not a symlink")
                self.assertEqual(os.readlink(path), expected[1], f"{case.name}: {rel} target (verbatim)")
            elif kind == "dir":
                self.assertTrue(stat.S_ISDIR(st.st_mode), f"{case.name}: {rel} is not a directory")
                if expected[1] is not None:
                    self.assertEqual(oct(stat.S_IMODE(st.st_mode)), oct(expected[1]), f"{case.name}: {rel} mode")
            elif kind == "hardlink":
                other = os.lstat(target / expected[1])
                self.assertEqual((st.st_dev, st.st_ino), (other.st_dev, other.st_ino),
                                 f"{case.name}: {rel} must be a hard link of {expected[1]}")
            else:
                raise AssertionError(f"unknown present kind {kind}")


def _make_case_test(case: Case):
    def test(self):
        self.run_case(case)
    test.__doc__ = f"{case.expect}: {case.description}"
    return test


for _case in CASES:
    setattr(HostileCorpusTest, "test_" + re.sub(r"\W", "_", _case.name), _make_case_test(_case))


class CorpusSanityTest(unittest.TestCase):
    """The corpus is what it claims: deterministic, and its hand-made frames are valid for the reference
    decoders (so the refusals of the truncated ones are caused by the truncation)."""

    def test_corpus_is_deterministic(self):
        with Scratch("corpus-again") as again:
            second = make_corpus(again / "corpus", SANDBOX)
            self.assertEqual([c.file for c in second], [c.file for c in CASES])
            for case in CASES:
                self.assertEqual((again / "corpus" / case.file).read_bytes(), (CORPUS_DIR / case.file).read_bytes(),
                                 case.file)

    def test_hand_made_frames_decode_with_reference_tools(self):
        require_tools("lz4", "zstd")
        payload = random_bytes(300_000, "frames") + b"x" * 1000
        self.assertEqual(decompress("lz4", lz4_frame(payload)), payload)
        self.assertEqual(decompress("zstd", zstd_frame(payload)), payload)
        self.assertEqual(decompress("zstd", zstd_frame(b"")), b"")


class TruncatedStreamsTest(unittest.TestCase):
    """Truncation inside real compressed blocks (not the corpus's stored ones), and inside cache-step's own
    parallel frames: exit 1, a clear error, and the file being written when the data ran out is removed."""

    def setUp(self):
        self.scratch = Scratch("truncated")
        self.tmp = self.scratch.path
        self.ws = self.tmp / "ws"
        (self.ws / "tree").mkdir(parents=True)
        (self.ws / "tree" / "first.txt").write_bytes(b"first\n")
        self.payload = random_bytes(3 * MiB, "truncated-a") + b"compressible\n" * (MiB // 13 * 3)
        (self.ws / "tree" / "zz-big.bin").write_bytes(self.payload)

    def tearDown(self):
        self.scratch.cleanup()

    def assert_truncation_refused(self, data: bytes, label: str, how: str = "cut mid-stream",
                                  partial: str | None = "tree/zz-big.bin"):
        box = self.tmp / label
        box.mkdir()
        archive, dest = box / "archive", box / "dest"
        archive.write_bytes(data)
        result = unpack(archive, dest, timeout=UNPACK_TIMEOUT)
        stderr = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, 1, f"{label}: cache-step unpack -C {dest} {archive} ({how}) must "
                                               f"fail; stderr: {stderr}")
        self.assertIsNotNone(matching_error(result.stderr, CORRUPT),
                             f"{label}: the error must say truncated/corrupt; stderr: {stderr}")
        if partial:
            self.assertFalse(os.path.lexists(dest / partial), f"{label}: the partially written {partial} must be "
                                                              f"removed")
        self.assertLessEqual(set(os.listdir(box)), {"archive", "dest"}, f"{label}: nothing beside the destination")

    def test_reference_compressors_cut_mid_stream(self):
        require_tools("tar", "lz4", "zstd", "gzip")
        plain = subprocess.run(["tar", "-C", str(self.ws), "-cf", "-", "tree"], stdout=subprocess.PIPE,
                               check=True).stdout
        for codec in ("lz4", "zstd", "gzip"):
            with self.subTest(codec=codec):
                compressed = subprocess.run(COMPRESS[codec], input=plain, stdout=subprocess.PIPE, check=True).stdout
                self.assert_truncation_refused(compressed[: len(compressed) // 2], f"{codec}-cut")

    def test_own_archives_cut_mid_stream(self):
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                archive = self.tmp / f"own.{fmt}"
                packed = pack(self.ws, "tree", fmt=fmt, output=archive, extra=("-q",))
                self.assertEqual(packed.returncode, 0, packed.stderr.decode(errors="replace"))
                data = archive.read_bytes()
                self.assert_truncation_refused(data[: len(data) // 2], f"own-{fmt}")

    def test_own_archives_cut_on_a_frame_boundary(self):
        """A multi-frame stream cut after its first complete frame (a download or upload that stopped between
        frames): every frame present decodes, so only the tar layer can notice. The tree is 6000 files of
        1-512 bytes after two directories, so every entry is 2 blocks and every 1 KiB-aligned offset of the
        tar is a header: a frame boundary at a chunk size multiple falls between whole entries."""
        small = self.ws / "small"
        (small / "a").mkdir(parents=True)
        for i in range(6000):
            (small / "a" / f"f{i:05d}").write_bytes(random_bytes(1 + i % 512, f"small-{i}"))
        for fmt in ("lz4", "zstd", "gzip"):
            with self.subTest(format=fmt):
                archive = self.tmp / f"small.{fmt}"
                packed = pack(self.ws, "small", fmt=fmt, output=archive, extra=("-q",))
                self.assertEqual(packed.returncode, 0, packed.stderr.decode(errors="replace"))
                data = archive.read_bytes()
                ends = frame_ends(fmt, data)
                self.assertGreaterEqual(len(ends), 2, f"a 6 MiB tar is compressed as several frames: {ends}")
                self.assert_truncation_refused(data[: ends[0]], f"own-{fmt}-frame-boundary",
                                               how=f"cut after its first {fmt} frame, {ends[0]} of {len(data)} "
                                                   f"bytes", partial=None)

    def test_own_tar_cut_at_an_entry_boundary(self):
        """Our `--format tar` stream cut exactly where the last entry's header starts: whole entries, no
        end-of-archive blocks. Restoring it as a success would hand the build a cache missing a file."""
        archive = self.tmp / "own.tar"
        packed = pack(self.ws, "tree", fmt="tar", output=archive, extra=("-q",))
        self.assertEqual(packed.returncode, 0, packed.stderr.decode(errors="replace"))
        data = archive.read_bytes()
        last = raw_headers(data)[-1]
        self.assertEqual(last["name"], b"tree/zz-big.bin")
        self.assert_truncation_refused(data[: last["offset"]], "own-tar-entry-boundary",
                                       how=f"cut where the last header starts, {last['offset']} of {len(data)} bytes")

if __name__ == "__main__":
    unittest.main(verbosity=2)
