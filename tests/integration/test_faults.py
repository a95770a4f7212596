"""Faults between cache-step and a real S3 server, injected by tests/faults/fault_proxy.py: every fault either
ends in identical bytes after retries, or in a clear error with nothing left behind (no object under the key, no
multipart upload: checked with ListMultipartUploads, so the server must implement it: moto or RGW)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "faults"))

from fault_control import FaultProxy  # noqa: E402
from harness import MiB, Server, cache_step, random_bytes, sha256, unique_prefix  # noqa: E402

SERVER = Server.from_env()
BACKEND = SERVER.endpoint.removeprefix("http://")
FAST = ["--max-attempts", "4", "--stall-timeout", "2", "--timeout", "30"]
PART = ["--part-size", "5MiB"]


def parts_of(log, method, query_word):
    return [e for e in log if e["method"] == method and query_word in (e["query"] or "")]


class FaultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.proxy = FaultProxy(backend=BACKEND).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.proxy.__exit__(None, None, None)

    def setUp(self):
        self.proxy.reset()
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = Path(self.dir.name)
        self.prefix = unique_prefix(self.id().split(".")[-1])
        self.s3 = SERVER.boto3()
        self.data = random_bytes(16 * MiB + 123, self.id())  # 4 parts of 5 MiB
        self.src = self.tmp / "src.bin"
        self.src.write_bytes(self.data)

    def tearDown(self):
        self.dir.cleanup()

    def url(self, key):
        return f"s3://{SERVER.bucket}/{self.prefix}{key}"

    def cp(self, src, dst, *extra):
        return cache_step(SERVER, "cp", src, dst, *PART, *FAST, *extra, endpoint=self.proxy.endpoint)

    def stored(self, key):
        return self.s3.get_object(Bucket=SERVER.bucket, Key=self.prefix + key)["Body"].read()

    def assert_nothing_left(self, key):
        listed = self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=self.prefix + key)
        self.assertEqual(listed.get("KeyCount", 0), 0, "no object under the key after a failed upload")
        if SERVER.has_list_multipart_uploads:
            uploads = self.s3.list_multipart_uploads(Bucket=SERVER.bucket, Prefix=self.prefix)
            self.assertEqual(uploads.get("Uploads", []), [], "no multipart upload left behind")

    def upload_survives(self, rules):
        self.proxy.set_rules(rules)
        result = self.cp(str(self.src), self.url("k.bin"))
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(sha256(self.stored("k.bin")), sha256(self.data))
        fired = sum(r["fired"] for r in self.proxy.get_rules())
        self.assertGreater(fired, 0, "the fault was injected")
        return self.proxy.wait_log_done(timeout=30)

    # --- uploads that recover -------------------------------------------------------------------------
    def test_connection_reset_mid_part_is_retried(self):
        log = self.upload_survives([{"name": "reset", "match": {"method": "PUT", "query": "partNumber=2"},
                                     "nth": 1, "reset_request_body_after": 1 * MiB}])
        self.assertGreaterEqual(len(parts_of(log, "PUT", "partNumber=2")), 2)

    def test_slowdown_is_retried(self):
        self.upload_survives([{"name": "slow", "match": {"method": "PUT", "query": "partNumber=3"},
                               "times": 2, "respond": "slowdown"}])

    def test_internal_error_is_retried(self):
        self.upload_survives([{"name": "500", "match": {"method": "PUT", "query": "partNumber=1"},
                               "nth": 1, "respond": "internal_error"}])

    def test_stalled_request_is_abandoned_and_retried(self):
        self.upload_survives([{"name": "stall", "match": {"method": "PUT", "query": "partNumber=2"},
                               "nth": 1, "stall": 6}])  # > --stall-timeout 2

    def test_complete_answering_500_is_retried(self):
        self.upload_survives([{"name": "complete", "match": {"method": "POST", "query": "uploadId="},
                               "nth": 1, "respond": "internal_error"}])

    def test_body_damaged_in_transit_is_caught_by_the_server_and_resent(self):
        # Only RGW verifies what a body carries (tests/servers/BEHAVIOUR.md): Content-MD5 (BadDigest) and the
        # signed payload hash (XAmzContentSHA256Mismatch). moto and s3rver store whatever arrives.
        if SERVER.name != "rgw":
            self.skipTest(f"{SERVER.name} does not verify body checksums")
        for flags in (["--checksum", "md5", "--sign-payload", "never"], ["--checksum", "none", "--sign-payload", "always"]):
            with self.subTest(flags=flags):
                self.proxy.reset()
                self.proxy.set_rules([{"name": "flip", "match": {"method": "PUT", "query": "partNumber=2"},
                                       "nth": 1, "corrupt_request_body_at": 1234567}])
                key = f"damaged-{flags[1]}.bin"
                result = self.cp(str(self.src), self.url(key), *flags)
                self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
                self.assertEqual(sha256(self.stored(key)), sha256(self.data), "the damaged part was rejected and resent")
                statuses = [e["status"] for e in parts_of(self.proxy.wait_log_done(), "PUT", "partNumber=2")]
                self.assertEqual(statuses, [400, 200])

    def test_complete_answering_200_with_an_error_body_is_retried(self):
        # S3 may start a 200 before CompleteMultipartUpload has finished, then report failure in the body.
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered '
                'an internal error. Please try again.</Message><RequestId>FAULT200</RequestId></Error>')
        log = self.upload_survives([{"name": "200-error", "match": {"method": "POST", "query": "uploadId="},
                                     "nth": 1, "respond": {"status": 200, "body": body}}])
        self.assertEqual([e["status"] for e in parts_of(log, "POST", "uploadId=")], [200, 200])

    # --- uploads that fail: clear error, nothing left --------------------------------------------------
    def test_persistent_part_failure_aborts_exactly_once(self):
        self.proxy.set_rules([{"name": "always-500", "match": {"method": "PUT", "query": "partNumber=3"},
                               "every": True, "respond": "internal_error"}])
        result = self.cp(str(self.src), self.url("k.bin"))
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"UploadPart 3", result.stderr)
        self.assertIn(b"after 4 attempts", result.stderr)
        log = self.proxy.wait_log_done()
        aborts = [e for e in log if e["method"] == "DELETE" and "uploadId=" in (e["query"] or "")]
        self.assertEqual(len(aborts), 1, "exactly one AbortMultipartUpload")
        self.assertEqual(len(parts_of(log, "POST", "uploadId=")), 0, "never completed")
        self.assert_nothing_left("k.bin")

    def test_garbage_answer_to_complete_fails_clearly(self):
        self.proxy.set_rules([{"name": "garbage", "match": {"method": "POST", "query": "uploadId="},
                               "every": True, "garbage": True}])
        result = self.cp(str(self.src), self.url("k.bin"))
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"CompleteMultipartUpload", result.stderr)
        self.assertIn(b"unusable response", result.stderr)
        self.assert_nothing_left("k.bin")

    def test_sigterm_aborts_the_upload(self):
        if not SERVER.has_list_multipart_uploads:
            self.skipTest("needs ListMultipartUploads to prove nothing is left")
        # Parts stall, so the upload is surely in flight when the signal comes.
        self.proxy.set_rules([{"name": "slow-parts", "match": {"method": "PUT", "query": "partNumber=2"},
                               "every": True, "delay": 5}])
        command = [os.environ["CACHESTEP_BIN"], "cp", str(self.src), self.url("k.bin"), *PART,
                   "--endpoint", self.proxy.endpoint, "--path-style"]
        process = subprocess.Popen(command, env=SERVER.client_env(), stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline and not parts_of(self.proxy.get_log(), "PUT", "partNumber=2"):
            time.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
        self.assertEqual(process.returncode, 128 + signal.SIGTERM, stderr.decode(errors="replace"))
        log = self.proxy.wait_log_done(timeout=30)
        aborts = [e for e in log if e["method"] == "DELETE" and "uploadId=" in (e["query"] or "")]
        self.assertEqual(len(aborts), 1)
        self.assertEqual(aborts[0]["status"], 204)
        self.assert_nothing_left("k.bin")

    # --- downloads ------------------------------------------------------------------------------------
    def put_directly(self, key):
        self.s3.put_object(Bucket=SERVER.bucket, Key=self.prefix + key, Body=self.data)

    def download_survives(self, rules):
        self.put_directly("d.bin")
        self.proxy.set_rules(rules)
        dst = self.tmp / "out.bin"
        result = self.cp(self.url("d.bin"), str(dst))
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
        self.assertEqual(sha256(dst.read_bytes()), sha256(self.data))
        self.assertGreater(sum(r["fired"] for r in self.proxy.get_rules()), 0)

    # Downloads use the default ranges: 1, 2, then 4 MiB each (starting at 0, 1, 3, 7, 11 and 15 MiB).
    def test_truncated_range_is_retried(self):
        self.download_survives([{"name": "cut", "match": {"method": "GET", "headers": {"Range": "bytes=3145728-"}},
                                 "nth": 1, "truncate_response_after": 1 * MiB}])

    def test_wrong_content_length_is_retried(self):
        self.download_survives([{"name": "len", "match": {"method": "GET", "headers": {"Range": "bytes=7340032-"}},
                                 "nth": 1, "wrong_content_length": -1000}])

    def test_reset_mid_download_is_retried(self):
        self.download_survives([{"name": "reset", "match": {"method": "GET", "headers": {"Range": True}},
                                 "nth": 2, "reset_response_after": 2 * MiB}])

    def test_stalled_download_is_retried(self):
        self.download_survives([{"name": "stall", "match": {"method": "GET", "headers": {"Range": True}},
                                 "nth": 3, "stall_response_after": {"bytes": 1 * MiB, "seconds": 6}}])

    def test_object_changing_between_ranges_fails_without_mixing(self):
        self.put_directly("d.bin")
        for rules in ([{"name": "etag", "match": {"method": "GET", "headers": {"Range": True}}, "skip": 1,
                        "every": True, "change_etag": True}],
                      [{"name": "412", "match": {"method": "GET", "headers": {"If-Match": True}}, "every": True,
                        "respond": "precondition_failed"}]):
            with self.subTest(rules=rules[0]["name"]):
                self.proxy.set_rules(rules)
                dst = self.tmp / "changed.bin"
                result = self.cp(self.url("d.bin"), str(dst))
                self.assertEqual(result.returncode, 1)
                self.assertIn(b"changed during the download", result.stderr)
                self.assertFalse(dst.exists(), "a failed download leaves no file")
                self.assertEqual([p.name for p in self.tmp.iterdir()], ["src.bin"], "nor a partial one")


if __name__ == "__main__":
    unittest.main(verbosity=2)
