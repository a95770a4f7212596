"""A file over 4 GiB (and over ustar's 8 GiB size field would need pax too, but 4 GiB already crosses 32-bit
offsets in every layer): packed, read by GNU tar with its exact size, unpacked byte-identical. The file is sparse
on the source side (a few marked regions in 4 GiB + 1 MiB of zeros) so the test costs seconds, and it lives on
tmpfs (/dev/shm) when there is room, else in the temporary directory."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

CACHE_STEP = os.environ.get("CACHESTEP_BIN", "cache-step")
SIZE = (4 << 30) + (1 << 20) + 7
MARKS = {0: b"first bytes", (4 << 30) - 5: b"across 4 GiB", SIZE - 9: b"last byte"[:9]}


def scratch_parent() -> str | None:
    shm = Path("/dev/shm")
    if shm.is_dir() and shutil.disk_usage(shm).free > 3 * SIZE:
        return str(shm)
    return None


class LargeFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(dir=scratch_parent(), prefix="cache-step-large-")
        self.tmp = Path(self.dir.name)
        if shutil.disk_usage(self.tmp).free < 2 * SIZE + (1 << 30):
            self.skipTest(f"needs {2 * SIZE >> 30} GiB free beside {self.tmp}")

    def tearDown(self):
        self.dir.cleanup()

    def test_a_file_over_4_gib_round_trips(self):
        src = self.tmp / "src"
        src.mkdir()
        big = src / "big.bin"
        with open(big, "wb") as f:
            f.truncate(SIZE)
            for offset, data in MARKS.items():
                f.seek(offset)
                f.write(data)
        archive = self.tmp / "big.tar.lz4"
        subprocess.run([CACHE_STEP, "pack", "-q", "-C", str(src), "--format", "lz4", "-o", str(archive), "big.bin"],
                       check=True)
        listing = subprocess.run(f"lz4 -dc '{archive}' | tar tvf -", shell=True, check=True, capture_output=True,
                                 text=True).stdout
        self.assertIn(f" {SIZE} ", listing, f"GNU tar does not see the size {SIZE}: {listing}")

        out = self.tmp / "out"
        subprocess.run([CACHE_STEP, "unpack", "-q", "-C", str(out), str(archive)], check=True)
        restored = out / "big.bin"
        self.assertEqual(restored.stat().st_size, SIZE)
        with open(restored, "rb") as f:
            for offset, data in MARKS.items():
                f.seek(offset)
                self.assertEqual(f.read(len(data)), data, f"bytes at {offset}")
        self.assertEqual(subprocess.run(["cmp", str(big), str(restored)]).returncode, 0, "the restored file differs")


if __name__ == "__main__":
    unittest.main(verbosity=2)
