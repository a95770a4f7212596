"""cache-step cp against a real S3 server (CACHESTEP_S3_ENV, started by the ctest fixture): sizes around the
part boundaries, awkward keys, stdin/stdout, and interop both ways with aws-cli v1, aws-cli v2 and boto3.
Bytes are compared, not sizes."""

import os
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import MiB, Server, aws_cli, aws_cli_commands, cache_step, random_bytes, sha256, unique_prefix

SERVER = Server.from_env()

KEYS = ["plain.bin", "with space.bin", "plus+sign.bin", "equals=sign.bin", "amp&ersand.bin", "tilde~x.bin",
        "ütf-8 ✓.bin", "double//slash/x.bin", "all of it/a b+c=d&e~f/ü//x.bin"]


UNRESERVED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/")


def key_supported(key: str) -> bool:
    """Server limits, not ours (tests/servers/BEHAVIOUR.md): moto's SigV4 verifier rejects any path with a %XX
    escape (boto3's requests too), so on moto only keys that need no escaping; s3rver keeps objects as files,
    so '//' collapses to '/'. Every key is proven on the servers that can hold it (RGW holds all)."""
    if SERVER.name == "moto" and not set(key) <= UNRESERVED:
        return False
    if SERVER.name.startswith("s3rver") and "//" in key:
        return False
    return True


class CpTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = Path(self.dir.name)
        self.prefix = unique_prefix(self.id().split(".")[-1])
        self.s3 = SERVER.boto3()

    def tearDown(self):
        self.dir.cleanup()

    def url(self, key: str) -> str:
        return f"s3://{SERVER.bucket}/{self.prefix}{key}"

    def upload(self, data: bytes, key: str, *extra: str) -> subprocess.CompletedProcess:
        src = self.tmp / "upload.bin"
        src.write_bytes(data)
        return cache_step(SERVER, "cp", str(src), self.url(key), "--part-size", "5MiB", *extra)

    def assert_ok(self, result: subprocess.CompletedProcess):
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))

    def download(self, key: str) -> bytes:
        dst = self.tmp / f"download-{abs(hash(key))}.bin"
        result = cache_step(SERVER, "cp", self.url(key), str(dst))
        self.assert_ok(result)
        return dst.read_bytes()

    def test_sizes_around_part_boundaries_round_trip(self):
        for size in [0, 1, 5 * MiB - 1, 5 * MiB, 5 * MiB + 1, 64 * MiB + 3]:
            with self.subTest(size=size):
                data = random_bytes(size, f"size-{size}")
                key = f"size-{size}.bin"
                self.assert_ok(self.upload(data, key))
                self.assertEqual(sha256(self.download(key)), sha256(data))
                stored = self.s3.get_object(Bucket=SERVER.bucket, Key=self.prefix + key)["Body"].read()
                self.assertEqual(sha256(stored), sha256(data), "boto3 reads back what we wrote")

    def test_awkward_keys_are_stored_exactly(self):
        data = random_bytes(6 * MiB, "keys")  # multipart with 5 MiB parts: the key is in every request
        for key in KEYS:
            if not key_supported(key):
                continue
            with self.subTest(key=key):
                self.assert_ok(self.upload(data, key))
                head = self.s3.head_object(Bucket=SERVER.bucket, Key=self.prefix + key)  # stored under exactly this key
                self.assertEqual(head["ContentLength"], len(data))
                self.assertEqual(sha256(self.download(key)), sha256(data))
                # s3rver lists '&' as '&amp;' (its XML escaping bug); moto rejects a list prefix with '/'.
                if not SERVER.name.startswith("s3rver") and not (SERVER.name == "moto" and "/" in key):
                    listed = self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=self.prefix + key)
                    self.assertEqual([o["Key"] for o in listed.get("Contents", [])], [self.prefix + key])

    def test_stdin_to_stdout(self):
        data = random_bytes(12 * MiB + 7, "stdio")
        up = cache_step(SERVER, "cp", "-", self.url("stdin.bin"), "--part-size", "5MiB", input_bytes=data)
        self.assert_ok(up)
        down = cache_step(SERVER, "cp", self.url("stdin.bin"), "-")
        self.assert_ok(down)
        self.assertEqual(sha256(down.stdout), sha256(data))

    def test_aws_cli_reads_ours_and_we_read_theirs(self):
        clis = aws_cli_commands()
        self.assertTrue(clis, "no AWS CLI found")
        data = random_bytes(20 * MiB + 11, "aws-cli")  # above the CLI's 8 MiB multipart threshold
        src = self.tmp / "src.bin"
        src.write_bytes(data)
        for label, cli in clis:
            with self.subTest(cli=label):
                ours = f"ours-for-{label}.bin"
                self.assert_ok(self.upload(data, ours))
                theirs_file = self.tmp / f"{label}.bin"
                got = aws_cli(SERVER, cli, "s3", "cp", self.url(ours), str(theirs_file))
                self.assertEqual(got.returncode, 0, got.stderr.decode(errors="replace"))
                self.assertEqual(sha256(theirs_file.read_bytes()), sha256(data))

                theirs = f"theirs-from-{label}.bin"
                put = aws_cli(SERVER, cli, "s3", "cp", str(src), self.url(theirs))
                self.assertEqual(put.returncode, 0, put.stderr.decode(errors="replace"))
                self.assertEqual(sha256(self.download(theirs)), sha256(data))

    def test_boto3_reads_ours_and_we_read_boto3s(self):
        from boto3.s3.transfer import TransferConfig
        data = random_bytes(17 * MiB + 5, "boto3")
        self.assert_ok(self.upload(data, "ours.bin"))
        body = self.s3.get_object(Bucket=SERVER.bucket, Key=self.prefix + "ours.bin")["Body"].read()
        self.assertEqual(sha256(body), sha256(data))

        src = self.tmp / "boto3-src.bin"
        src.write_bytes(data)
        self.s3.upload_file(str(src), SERVER.bucket, self.prefix + "theirs.bin",
                            Config=TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB))
        self.assertEqual(sha256(self.download("theirs.bin")), sha256(data))

    def test_missing_key_fails_clearly_and_leaves_no_file(self):
        dst = self.tmp / "never.bin"
        result = cache_step(SERVER, "cp", self.url("does-not-exist.bin"), str(dst))
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"no such key", result.stderr)
        self.assertEqual(list(self.tmp.iterdir()), [], "no file, not even a partial one")

    def test_a_fifo_target_is_written_in_place_not_replaced(self):
        """A device or fifo target (/dev/null, a named pipe) is written through, never replaced by renaming a
        temporary file over it (which once turned /dev/null into a regular file on this machine)."""
        import stat
        import threading
        self.assert_ok(self.upload(random_bytes(3 * MiB + 5, "fifo"), "to-a-fifo.bin"))
        fifo = self.tmp / "pipe"
        os.mkfifo(fifo)
        received = bytearray()
        reader = threading.Thread(target=lambda: received.extend(open(fifo, "rb").read()))
        reader.start()
        result = cache_step(SERVER, "cp", self.url("to-a-fifo.bin"), str(fifo))
        reader.join(timeout=60)
        self.assert_ok(result)
        self.assertTrue(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the fifo was replaced")
        self.assertEqual(bytes(received), random_bytes(3 * MiB + 5, "fifo"))
        self.assertEqual(sorted(p.name for p in self.tmp.iterdir()), ["pipe", "upload.bin"], "no partial file left")

    def test_wrong_secret_is_rejected_and_named(self):
        if not SERVER.verifies_sigv4:
            self.skipTest(f"{SERVER.name} does not verify signatures")
        env = SERVER.client_env(AWS_SECRET_ACCESS_KEY="not-the-secret")
        src = self.tmp / "x.bin"
        src.write_bytes(b"x" * 1000)
        result = cache_step(SERVER, "cp", str(src), self.url("wrong-secret.bin"), env=env)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"SignatureDoesNotMatch", result.stderr)
        self.assertIn(b"wrong secret access key", result.stderr)
        self.assertNotIn(b"not-the-secret", result.stderr, "the secret never reaches the output")
        listed = self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=self.prefix)
        self.assertEqual(listed.get("KeyCount", 0), 0)

    def test_one_gib_stream(self):
        if os.environ.get("CACHESTEP_TEST_1GIB") != "1":
            self.skipTest("1 GiB stream runs on the fast servers only (CACHESTEP_TEST_1GIB=1)")
        # A deterministic 1 GiB stream (AES-CTR keystream), piped into cp - and hashed on the way.
        gen = "openssl enc -aes-128-ctr -nosalt -K 00112233445566778899aabbccddeeff -iv 00000000000000000000000000000000 -in /dev/zero 2>/dev/null | head -c 1073741824"
        expected = subprocess.run(f"{gen} | sha256sum", shell=True, capture_output=True, check=True).stdout.split()[0]
        up = subprocess.run(f"{gen} | \"$CACHE_STEP\" cp - \"$URL\" --endpoint \"$ENDPOINT\" --path-style",
                            shell=True, capture_output=True, env=SERVER.client_env(
                                CACHE_STEP=os.environ["CACHESTEP_BIN"], URL=self.url("1gib.bin"), ENDPOINT=SERVER.endpoint))
        self.assertEqual(up.returncode, 0, up.stderr.decode(errors="replace"))
        down = subprocess.run("\"$CACHE_STEP\" cp \"$URL\" - --endpoint \"$ENDPOINT\" --path-style | sha256sum",
                              shell=True, capture_output=True, env=SERVER.client_env(
                                  CACHE_STEP=os.environ["CACHESTEP_BIN"], URL=self.url("1gib.bin"), ENDPOINT=SERVER.endpoint))
        self.assertEqual(down.returncode, 0, down.stderr.decode(errors="replace"))
        self.assertEqual(down.stdout.split()[0], expected)
        head = self.s3.head_object(Bucket=SERVER.bucket, Key=self.prefix + "1gib.bin")
        self.assertEqual(head["ContentLength"], 1 << 30)


if __name__ == "__main__":
    unittest.main(verbosity=2)
