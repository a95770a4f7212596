"""cache-step save/restore/ls/rm/prune end to end against a real S3 server (CACHESTEP_S3_ENV, started by the
ctest fixture), and against the filesystem store (--filesystem-root, no server). What is asserted is what a CI
step would see: the restored bytes, modes and symlinks, the objects on the server, exit codes, log lines,
--json and DRONE_OUTPUT. Every run of cache-step goes through CacheTest.run, which also checks that no secret
(secret access key, session token, a deliberately wrong secret) ever reaches stdout or stderr."""

import hashlib
import json
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import CACHE_STEP, MiB, Server, aws_cli, aws_cli_commands, random_bytes, sha256, snapshot, unique_prefix

SERVER = Server.from_env()
FORMATS = ["tar", "gzip", "zstd", "lz4"]
DECOMPRESS = {"tar": ["cat"], "gzip": ["gzip", "-dc"], "zstd": ["zstd", "-dc"], "lz4": ["lz4", "-dc"]}
WRONG_SECRET = "wrongSecretZq8Xv3Lp0Distinctive"
# s3rver accepts (ignores) a session token, so every run there carries a distinctive one that must never be
# printed; moto checks tokens (InvalidToken), so none there. The real secret is moto's random IAM secret; on
# s3rver it is the fixed S3RVER (also the access key id, which nothing prints either).
SESSION_TOKEN = "SessTokZ7Kq2Distinctive/with+chars=" if SERVER.name.startswith("s3rver") else None
SECRETS = [s for s in (SERVER.secret_key, SESSION_TOKEN, WRONG_SECRET) if s]


# ---------------------------------------------------------------------------------------------------------
# Trees: generate, snapshot (type, mode, target, content hash), compare.

def make_tree(root: Path, seed: str, big: int = 20 * MiB) -> None:
    """harness.make_tree with a 20 MiB file by default (multipart uploads)."""
    harness.make_tree(root, seed, big)


def generate_incompressible(root: Path, total: int, seed: str) -> None:
    """total bytes in 10 MiB files of incompressible bytes: one SHAKE-256 block, each file's first 8 bytes made
    distinct (no codec window spans 10 MiB, and tar does not deduplicate)."""
    root.mkdir(parents=True)
    chunk = 10 * MiB
    data = hashlib.shake_256(seed.encode()).digest(chunk)
    for i in range(total // chunk):
        # a distinct first 8 bytes per file keeps files distinct; the rest is shared (tar does not dedupe)
        (root / f"f{i:03d}.bin").write_bytes(i.to_bytes(8, "little") + data[8:])


class CacheTest(unittest.TestCase):
    """Base: a temporary directory, a unique key prefix, and run() that runs cache-step and checks secrets."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="cache-it-")
        self.tmp = Path(self.dir.name)
        self.prefix = unique_prefix(self.id().split(".")[-1].replace("_", "")[:24])
        self.s3 = SERVER.boto3()

    def tearDown(self):
        self.dir.cleanup()

    # -- running cache-step ---------------------------------------------------------------------------------
    def env(self, **overrides):
        extra = {"AWS_SESSION_TOKEN": SESSION_TOKEN} if SESSION_TOKEN else {}
        extra.update(overrides)
        return SERVER.client_env(**extra)

    def command(self, *args, fs_root=None):
        if fs_root is not None:
            return [CACHE_STEP, *args, "--filesystem-root", str(fs_root)]
        return [CACHE_STEP, *args, "--bucket", SERVER.bucket, "--endpoint", SERVER.endpoint, "--path-style"]

    def check_no_secret(self, *outputs: bytes):
        for out in outputs:
            for secret in SECRETS:
                self.assertNotIn(secret.encode(), out or b"", "a secret reached cache-step's output")

    def run_cs(self, *args, fs_root=None, env=None, timeout=600) -> subprocess.CompletedProcess:
        result = subprocess.run(self.command(*args, fs_root=fs_root), env=env or self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=timeout)
        self.check_no_secret(result.stdout, result.stderr)
        return result

    def assert_rc(self, result, code=0):
        self.assertEqual(result.returncode, code,
                         f"exit {result.returncode}, expected {code}\nstdout: {result.stdout.decode(errors='replace')}"
                         f"\nstderr: {result.stderr.decode(errors='replace')}")

    def save(self, key, workspace, *paths, fmt=None, extra=(), fs_root=None, expect=0):
        args = ["save", "--key", key, "-C", str(workspace)]
        for p in paths:
            args += ["--source-path", str(p)]
        if fmt:
            args += ["--archive-format", fmt]
        r = self.run_cs(*args, *extra, fs_root=fs_root)
        self.assert_rc(r, expect)
        return r

    def restore(self, key, workspace, *extra, fs_root=None, env=None, expect=0):
        Path(workspace).mkdir(parents=True, exist_ok=True)
        r = self.run_cs("restore", "--key", key, "-C", str(workspace), *extra, fs_root=fs_root, env=env)
        self.assert_rc(r, expect)
        return r

    # -- looking at the server ------------------------------------------------------------------------------
    def keys(self, prefix=None):
        """Every object under a prefix (no '/' in the prefix: moto's verifier refuses one)."""
        prefix = prefix or self.prefix
        assert "/" not in prefix
        listed = self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def get(self, key) -> bytes:
        return self.s3.get_object(Bucket=SERVER.bucket, Key=key)["Body"].read()

    def unpack_bytes(self, data: bytes, into: Path) -> None:
        """Unpacks an archive (any format, detected) with `cache-step unpack`, independent of restore."""
        into.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([CACHE_STEP, "unpack", "-", "-C", str(into), "-q"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        self.assert_rc(r)

    def log_lines(self, stderr: bytes, msg: str):
        return [line for line in stderr.decode(errors="replace").splitlines() if f'msg="{msg}"' in line]


# ---------------------------------------------------------------------------------------------------------
class RoundTripTest(CacheTest):
    def test_01_round_trip_every_format_and_aws_cli_reads_the_archive(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "round-trip")
        expected = snapshot(ws / "node_modules")
        v1 = [cli for label, cli in aws_cli_commands() if label == "aws-cli-v1"]
        self.assertTrue(v1, "aws-cli v1 not found")
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                key = f"{self.prefix}{fmt}"
                saved = self.save(key, ws, "node_modules", fmt=fmt)
                self.assertEqual(len(self.log_lines(saved.stderr, "rebuilding cache for directory")), 1, saved.stderr)
                built = self.log_lines(saved.stderr, "cache built")
                self.assertEqual(len(built), 1, saved.stderr)
                self.assertRegex(built[0], r"^time=\S+ level=info msg=\"cache built\" ")
                self.assertIn(f"remote=s3://{SERVER.bucket}/{key}/node_modules", built[0])
                self.assertEqual(self.keys(key), [f"{key}/node_modules"])

                fresh = self.tmp / f"fresh-{fmt}"
                r = self.restore(key, fresh, "--json")
                self.assertEqual(len(self.log_lines(r.stderr, "restoring directory")), 1, r.stderr)
                self.assertEqual(len(self.log_lines(r.stderr, "cache restored")), 1, r.stderr)
                summary = json.loads(r.stdout)
                self.assertEqual((summary["command"], summary["key"], summary["ok"], summary["cache_hit"],
                                  summary["matched_key"], summary["complete"]), ("restore", key, True, True, key, True))
                self.assertEqual([(m["mount"], m["object"], m["state"]) for m in summary["mounts"]],
                                 [("node_modules", f"{key}/node_modules", "done")])
                self.assertEqual(summary["file_bytes"], sum(p.stat().st_size for p in (ws / "node_modules").rglob("*")
                                                            if p.is_file() and not p.is_symlink()))
                self.assertEqual(snapshot(fresh / "node_modules"), expected)
                self.assertEqual(sorted(p.name for p in fresh.iterdir()), ["node_modules"])

                # Interop: what aws-cli v1 downloads is a plain archive of the format asked for.
                got = self.tmp / f"cli-{fmt}.archive"
                dl = aws_cli(SERVER, v1[0], "s3", "cp", f"s3://{SERVER.bucket}/{key}/node_modules", str(got))
                self.assertEqual(dl.returncode, 0, dl.stderr.decode(errors="replace"))
                listing = subprocess.run(" ".join(DECOMPRESS[fmt]) + f" '{got}' | tar t", shell=True,
                                         capture_output=True)
                self.assertEqual(listing.returncode, 0, listing.stderr)
                names = {n.rstrip("/") for n in listing.stdout.decode().splitlines()}
                self.assertEqual(names, {"node_modules"} | {f"node_modules/{k}" for k in expected})

    def test_02_source_paths_inside_and_outside_the_workspace(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "inside", big=0)
        outside = self.tmp / "outside" / "m2"
        make_tree(outside, "outside", big=0)
        inside_snap, outside_snap = snapshot(ws / "node_modules"), snapshot(outside)
        key = f"{self.prefix}two"
        self.save(key, ws, "node_modules", str(outside))
        self.assertEqual(self.keys(key), sorted([f"{key}/node_modules", f"{key}/{str(outside).lstrip('/')}"]))

        shutil.rmtree(outside)
        fresh = self.tmp / "fresh"
        r = self.restore(key, fresh, "--json")
        self.assertEqual(json.loads(r.stdout)["complete"], True)
        self.assertEqual(snapshot(fresh / "node_modules"), inside_snap)
        self.assertEqual(snapshot(outside), outside_snap, "the outside path is restored where it was")
        self.assertEqual(sorted(p.name for p in fresh.iterdir()), ["node_modules"], "nothing else in the workspace")

        # Only one path asked for: only that one comes back.
        shutil.rmtree(outside)
        fresh2 = self.tmp / "fresh2"
        self.restore(key, fresh2, "--source-path", "node_modules")
        self.assertEqual(snapshot(fresh2 / "node_modules"), inside_snap)
        self.assertFalse(outside.exists())

    def test_03_override_off_keeps_the_first_object_override_replaces_it(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "first", big=MiB)
        first = snapshot(ws / "node_modules")
        key = f"{self.prefix}ovr"
        obj = f"{key}/node_modules"
        self.save(key, ws, "node_modules")
        head1 = self.s3.head_object(Bucket=SERVER.bucket, Key=obj)
        body1 = self.get(obj)

        shutil.rmtree(ws / "node_modules")
        make_tree(ws / "node_modules", "second", big=2 * MiB)
        second = snapshot(ws / "node_modules")
        time.sleep(1.1)  # LastModified has 1 s resolution
        kept = self.save(key, ws, "node_modules", extra=["--json"])
        self.assertEqual(len(self.log_lines(kept.stderr, "cache exists for this key, skipping (override is off)")), 1,
                         kept.stderr)
        self.assertEqual(self.log_lines(kept.stderr, "rebuilding cache for directory"), [])
        self.assertEqual(json.loads(kept.stdout)["mounts"][0]["state"], "skipped_existing")
        head2 = self.s3.head_object(Bucket=SERVER.bucket, Key=obj)
        self.assertEqual((head2["ETag"], head2["LastModified"]), (head1["ETag"], head1["LastModified"]))
        self.assertEqual(sha256(self.get(obj)), sha256(body1))

        replaced = self.save(key, ws, "node_modules", extra=["--override"])
        self.assertEqual(len(self.log_lines(replaced.stderr, "cache built")), 1, replaced.stderr)
        body3 = self.get(obj)
        self.assertNotEqual(sha256(body3), sha256(body1))
        self.unpack_bytes(body3, self.tmp / "unpacked")
        self.assertEqual(snapshot(self.tmp / "unpacked" / "node_modules"), second)
        self.assertNotEqual(first, second)

    def test_04_symlinks_skipped_on_request(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "skip", big=0)
        key = f"{self.prefix}skip"
        self.save(key, ws, "node_modules", extra=["--skip-symlinks"])
        fresh = self.tmp / "fresh"
        self.restore(key, fresh)
        expected = {k: v for k, v in snapshot(ws / "node_modules").items() if v[0] != "link"}
        self.assertEqual(snapshot(fresh / "node_modules"), expected)


# ---------------------------------------------------------------------------------------------------------
class RestoreKeyTest(CacheTest):
    def read_outputs(self, path: Path) -> list[str]:
        lines = path.read_text().splitlines() if path.exists() else []
        path.unlink(missing_ok=True)
        return lines

    def test_05_restore_keys_newest_of_first_matching_prefix_strictness_and_outputs(self):
        p = self.prefix
        trees = {}
        for name in ["npm-aaa", "npm-bbb", "yarn-ccc", "K1"]:
            ws = self.tmp / f"ws-{name}"
            make_tree(ws / "node_modules", name, big=0)
            trees[name] = snapshot(ws / "node_modules")
            self.save(p + name, ws, "node_modules")
            time.sleep(1.1)  # each newer than the last (LastModified: 1 s resolution)
        out = self.tmp / "drone-output"
        env = self.env(DRONE_OUTPUT=str(out))

        # Exact hit.
        r = self.restore(p + "npm-aaa", self.tmp / "hit", "--json", "--restore-key", p + "npm-", env=env)
        self.assertEqual(snapshot(self.tmp / "hit" / "node_modules"), trees["npm-aaa"])
        self.assertEqual(self.read_outputs(out), ["cache_hit=true", f"cache_matched_key={p}npm-aaa", "cache_state=complete"])
        self.assertEqual((json.loads(r.stdout)["cache_hit"], json.loads(r.stdout)["matched_key"]), (True, p + "npm-aaa"))

        # Fallback: the newest object matching the prefix.
        r = self.restore(p + "npm-zzz", self.tmp / "fallback", "--json", "--restore-key", p + "npm-", env=env)
        self.assertEqual(snapshot(self.tmp / "fallback" / "node_modules"), trees["npm-bbb"])
        self.assertEqual(self.read_outputs(out), ["cache_hit=false", f"cache_matched_key={p}npm-bbb", "cache_state=complete"])
        s = json.loads(r.stdout)
        self.assertEqual((s["cache_hit"], s["matched_key"], s["complete"], s["ok"]), (False, p + "npm-bbb", True, True))

        # Order: the first prefix that matches wins even though yarn-ccc is newer; a prefix matching nothing is passed.
        self.restore(p + "npm-zzz", self.tmp / "order", "--restore-key", p + "none-", "--restore-key", p + "npm-",
                     "--restore-key", p + "yarn-")
        self.assertEqual(snapshot(self.tmp / "order" / "node_modules"), trees["npm-bbb"])
        self.restore(p + "npm-zzz", self.tmp / "order2", "--restore-key", p + "yarn-", "--restore-key", p + "npm-")
        self.assertEqual(snapshot(self.tmp / "order2" / "node_modules"), trees["yarn-ccc"])
        # With --source-path the fallback names the key the same way.
        self.restore(p + "npm-zzz", self.tmp / "order3", "--restore-key", p + "npm-", "--source-path", "node_modules")
        self.assertEqual(snapshot(self.tmp / "order3" / "node_modules"), trees["npm-bbb"])

        # Strict matching: K1/node_modules is not under K.
        r = self.restore(p + "K", self.tmp / "strict", "--json", env=env)
        self.assertFalse((self.tmp / "strict" / "node_modules").exists())
        self.assertEqual(self.read_outputs(out), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
        s = json.loads(r.stdout)
        self.assertEqual((s["cache_hit"], s["matched_key"], s["complete"], s["mounts"]), (False, "", False, []))

        # Miss.
        r = self.restore(p + "nothing", self.tmp / "miss", "--restore-key", p + "nothing-", env=env)
        self.assertIn(b"cache miss", r.stderr)
        self.assertEqual(self.read_outputs(out), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
        self.assertEqual(list((self.tmp / "miss").iterdir()), [])

    def test_16_no_strict_key_matching_takes_a_longer_key(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "nonstrict", big=0)
        expected = snapshot(ws / "node_modules")
        self.save(self.prefix + "K1", ws, "node_modules")
        # every path under the matched objects
        r = self.restore(self.prefix + "K", self.tmp / "all", "--no-strict-key-matching", "--json")
        self.assertEqual(snapshot(self.tmp / "all" / "node_modules"), expected, r.stderr)
        self.assertTrue(json.loads(r.stdout)["complete"], r.stdout)
        # the same with the path named
        r = self.restore(self.prefix + "K", self.tmp / "named", "--no-strict-key-matching", "--source-path",
                         "node_modules", "--json")
        self.assertTrue((self.tmp / "named" / "node_modules").exists(),
                        f"--source-path with --no-strict-key-matching restored nothing: {r.stdout.decode()}")
        self.assertEqual(snapshot(self.tmp / "named" / "node_modules"), expected)

    def test_06_miss_exits_0_or_1_with_fail_if_key_not_found(self):
        r = self.restore(self.prefix + "absent", self.tmp / "ws")
        self.assertIn(b"cache miss", r.stderr)
        self.assertEqual(len(self.log_lines(r.stderr, "cache key not found, nothing restored")), 1, r.stderr)
        r = self.restore(self.prefix + "absent", self.tmp / "ws", "--fail-if-key-not-found", expect=1)
        self.assertIn(b"cache-step: error: no cache found for key " + (self.prefix + "absent").encode(), r.stderr)
        r = self.restore(self.prefix + "absent", self.tmp / "ws", "--fail-if-key-not-found", "--restore-key",
                         self.prefix + "abs", expect=1)

    def test_07_missing_source_paths(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "missing", big=0)
        key = self.prefix + "miss"
        r = self.save(key, ws, "node_modules", "not-there")
        self.assertEqual(len(self.log_lines(r.stderr, "source path does not exist, skipped")), 1, r.stderr)
        self.assertEqual(self.keys(key), [f"{key}/node_modules"])
        r = self.save(self.prefix + "none", ws, "nope1", "nope2", expect=1)
        self.assertIn(b"cache-step: error:", r.stderr)
        self.assertEqual(self.keys(self.prefix + "none"), [])


# ---------------------------------------------------------------------------------------------------------
class FailureTest(CacheTest):
    def test_08_wrong_secret_fails_named_and_stores_nothing(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "wrong", big=0)
        key = self.prefix + "wrong"
        r = self.run_cs("save", "--key", key, "--source-path", "node_modules", "-C", str(ws), "--json",
                        env=self.env(AWS_SECRET_ACCESS_KEY=WRONG_SECRET))
        if r.returncode == 0 and not SERVER.verifies_sigv4:
            self.skipTest(f"{SERVER.name} accepts a wrong secret")
        self.assert_rc(r, 1)
        self.assertIn(b"SignatureDoesNotMatch", r.stderr)
        self.assertIn(b"cache-step: error:", r.stderr)
        self.assertFalse(json.loads(r.stdout)["ok"])
        self.assertEqual(self.keys(), [])
        # restore, ls, rm, prune with the wrong secret: exit 1, named, secret not printed (run_cs checks).
        for args in (["restore", "--key", key, "--json"], ["ls", self.prefix], ["ls", self.prefix, "--json"],
                     ["rm", key], ["prune", "--older-than", "1s", "--prefix", self.prefix]):
            with self.subTest(args=args):
                r = self.run_cs(*args, env=self.env(AWS_SECRET_ACCESS_KEY=WRONG_SECRET))
                self.assert_rc(r, 1)
                self.assertIn(b"SignatureDoesNotMatch", r.stderr)

    def test_17_save_that_cannot_check_for_an_existing_cache_does_not_silently_replace_it(self):
        """A user allowed to read and write objects but not to list them (an IAM policy: moto only). Without
        --override, save must keep the stored cache: refuse (exit 1, naming AccessDenied) or keep it; replacing
        it after a failed existence check breaks the contract."""
        if SERVER.name != "moto" or not SERVER.verifies_sigv4:
            self.skipTest("needs IAM policies (moto)")
        access_key, secret_key = harness.moto_user_without_list(SERVER, self.prefix.strip("-")[:60])
        SECRETS.append(secret_key)
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "first", big=0)
        key = self.prefix + "nolist"
        self.save(key, ws, "node_modules")
        before = self.get(f"{key}/node_modules")

        shutil.rmtree(ws / "node_modules")
        make_tree(ws / "node_modules", "second", big=0)
        r = self.run_cs("save", "--key", key, "--source-path", "node_modules", "-C", str(ws),
                        env=self.env(AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key))
        after = self.get(f"{key}/node_modules")
        self.assertEqual(sha256(after), sha256(before),
                         f"the stored cache was replaced without --override (exit {r.returncode}): {r.stderr.decode()}")
        if r.returncode != 0:
            self.assert_rc(r, 1)
            self.assertIn(b"AccessDenied", r.stderr)

    def test_09_corrupt_object_under_the_key_is_skipped_with_a_warning(self):
        key = self.prefix + "corrupt"
        self.s3.put_object(Bucket=SERVER.bucket, Key=f"{key}/node_modules", Body=random_bytes(64 * 1024, "corrupt"))
        ws = self.tmp / "ws"
        r = self.restore(key, ws, "--source-path", "node_modules", "--json", env=self.env(DRONE_OUTPUT=str(self.tmp / "out")))
        warn = self.log_lines(r.stderr, "object under the key is not an archive, skipped")
        self.assertEqual(len(warn), 1, r.stderr)
        self.assertIn("level=warn", warn[0])
        s = json.loads(r.stdout)
        self.assertEqual((s["ok"], s["complete"], s["mounts"][0]["state"]), (True, False, "not_found"))
        self.assertEqual((self.tmp / "out").read_text().splitlines()[-1], "cache_state=partial")
        self.assertEqual([p for p in ws.rglob("*")], [], "nothing written")

    def test_10_archive_truncated_on_the_server_fails_the_restore(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "trunc", big=3 * MiB)
        key = self.prefix + "trunc"
        self.save(key, ws, "node_modules")
        body = self.get(f"{key}/node_modules")
        self.s3.put_object(Bucket=SERVER.bucket, Key=f"{key}/node_modules", Body=body[: len(body) // 2])
        r = self.restore(key, self.tmp / "fresh", "--json", expect=1)
        self.assertEqual(len(self.log_lines(r.stderr, "cache could not be restored")), 1, r.stderr)
        self.assertEqual(json.loads(r.stdout)["mounts"][0]["state"], "failed")


# ---------------------------------------------------------------------------------------------------------
class InterruptTest(CacheTest):
    """Signals in the middle of a transfer: 128+signal, nothing stored, no multipart upload left."""

    @classmethod
    def setUpClass(cls):
        cls.big_dir = tempfile.TemporaryDirectory(prefix="cache-it-big-")
        cls.big_ws = Path(cls.big_dir.name)
        generate_incompressible(cls.big_ws / "big", 300 * MiB, "interrupt")

    @classmethod
    def tearDownClass(cls):
        cls.big_dir.cleanup()

    def interrupt(self, args, wanted, sig, delay):
        """Starts cache-step, waits for a stderr line holding `wanted`, sleeps `delay`, sends `sig`."""
        proc = subprocess.Popen(self.command(*args), env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        lines, seen, ended = [], threading.Event(), threading.Event()

        def pump():
            for line in proc.stderr:
                lines.append(line)
                if wanted.encode() in line:
                    seen.set()
            ended.set()
        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        deadline = time.monotonic() + 120
        while not seen.is_set() and not ended.is_set() and time.monotonic() < deadline:
            seen.wait(0.02)
        if not seen.is_set():
            proc.kill()
            proc.wait()
            reader.join(10)
            self.fail(f"no '{wanted}' line (exit {proc.returncode}): {b''.join(lines).decode(errors='replace')}")
        time.sleep(delay)
        still_running = proc.poll() is None
        proc.send_signal(sig)
        stdout = proc.stdout.read()
        rc = proc.wait(60)
        reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
        stderr = b"".join(lines)
        self.check_no_secret(stdout, stderr)
        self.assertTrue(still_running, f"finished before the signal: make the tree bigger\n{stderr.decode()}")
        return rc, stdout, stderr

    def assert_no_upload_left(self, key):
        self.assertEqual(self.keys(key), [], "no object under the key")
        if SERVER.has_list_multipart_uploads:
            uploads = self.s3.list_multipart_uploads(Bucket=SERVER.bucket, Prefix=key).get("Uploads", [])
            self.assertEqual(uploads, [], "no multipart upload left")

    def test_11_sigint_and_sigterm_during_save(self):
        for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            with self.subTest(signal=sig.name):
                key = f"{self.prefix}{sig.name}"
                rc, _, stderr = self.interrupt(["save", "--key", key, "--source-path", "big", "-C", str(self.big_ws),
                                                "--archive-format", "tar"], "rebuilding cache for directory", sig, 0.5)
                self.assertEqual(rc, code, stderr.decode(errors="replace"))
                self.assertIn(b"save interrupted by signal", stderr)
                self.assertEqual(self.log_lines(stderr, "cache built"), [])
                self.assert_no_upload_left(key)

    def test_12_sigint_during_restore(self):
        key = self.prefix + "restore"
        self.save(key, self.big_ws, "big", fmt="tar")
        fresh = self.tmp / "fresh"
        fresh.mkdir()
        rc, _, stderr = self.interrupt(["restore", "--key", key, "-C", str(fresh)], "restoring directory",
                                       signal.SIGINT, 0.05)
        self.assertEqual(rc, 130, stderr.decode(errors="replace"))
        self.assertIn(b"restore interrupted by signal 2", stderr)
        self.assertEqual(self.log_lines(stderr, "cache restored"), [])


# ---------------------------------------------------------------------------------------------------------
class ConcurrencyTest(CacheTest):
    def test_13_two_saves_of_one_key_at_once_leave_one_complete_archive(self):
        # Atomic last-writer-wins is the server's promise (S3, moto, RGW keep it). s3rver does not: it writes a
        # completed multipart upload into the object's file as it goes, so two completions at once interleave
        # (seen in CI: a big.bin from neither save). tests/servers/BEHAVIOUR.md records it.
        if SERVER.name.startswith("s3rver"):
            self.skipTest("s3rver completes multipart uploads non-atomically (tests/servers/BEHAVIOUR.md)")
        key = self.prefix + "race"
        snaps, procs = [], []
        for name in ("one", "two"):
            ws = self.tmp / f"ws-{name}"
            make_tree(ws / "node_modules", name, big=24 * MiB)
            snaps.append(snapshot(ws / "node_modules"))
        for name in ("one", "two"):
            procs.append(subprocess.Popen(
                self.command("save", "--key", key, "--source-path", "node_modules", "-C", str(self.tmp / f"ws-{name}"),
                             "--override", "--archive-format", "tar", "--part-size", "5MiB"),
                env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for proc in procs:
            out, err = proc.communicate(timeout=300)
            self.check_no_secret(out, err)
            self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        self.assertEqual(self.keys(key), [f"{key}/node_modules"])
        fresh = self.tmp / "fresh"
        self.restore(key, fresh)
        self.assertIn(snapshot(fresh / "node_modules"), snaps)
        self.unpack_bytes(self.get(f"{key}/node_modules"), self.tmp / "unpacked")
        self.assertIn(snapshot(self.tmp / "unpacked" / "node_modules"), snaps)


# ---------------------------------------------------------------------------------------------------------
class ManageTest(CacheTest):
    def test_14_ls_rm_prune(self):
        p = self.prefix
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "manage", big=0)
        (ws / "vendor").mkdir()
        (ws / "vendor" / "x.txt").write_text("vendor\n")
        for k in ("keep", "gone"):
            self.save(p + k, ws, "node_modules", "vendor")
        objects = sorted(f"{p}{k}/{m}" for k in ("keep", "gone") for m in ("node_modules", "vendor"))
        self.assertEqual(self.keys(), objects)

        r = self.run_cs("ls", p)
        self.assert_rc(r)
        rows = [line.split("\t") for line in r.stdout.decode().splitlines()]
        self.assertEqual(sorted(row[0] for row in rows), objects)
        self.assertTrue(all(len(row) == 3 and row[2].endswith("old") for row in rows), rows)
        r = self.run_cs("ls", p, "--json")
        self.assert_rc(r)
        listed = json.loads(r.stdout)
        sizes = {o["Key"]: o["Size"] for o in self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=p)["Contents"]}
        self.assertEqual({o["key"]: o["size"] for o in listed}, sizes)
        now = time.time()
        self.assertTrue(all(abs(o["last_modified"] - now) < 120 for o in listed), listed)

        r = self.run_cs("rm", p + "gone", "--dry-run")
        self.assert_rc(r)
        self.assertEqual(len([l for l in r.stdout.decode().splitlines() if l.startswith("would delete")]), 2, r.stdout)
        self.assertEqual(self.keys(), objects)
        r = self.run_cs("rm", p + "gone")
        self.assert_rc(r)
        self.assertEqual(self.keys(), [o for o in objects if o.startswith(p + "keep/")])
        # rm of a key is exact: "kee" is not "keep"
        r = self.run_cs("rm", p + "kee")
        self.assert_rc(r)
        self.assertEqual(len(self.keys()), 2)

        time.sleep(2.1)
        r = self.run_cs("prune", "--older-than", "1h", "--prefix", p)
        self.assert_rc(r)
        self.assertEqual(len(self.keys()), 2)
        r = self.run_cs("prune", "--older-than", "1s", "--prefix", p, "--dry-run")
        self.assert_rc(r)
        self.assertEqual(len([l for l in r.stdout.decode().splitlines() if l.startswith("would delete")]), 2, r.stdout)
        self.assertEqual(len(self.keys()), 2)
        r = self.run_cs("prune", "--older-than", "1s", "--prefix", p)
        self.assert_rc(r)
        self.assertEqual(self.keys(), [])
        r = self.run_cs("prune", "--older-than", "seven days", "--prefix", p)
        self.assert_rc(r, 1)
        self.assertIn(b"cache-step: error: --older-than", r.stderr)


# ---------------------------------------------------------------------------------------------------------
class FilesystemTest(CacheTest):
    """The same contract without a server."""

    def test_15_filesystem_round_trip_restore_keys_ls_rm_prune(self):
        root = self.tmp / "store"
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "fs", big=2 * MiB)
        expected = snapshot(ws / "node_modules")
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                saved = self.save(f"fs-{fmt}", ws, "node_modules", fmt=fmt, fs_root=root)
                self.assertEqual(len(self.log_lines(saved.stderr, "cache built")), 1, saved.stderr)
                self.assertTrue((root / f"fs-{fmt}" / "node_modules").is_file())
                listing = subprocess.run(" ".join(DECOMPRESS[fmt]) + f" '{root}/fs-{fmt}/node_modules' | tar t",
                                         shell=True, capture_output=True)
                self.assertEqual(listing.returncode, 0, listing.stderr)
                r = self.restore(f"fs-{fmt}", self.tmp / f"fresh-{fmt}", "--json", fs_root=root)
                self.assertTrue(json.loads(r.stdout)["cache_hit"])
                self.assertEqual(snapshot(self.tmp / f"fresh-{fmt}" / "node_modules"), expected)

        kept = self.save("fs-lz4", ws, "node_modules", fs_root=root)
        self.assertEqual(len(self.log_lines(kept.stderr, "cache exists for this key, skipping (override is off)")), 1)

        trees = {}
        for name in ("npm-aaa", "npm-bbb"):
            w = self.tmp / f"ws-{name}"
            make_tree(w / "node_modules", name, big=0)
            trees[name] = snapshot(w / "node_modules")
            self.save(name, w, "node_modules", fs_root=root)
            time.sleep(1.1)
        out = self.tmp / "drone-output"
        r = self.restore("npm-zzz", self.tmp / "fallback", "--restore-key", "npm-", "--json", fs_root=root,
                         env=self.env(DRONE_OUTPUT=str(out)))
        self.assertEqual(snapshot(self.tmp / "fallback" / "node_modules"), trees["npm-bbb"])
        self.assertEqual(out.read_text().splitlines(), ["cache_hit=false", "cache_matched_key=npm-bbb", "cache_state=complete"])
        r = self.restore("npm", self.tmp / "strict", fs_root=root)
        self.assertFalse((self.tmp / "strict" / "node_modules").exists())
        self.restore("npm", self.tmp / "strict", "--fail-if-key-not-found", fs_root=root, expect=1)

        r = self.run_cs("ls", "npm-", fs_root=root)
        self.assert_rc(r)
        self.assertEqual(sorted(l.split("\t")[0] for l in r.stdout.decode().splitlines()),
                         ["npm-aaa/node_modules", "npm-bbb/node_modules"])
        r = self.run_cs("rm", "npm-aaa", fs_root=root)
        self.assert_rc(r)
        self.assertFalse((root / "npm-aaa" / "node_modules").exists())
        time.sleep(1.1)
        r = self.run_cs("prune", "--older-than", "1s", "--prefix", "npm-", "--dry-run", fs_root=root)
        self.assert_rc(r)
        self.assertTrue((root / "npm-bbb" / "node_modules").exists())
        r = self.run_cs("prune", "--older-than", "1s", fs_root=root)
        self.assert_rc(r)
        self.assertEqual([p for p in root.rglob("*") if p.is_file()], [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
