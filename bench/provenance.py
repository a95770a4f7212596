"""Where a benchmark result came from: the repository's git state and a binary's SHA-256. Shared by
s3_transfer_bench.py, archive_bench.py and (through archive_bench) cache_bench.py. Standard library only."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git_state() -> dict:
    def q(*a):
        r = subprocess.run(["git", "-C", str(ROOT), *a], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "?"
    return {"head": q("rev-parse", "HEAD"), "dirty": bool(q("status", "--porcelain", "--untracked-files=no"))}


def sha256_file(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
