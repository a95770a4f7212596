#!/usr/bin/env python3
"""Functional test of cachestep-s3sink against real clients.

Starts the sink (SigV4 checked), then:
  boto3      every operation the sink implements, error codes, ranges, listings, multipart rules, keys
  raw        hand-signed requests: aws-chunked bodies (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer,
             STREAMING-AWS4-HMAC-SHA256-PAYLOAD with chunk signatures), wrong secret, unknown key id,
             Expect: 100-continue refused before the body
  aws-cli-v1 (aws on PATH), aws-cli-v2 (/usr/bin/aws), rclone (if on PATH), cache-step (CACHESTEP_BIN or
             --cache-step): upload and download of a small and a multipart file, listing, byte-compared
  tls        aws-cli v1/v2 through a TLS terminator in this script (certificates from tests/servers/make-certs.sh):
             botocore >= 1.36 sends aws-chunked bodies with a checksum trailer over HTTPS only, so this is
             where real clients exercise the decoder

  python3 bench/s3sink/test_s3sink.py [--sink BIN] [--cache-step BIN] [--only boto3,raw,...] [--size-mib 40]

Exit status 0 when every check passed. Clients that are not installed are reported as SKIP.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

results = []  # (section, name, ok, detail)


def check(section, name, ok, detail=""):
    results.append((section, name, bool(ok), detail))
    mark = "ok  " if ok else "FAIL"
    print(f"  [{mark}] {section}: {name}" + (f" ({detail})" if detail and not ok else ""), flush=True)
    return ok


def run_section(section, fn, *args):
    print(f"== {section}", flush=True)
    try:
        fn(*args)
    except Exception as e:  # a crash in a section fails it, the others still run
        traceback.print_exc()
        check(section, "section ran to the end", False, repr(e))


# ------------------------------------------------------------------ the sink


class Sink:
    def __init__(self, binary, workdir, extra=()):
        self.env_file = os.path.join(workdir, "sink.env")
        self.log_path = os.path.join(workdir, "sink.log")
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--env-file", self.env_file, "--access-key", "sinkkey", "--secret-key",
             "sink/secret+key", "--bucket", "sink-test", "--log", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on "):
            raise RuntimeError(f"sink did not start: {line!r}; log: {open(self.log_path).read()}")
        self.endpoint = line.split()[-1]
        self.env = dict(l.strip().split("=", 1) for l in open(self.env_file) if "=" in l)
        u = urllib.parse.urlparse(self.endpoint)
        self.host, self.port = u.hostname, u.port

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.log.close()
        return open(self.log_path).read()

    def log_text(self):
        self.log.flush()
        return open(self.log_path).read()


def make_file(path, size, seed):
    # Incompressible, deterministic: SHA-256 counter stream (fast enough for tens of MiB).
    with open(path, "wb") as f:
        block = hashlib.sha256(seed.encode()).digest()
        left = size
        buf = bytearray()
        i = 0
        while left > 0:
            buf += hashlib.sha256(block + i.to_bytes(8, "little")).digest() * 32  # 1 KiB per step
            i += 1
            if len(buf) >= 1 << 20 or len(buf) >= left:
                n = min(len(buf), left)
                f.write(buf[:n])
                left -= n
                buf = bytearray()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


# ------------------------------------------------------------------ hand-made SigV4 (for raw requests)


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, path, query, headers, payload_hash, ak, sk, region="us-east-1"):
    """SigV4 header signing, S3 rules (path as sent). Returns (headers, signature, signing_key, scope, amz_date)."""
    t = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    h = {k.lower(): str(v) for k, v in headers.items()}
    h["x-amz-date"] = t
    h["x-amz-content-sha256"] = payload_hash
    names = sorted(h)
    canon_headers = "".join(f"{n}:{' '.join(h[n].split())}\n" for n in names)
    pairs = sorted((urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                   for k, v in urllib.parse.parse_qsl(query, keep_blank_values=True))
    canon_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical = "\n".join([method, path, canon_query, canon_headers, ";".join(names), payload_hash])
    scope = f"{t[:8]}/{region}/s3/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", t, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + sk).encode(), t[:8]), region), "s3"), "aws4_request")
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    h["authorization"] = f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    return h, sig, key, scope, t


def raw_request(sink, method, path, query="", headers=None, body=b"", payload_hash=None, ak=None, sk=None, host=None):
    headers = dict(headers or {})
    headers["host"] = host or f"{sink.host}:{sink.port}"
    if body:
        headers.setdefault("content-length", str(len(body)))
    ph = payload_hash or hashlib.sha256(body).hexdigest()
    h, *_ = sign(method, path, query, headers, ph, ak or sink.env["S3_ACCESS_KEY"], sk or sink.env["S3_SECRET_KEY"])
    c = http.client.HTTPConnection(sink.host, sink.port, timeout=30)
    c.request(method, path + ("?" + query if query else ""), body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict(r.getheaders()), data


# ------------------------------------------------------------------ boto3


def boto_client(sink, endpoint=None, **cfg):
    import boto3
    from botocore.config import Config
    return boto3.client("s3", endpoint_url=endpoint or sink.endpoint, region_name="us-east-1",
                        aws_access_key_id=sink.env["S3_ACCESS_KEY"], aws_secret_access_key=sink.env["S3_SECRET_KEY"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **cfg))


def err_code(fn):
    from botocore.exceptions import ClientError
    try:
        fn()
        return None
    except ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]


def section_boto3(sink):
    S = "boto3"
    s3 = boto_client(sink)
    b = sink.env["S3_BUCKET"]
    check(S, "HeadBucket", s3.head_bucket(Bucket=b)["ResponseMetadata"]["HTTPStatusCode"] == 200)
    check(S, "CreateBucket", s3.create_bucket(Bucket="other-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 200)
    names = [x["Name"] for x in s3.list_buckets()["Buckets"]]
    check(S, "ListBuckets", set(names) == {b, "other-bucket"}, names)
    check(S, "HeadBucket missing -> 404", err_code(lambda: s3.head_bucket(Bucket="nope-bucket"))[1] == 404)

    data = os.urandom(100)
    r = s3.put_object(Bucket=b, Key="a/one.bin", Body=data, ContentType="text/x-test", Metadata={"mtime": "123"},
                      CacheControl="no-cache")
    check(S, "PutObject ETag is the MD5", r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest(), r["ETag"])
    g = s3.get_object(Bucket=b, Key="a/one.bin")
    check(S, "GetObject bytes", g["Body"].read() == data)
    check(S, "GetObject Content-Type/metadata/Cache-Control",
          g["ContentType"] == "text/x-test" and g["Metadata"] == {"mtime": "123"} and g["CacheControl"] == "no-cache",
          (g["ContentType"], g["Metadata"]))
    h = s3.head_object(Bucket=b, Key="a/one.bin")
    check(S, "HeadObject size and ETag", h["ContentLength"] == 100 and h["ETag"] == r["ETag"])
    check(S, "HeadObject missing -> 404", err_code(lambda: s3.head_object(Bucket=b, Key="nope"))[1] == 404)
    check(S, "GetObject missing -> NoSuchKey", err_code(lambda: s3.get_object(Bucket=b, Key="nope")) == ("NoSuchKey", 404))
    check(S, "PutObject in missing bucket -> NoSuchBucket",
          err_code(lambda: s3.put_object(Bucket="nope-bucket", Key="k", Body=b"x"))[0] == "NoSuchBucket")

    # Ranges.
    def rng(spec):
        g = s3.get_object(Bucket=b, Key="a/one.bin", Range=spec)
        return g["ResponseMetadata"]["HTTPStatusCode"], g.get("ContentRange"), g["Body"].read()
    check(S, "Range bytes=0-9", rng("bytes=0-9") == (206, "bytes 0-9/100", data[:10]))
    check(S, "Range bytes=90-199 (clamped)", rng("bytes=90-199") == (206, "bytes 90-99/100", data[90:]))
    check(S, "Range bytes=95-", rng("bytes=95-") == (206, "bytes 95-99/100", data[95:]))
    check(S, "Range bytes=-10 (suffix)", rng("bytes=-10") == (206, "bytes 90-99/100", data[90:]))
    check(S, "Range bytes=-1000 (suffix longer than object)", rng("bytes=-1000") == (206, "bytes 0-99/100", data))
    check(S, "Range bytes=100- -> 416 InvalidRange", err_code(lambda: rng("bytes=100-")) == ("InvalidRange", 416))
    s3.put_object(Bucket=b, Key="a/empty", Body=b"")
    check(S, "empty object GET", s3.get_object(Bucket=b, Key="a/empty")["Body"].read() == b"")
    check(S, "empty object Range -> 416",
          err_code(lambda: s3.get_object(Bucket=b, Key="a/empty", Range="bytes=0-9"))[1] == 416)
    # Conditionals.
    check(S, "If-Match matching -> 200",
          s3.get_object(Bucket=b, Key="a/one.bin", IfMatch=r["ETag"])["Body"].read() == data)
    check(S, "If-Match other -> 412 PreconditionFailed",
          err_code(lambda: s3.get_object(Bucket=b, Key="a/one.bin", IfMatch='"0000"')) == ("PreconditionFailed", 412))
    check(S, "If-Match other with Range -> 412",
          err_code(lambda: s3.get_object(Bucket=b, Key="a/one.bin", IfMatch='"0000"', Range="bytes=0-1"))[1] == 412)
    check(S, "If-None-Match matching -> 304",
          err_code(lambda: s3.get_object(Bucket=b, Key="a/one.bin", IfNoneMatch=r["ETag"]))[1] == 304)

    # Keys that need care on the wire and in XML.
    odd = ["sp ace", "plus+sign", "eq=ual&amp", "tilde~x", "ütf8-ß-東京", "double//slash", "trailing/",
           "percent%41", "star*paren()", "quote'apos", "lt<gt>", "a//b c+d=e&f~g/ü"]
    for k in odd:
        s3.put_object(Bucket=b, Key="keys/" + k, Body=k.encode())
    got_ok = all(s3.get_object(Bucket=b, Key="keys/" + k)["Body"].read() == k.encode() for k in odd)
    check(S, "special keys round-trip", got_ok)
    listed = [o["Key"] for o in s3.list_objects_v2(Bucket=b, Prefix="keys/")["Contents"]]
    check(S, "special keys listed exactly (encoding-type=url)", sorted(listed) == sorted("keys/" + k for k in odd),
          listed)
    listed1 = [o["Key"] for o in s3.list_objects(Bucket=b, Prefix="keys/")["Contents"]]
    check(S, "special keys listed exactly (ListObjects v1)", sorted(listed1) == sorted("keys/" + k for k in odd))

    # Listings: prefix, delimiter, max-keys, continuation, start-after.
    for i in range(25):
        s3.put_object(Bucket=b, Key=f"list/f{i:02d}", Body=b"x")
    for d in ("d1", "d2", "d3"):
        for i in range(3):
            s3.put_object(Bucket=b, Key=f"list/{d}/g{i}", Body=b"y")
    r = s3.list_objects_v2(Bucket=b, Prefix="list/", Delimiter="/")
    check(S, "ListObjectsV2 delimiter: keys and CommonPrefixes",
          len(r["Contents"]) == 25 and [p["Prefix"] for p in r["CommonPrefixes"]] == ["list/d1/", "list/d2/", "list/d3/"]
          and r["KeyCount"] == 28, (len(r.get("Contents", [])), r.get("CommonPrefixes")))
    seen, token, pages = [], None, 0
    while True:
        kw = {"ContinuationToken": token} if token else {}
        r = s3.list_objects_v2(Bucket=b, Prefix="list/", Delimiter="/", MaxKeys=4, **kw)
        seen += [o["Key"] for o in r.get("Contents", [])] + [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        pages += 1
        if not r["IsTruncated"]:
            break
        token = r["NextContinuationToken"]
    check(S, "ListObjectsV2 pages of 4 with continuation tokens", len(seen) == 28 and len(set(seen)) == 28 and pages == 7,
          (len(seen), pages))
    pag = s3.get_paginator("list_objects_v2")
    allk = [o["Key"] for p in pag.paginate(Bucket=b, Prefix="list/", PaginationConfig={"PageSize": 7}) for o in p.get("Contents", [])]
    check(S, "ListObjectsV2 paginator, no delimiter", len(allk) == 34 and allk == sorted(allk))
    r = s3.list_objects_v2(Bucket=b, Prefix="list/", StartAfter="list/f20")
    check(S, "ListObjectsV2 start-after", [o["Key"] for o in r["Contents"]][:2] == ["list/f21", "list/f22"])
    pag1 = s3.get_paginator("list_objects")
    allk1 = [o["Key"] for p in pag1.paginate(Bucket=b, Prefix="list/", PaginationConfig={"PageSize": 5}) for o in p.get("Contents", [])]
    check(S, "ListObjects v1 paginator (marker)", allk1 == allk)
    r = s3.list_objects_v2(Bucket=b, Prefix="list/", MaxKeys=0)
    check(S, "ListObjectsV2 max-keys=0", r["KeyCount"] == 0)

    # DeleteObjects, DeleteObject.
    r = s3.delete_objects(Bucket=b, Delete={"Objects": [{"Key": f"list/f{i:02d}"} for i in range(25)] + [{"Key": "list/none"}]})
    check(S, "DeleteObjects", len(r["Deleted"]) == 26 and "Contents" in s3.list_objects_v2(Bucket=b, Prefix="list/")
          and len(s3.list_objects_v2(Bucket=b, Prefix="list/")["Contents"]) == 9)
    check(S, "DeleteObject -> 204", s3.delete_object(Bucket=b, Key="a/empty")["ResponseMetadata"]["HTTPStatusCode"] == 204)
    check(S, "DeleteObject missing key -> 204", s3.delete_object(Bucket=b, Key="a/empty")["ResponseMetadata"]["HTTPStatusCode"] == 204)
    check(S, "DeleteBucket not empty -> BucketNotEmpty", err_code(lambda: s3.delete_bucket(Bucket=b))[0] == "BucketNotEmpty")

    # CopyObject.
    r = s3.copy_object(Bucket="other-bucket", Key="copy", CopySource={"Bucket": b, "Key": "a/one.bin"})
    check(S, "CopyObject", s3.get_object(Bucket="other-bucket", Key="copy")["Body"].read() == data
          and r["CopyObjectResult"]["ETag"] == '"%s"' % hashlib.md5(data).hexdigest())
    s3.delete_object(Bucket="other-bucket", Key="copy")
    check(S, "DeleteBucket", s3.delete_bucket(Bucket="other-bucket")["ResponseMetadata"]["HTTPStatusCode"] == 204)

    # Multipart.
    MiB = 1 << 20
    p1, p2, p3 = os.urandom(5 * MiB), os.urandom(5 * MiB + 7), os.urandom(1000)
    up = s3.create_multipart_upload(Bucket=b, Key="mp/obj", ContentType="application/x-mp", Metadata={"k": "v"})
    uid = up["UploadId"]
    e1 = s3.upload_part(Bucket=b, Key="mp/obj", UploadId=uid, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=b, Key="mp/obj", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    e3 = s3.upload_part(Bucket=b, Key="mp/obj", UploadId=uid, PartNumber=3, Body=p3)["ETag"]
    ups = s3.list_multipart_uploads(Bucket=b)
    check(S, "ListMultipartUploads lists it", [(u["Key"], u["UploadId"]) for u in ups.get("Uploads", [])] == [("mp/obj", uid)])
    lp = s3.list_parts(Bucket=b, Key="mp/obj", UploadId=uid)
    check(S, "ListParts", [(p["PartNumber"], p["Size"], p["ETag"]) for p in lp["Parts"]] ==
          [(1, 5 * MiB, e1), (2, 5 * MiB + 7, e2), (3, 1000, e3)])
    lp2 = s3.list_parts(Bucket=b, Key="mp/obj", UploadId=uid, MaxParts=2)
    check(S, "ListParts max-parts", lp2["IsTruncated"] and lp2["NextPartNumberMarker"] == 2 and len(lp2["Parts"]) == 2)
    check(S, "Complete with a wrong ETag -> InvalidPart",
          err_code(lambda: s3.complete_multipart_upload(Bucket=b, Key="mp/obj", UploadId=uid, MultipartUpload={
              "Parts": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}]}))[0] == "InvalidPart")
    check(S, "Complete out of order -> InvalidPartOrder",
          err_code(lambda: s3.complete_multipart_upload(Bucket=b, Key="mp/obj", UploadId=uid, MultipartUpload={
              "Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]}))[0] == "InvalidPartOrder")
    check(S, "Complete with a small non-last part -> EntityTooSmall",
          err_code(lambda: s3.complete_multipart_upload(Bucket=b, Key="mp/obj", UploadId=uid, MultipartUpload={
              "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 3, "ETag": e3}, ]}))  # 1 is 5 MiB: fine
          is None)
    # That succeeded (parts 1 and 3): start again for the real check.
    got = s3.get_object(Bucket=b, Key="mp/obj")["Body"].read()
    check(S, "Complete of parts 1+3 gives their bytes", got == p1 + p3)
    up = s3.create_multipart_upload(Bucket=b, Key="mp/obj2")
    uid = up["UploadId"]
    e3 = s3.upload_part(Bucket=b, Key="mp/obj2", UploadId=uid, PartNumber=1, Body=p3)["ETag"]
    e2 = s3.upload_part(Bucket=b, Key="mp/obj2", UploadId=uid, PartNumber=2, Body=p2)["ETag"]
    check(S, "Complete with a small non-last part -> EntityTooSmall",
          err_code(lambda: s3.complete_multipart_upload(Bucket=b, Key="mp/obj2", UploadId=uid, MultipartUpload={
              "Parts": [{"PartNumber": 1, "ETag": e3}, {"PartNumber": 2, "ETag": e2}]}))[0] == "EntityTooSmall")
    check(S, "AbortMultipartUpload -> 204",
          s3.abort_multipart_upload(Bucket=b, Key="mp/obj2", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"] == 204)
    check(S, "UploadPart after abort -> NoSuchUpload",
          err_code(lambda: s3.upload_part(Bucket=b, Key="mp/obj2", UploadId=uid, PartNumber=1, Body=b"x"))[0] == "NoSuchUpload")
    check(S, "ListParts after abort -> NoSuchUpload",
          err_code(lambda: s3.list_parts(Bucket=b, Key="mp/obj2", UploadId=uid))[0] == "NoSuchUpload")
    # The S3 multipart ETag: MD5 of the parts' binary MD5s, "-N" (with Content-MD5 sent, part ETags are MD5s).
    up = s3.create_multipart_upload(Bucket=b, Key="mp/obj3", ContentType="application/x-mp", Metadata={"k": "v"})
    uid = up["UploadId"]
    parts = []
    for n, body in ((1, p1), (2, p2), (3, p3)):
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        e = s3.upload_part(Bucket=b, Key="mp/obj3", UploadId=uid, PartNumber=n, Body=body, ContentMD5=md5)["ETag"]
        parts.append({"PartNumber": n, "ETag": e})
    check(S, "UploadPart with Content-MD5: ETag is the part's MD5",
          [p["ETag"] for p in parts] == ['"%s"' % hashlib.md5(x).hexdigest() for x in (p1, p2, p3)])
    r = s3.complete_multipart_upload(Bucket=b, Key="mp/obj3", UploadId=uid, MultipartUpload={"Parts": parts})
    want = hashlib.md5(b"".join(hashlib.md5(x).digest() for x in (p1, p2, p3))).hexdigest() + "-3"
    check(S, "CompleteMultipartUpload ETag = md5(part md5s)-N", r["ETag"] == f'"{want}"', r["ETag"])
    g = s3.get_object(Bucket=b, Key="mp/obj3")
    check(S, "multipart object: bytes, ETag, Content-Type, metadata",
          g["Body"].read() == p1 + p2 + p3 and g["ETag"] == f'"{want}"' and g["ContentType"] == "application/x-mp"
          and g["Metadata"] == {"k": "v"})
    g = s3.get_object(Bucket=b, Key="mp/obj3", Range=f"bytes={5 * MiB - 3}-{5 * MiB + 2}")
    check(S, "Range across a part boundary", g["Body"].read() == (p1 + p2)[5 * MiB - 3:5 * MiB + 3])
    check(S, "ListMultipartUploads empty after complete/abort", not s3.list_multipart_uploads(Bucket=b).get("Uploads"))
    # boto3's managed transfer (threads, multipart, ranged GETs).
    from boto3.s3.transfer import TransferConfig
    big = os.urandom(24 * MiB + 5)
    import io
    s3.upload_fileobj(io.BytesIO(big), b, "mp/managed", Config=TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB))
    out = io.BytesIO()
    s3.download_fileobj(b, "mp/managed", out, Config=TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB))
    check(S, "upload_fileobj/download_fileobj 24 MiB", out.getvalue() == big)
    # Checksums: accepted (not verified unless --verify-payload; never returned).
    r = s3.put_object(Bucket=b, Key="ck", Body=b"hello", ChecksumAlgorithm="CRC32")
    check(S, "PutObject with x-amz-checksum-crc32 accepted", r["ResponseMetadata"]["HTTPStatusCode"] == 200)


def section_raw(sink):
    S = "raw"
    b = sink.env["S3_BUCKET"]
    data = os.urandom(300_000)

    # aws-chunked, unsigned payload, CRC32 trailer (what botocore >= 1.36 sends over HTTPS).
    body = bytearray()
    for i in range(0, len(data), 65536):
        c = data[i:i + 65536]
        body += f"{len(c):x}\r\n".encode() + c + b"\r\n"
    crc = base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()
    body += b"0\r\nx-amz-checksum-crc32:" + crc.encode() + b"\r\n\r\n"
    st, _, resp = raw_request(sink, "PUT", f"/{b}/chunked-unsigned", headers={
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
        "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-sdk-checksum-algorithm": "CRC32"},
        body=bytes(body), payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    check(S, "aws-chunked STREAMING-UNSIGNED-PAYLOAD-TRAILER PUT -> 200", st == 200, (st, resp[:300]))
    st, hdrs, got = raw_request(sink, "GET", f"/{b}/chunked-unsigned")
    check(S, "aws-chunked unsigned: stored bytes are the decoded payload", st == 200 and got == data, (st, len(got)))
    check(S, "aws-chunked: Content-Encoding not stored", "aws-chunked" not in hdrs.get("Content-Encoding", ""))

    # aws-chunked with chunk signatures (Java/Go SDK v1 style), no trailer.
    st = signed_chunked_put(sink, f"/{b}/chunked-signed", data)
    check(S, "aws-chunked STREAMING-AWS4-HMAC-SHA256-PAYLOAD PUT -> 200", st == 200, st)
    st, _, got = raw_request(sink, "GET", f"/{b}/chunked-signed")
    check(S, "aws-chunked signed: stored bytes are the decoded payload", got == data)

    # Truncated / inconsistent aws-chunked.
    bad = f"{len(data):x}\r\n".encode() + data[:1000] + b"\r\n0\r\n\r\n"
    st, _, resp = raw_request(sink, "PUT", f"/{b}/chunked-bad", headers={
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))},
        body=bad, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    check(S, "aws-chunked body shorter than declared -> 400", st == 400, (st, resp[:200]))
    # UploadPart with aws-chunked.
    st, _, resp = raw_request(sink, "POST", f"/{b}/chunked-mp", query="uploads=")
    uid = resp.split(b"<UploadId>")[1].split(b"</UploadId>")[0].decode()
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n"
    st, hd, _ = raw_request(sink, "PUT", f"/{b}/chunked-mp", query=f"partNumber=1&uploadId={uid}", headers={
        "content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data))},
        body=body, payload_hash="STREAMING-UNSIGNED-PAYLOAD-TRAILER")
    etag = hd.get("ETag")
    xml = f"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    st2, _, resp2 = raw_request(sink, "POST", f"/{b}/chunked-mp", query=f"uploadId={uid}", body=xml.encode())
    st3, _, got = raw_request(sink, "GET", f"/{b}/chunked-mp")
    check(S, "aws-chunked UploadPart + Complete", st == 200 and st2 == 200 and got == data, (st, st2, resp2[:200]))

    # Virtual-host style: Host: <bucket>.localhost:port.
    vh = f"{b}.localhost:{sink.port}"
    st, _, _ = raw_request(sink, "PUT", "/vhost/key", body=b"vhost", host=vh)
    st2, _, got = raw_request(sink, "GET", "/vhost/key", host=vh)
    st3, _, got3 = raw_request(sink, "GET", f"/{b}/vhost/key")
    check(S, "virtual-host style PUT/GET (Host: bucket.localhost)", (st, st2, got, got3) == (200, 200, b"vhost", b"vhost"),
          (st, st2, got, got3))

    # Signatures.
    st, _, resp = raw_request(sink, "GET", f"/{b}/chunked-signed", sk="wrong-secret")
    check(S, "wrong secret -> 403 SignatureDoesNotMatch (with StringToSign)",
          st == 403 and b"SignatureDoesNotMatch" in resp and b"<StringToSign>" in resp, (st, resp[:200]))
    st, _, resp = raw_request(sink, "GET", f"/{b}/chunked-signed", ak="NOSUCHKEY")
    check(S, "unknown key id -> 403 InvalidAccessKeyId", st == 403 and b"InvalidAccessKeyId" in resp, (st, resp[:200]))
    c = http.client.HTTPConnection(sink.host, sink.port, timeout=10)
    c.request("GET", f"/{b}/chunked-signed")
    r = c.getresponse()
    check(S, "no Authorization -> 403 AccessDenied", r.status == 403 and b"AccessDenied" in r.read())
    # A query parameter changed after signing.
    h, *_ = sign("GET", f"/{b}", "list-type=2&prefix=a", {"host": f"{sink.host}:{sink.port}"}, EMPTY_SHA256,
                 sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
    c = http.client.HTTPConnection(sink.host, sink.port, timeout=10)
    c.request("GET", f"/{b}?list-type=2&prefix=b", headers=h)
    r = c.getresponse()
    check(S, "query changed after signing -> 403", r.status == 403 and b"SignatureDoesNotMatch" in r.read())
    # Expect: 100-continue with a bad signature: answered before the body, no 100.
    s = socket.create_connection((sink.host, sink.port), timeout=10)
    h, *_ = sign("PUT", f"/{b}/expect", "", {"host": f"{sink.host}:{sink.port}", "content-length": "1000000",
                                            "expect": "100-continue"}, "UNSIGNED-PAYLOAD",
                 sink.env["S3_ACCESS_KEY"], "wrong")
    s.sendall((f"PUT /{b}/expect HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode())
    first = s.recv(65536)
    s.close()
    check(S, "Expect: 100-continue + bad signature -> 403 before the body", first.startswith(b"HTTP/1.1 403"), first[:40])
    # Expect: 100-continue with a good one: 100, then 200 after the body; keep-alive holds for a second request.
    s = socket.create_connection((sink.host, sink.port), timeout=10)
    body = os.urandom(200_000)
    h, *_ = sign("PUT", f"/{b}/expect", "", {"host": f"{sink.host}:{sink.port}", "content-length": str(len(body)),
                                            "expect": "100-continue"}, "UNSIGNED-PAYLOAD",
                 sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
    s.sendall((f"PUT /{b}/expect HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h.items()) + "\r\n").encode())
    cont = s.recv(65536)
    s.sendall(body)
    final = b""
    while b"\r\n\r\n" not in final:
        final += s.recv(65536)
    h2, *_ = sign("HEAD", f"/{b}/expect", "", {"host": f"{sink.host}:{sink.port}"}, EMPTY_SHA256,
                  sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
    s.sendall((f"HEAD /{b}/expect HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in h2.items()) + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(65536)
    s.close()
    check(S, "Expect: 100-continue good -> 100, 200, connection reused",
          cont.startswith(b"HTTP/1.1 100") and final.startswith(b"HTTP/1.1 200") and head.startswith(b"HTTP/1.1 200")
          and f"Content-Length: {len(body)}".encode() in head, (cont[:20], final[:20], head[:20]))
    # HTTP chunked transfer encoding (a stream of unknown length).
    def gen():
        for i in range(0, len(data), 70_000):
            yield data[i:i + 70_000]
    h, *_ = sign("PUT", f"/{b}/te-chunked", "", {"host": f"{sink.host}:{sink.port}", "transfer-encoding": "chunked"},
                 "UNSIGNED-PAYLOAD", sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
    c = http.client.HTTPConnection(sink.host, sink.port, timeout=30)
    c.request("PUT", f"/{b}/te-chunked", body=gen(), headers=h, encode_chunked=True)
    r = c.getresponse()
    r.read()
    st, _, got = raw_request(sink, "GET", f"/{b}/te-chunked")
    check(S, "Transfer-Encoding: chunked PUT", r.status == 200 and got == data, r.status)


def signed_chunked_put(sink, path, data, corrupt=False):
    """PUT with STREAMING-AWS4-HMAC-SHA256-PAYLOAD: each chunk signed, chained from the seed signature."""
    hdrs = {"host": f"{sink.host}:{sink.port}", "content-encoding": "aws-chunked",
            "x-amz-decoded-content-length": str(len(data))}
    chunks = [data[i:i + 100_000] for i in range(0, len(data), 100_000)] + [b""]
    sig_len = len(";chunk-signature=") + 64
    total = sum(len(f"{len(c):x}") + sig_len + 4 + len(c) for c in chunks)
    hdrs["content-length"] = str(total)
    h, seed, key, scope, amz_date = sign("PUT", path, "", hdrs, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
                                         sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
    prev, body = seed, bytearray()
    for c in chunks:
        sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, EMPTY_SHA256, hashlib.sha256(c).hexdigest()])
        sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
        if corrupt and c:
            c = bytes([c[0] ^ 1]) + c[1:]
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + c + b"\r\n"
        prev = sig
    assert len(body) == total
    conn = http.client.HTTPConnection(sink.host, sink.port, timeout=30)
    conn.request("PUT", path, body=bytes(body), headers=h)
    r = conn.getresponse()
    r.read()
    conn.close()
    return r.status


def section_verify_payload(binary, workdir):
    S = "verify-payload"
    sink = Sink(binary, workdir, extra=("--verify-payload", "--md5", "always"))
    try:
        b = sink.env["S3_BUCKET"]
        data = b"payload"
        st, _, resp = raw_request(sink, "PUT", f"/{b}/p", body=data, payload_hash=hashlib.sha256(b"other").hexdigest())
        check(S, "signed hash of other bytes -> 400 XAmzContentSHA256Mismatch", st == 400 and b"XAmzContentSHA256Mismatch" in resp, (st, resp[:200]))
        st, _, resp = raw_request(sink, "PUT", f"/{b}/p", body=data, headers={
            "content-md5": base64.b64encode(hashlib.md5(b"other").digest()).decode()})
        check(S, "wrong Content-MD5 -> 400 BadDigest", st == 400 and b"BadDigest" in resp, (st, resp[:200]))
        st, hd, _ = raw_request(sink, "PUT", f"/{b}/p", body=data)
        check(S, "right hash -> 200, ETag MD5", st == 200 and hd.get("ETag") == '"%s"' % hashlib.md5(data).hexdigest())
        s3 = boto_client(sink)
        up = s3.create_multipart_upload(Bucket=b, Key="mp")
        p = os.urandom(1000)
        e = s3.upload_part(Bucket=b, Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=p)["ETag"]
        check(S, "--md5 always: part ETag is its MD5 without Content-MD5", e == '"%s"' % hashlib.md5(p).hexdigest(), e)
        data = os.urandom(250_000)
        check(S, "aws-chunked signed chunks verified -> 200", signed_chunked_put(sink, f"/{b}/sc", data) == 200)
        check(S, "aws-chunked chunk altered -> 403", signed_chunked_put(sink, f"/{b}/sc2", data, corrupt=True) == 403)
        st, _, got = raw_request(sink, "GET", f"/{b}/sc")
        check(S, "aws-chunked verified body stored", got == data)
    finally:
        sink_log_checks(S, sink)


def sink_log_checks(S, sink):
    log = sink.stop()
    check(S, "sink exited cleanly on SIGTERM", sink.proc.returncode == 0, sink.proc.returncode)
    bad = [l for l in log.splitlines() if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
    check(S, "no sanitizer reports in the sink's log", not bad, "\n".join(bad[:5]))


def section_memory_limit(binary, workdir):
    S = "memory-limit"
    sink = Sink(binary, workdir, extra=("--memory-limit", "64MiB"))
    try:
        s3 = boto_client(sink)
        b = sink.env["S3_BUCKET"]
        check(S, "40 MB PUT fits", s3.put_object(Bucket=b, Key="fits", Body=os.urandom(40 << 20))["ETag"])
        check(S, "100 MB PUT -> 507 InsufficientStorage",
              err_code(lambda: s3.put_object(Bucket=b, Key="big", Body=os.urandom(100 << 20))) == ("InsufficientStorage", 507))
        s3.delete_object(Bucket=b, Key="fits")
        check(S, "after a delete the memory is reused: 60 MB PUT fits",
              s3.put_object(Bucket=b, Key="fits2", Body=os.urandom(60 << 20))["ETag"])
        # A body of unknown length that runs out of memory midway: refused, the connection closed.
        def gen():
            for _ in range(20):
                yield os.urandom(1 << 20)
        h, *_ = sign("PUT", f"/{b}/te", "", {"host": f"{sink.host}:{sink.port}", "transfer-encoding": "chunked"},
                     "UNSIGNED-PAYLOAD", sink.env["S3_ACCESS_KEY"], sink.env["S3_SECRET_KEY"])
        c = http.client.HTTPConnection(sink.host, sink.port, timeout=30)
        try:
            c.request("PUT", f"/{b}/te", body=gen(), headers=h, encode_chunked=True)
            st = c.getresponse().status
        except (BrokenPipeError, ConnectionResetError):
            st = "reset"
        check(S, "chunked body past the limit -> 507 or reset", st in (507, "reset"), st)
        check(S, "still serving", s3.head_object(Bucket=b, Key="fits2")["ContentLength"] == 60 << 20)
    finally:
        sink_log_checks(S, sink)


# ------------------------------------------------------------------ command-line clients


def client_env(sink, endpoint=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("RCLONE_")}
    env.update({"AWS_ACCESS_KEY_ID": sink.env["S3_ACCESS_KEY"], "AWS_SECRET_ACCESS_KEY": sink.env["S3_SECRET_KEY"],
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/nonexistent/aws-config",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials"})
    return env


def run(cmd, env, cwd=None, timeout=600):
    p = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr)[-2000:]


def roundtrip(S, sink, put, get, ls, files, prefix):
    """put(local, key) / get(key, local) / ls(prefix) -> (rc, output)."""
    ok_all = True
    for name, path in files:
        key = f"{prefix}/{name}"
        rc, out = put(path, key)
        ok_all &= check(S, f"upload {name} ({os.path.getsize(path)} B)", rc == 0, out)
        back = path + f".{S}.back"
        rc, out = get(key, back)
        same = rc == 0 and os.path.exists(back) and sha256_file(back) == sha256_file(path)
        ok_all &= check(S, f"download {name} byte-equal", same, out)
        if os.path.exists(back):
            os.remove(back)
    rc, out = ls(prefix)
    check(S, "listing shows the uploads", rc == 0 and all(n in out for n, _ in files), out)
    return ok_all


def section_awscli(sink, files, exe, S, endpoint=None, extra=(), env_extra=None):
    if not exe or not shutil.which(exe):
        check(S, "installed", True)
        print(f"  [SKIP] {S}: {exe} not found")
        return
    env = client_env(sink)
    env.update(env_extra or {})
    ep = endpoint or sink.endpoint
    b = sink.env["S3_BUCKET"]
    base = [exe, "--endpoint-url", ep, *extra, "s3"]
    roundtrip(S, sink,
              lambda p, k: run(base + ["cp", "--only-show-errors", p, f"s3://{b}/{k}"], env),
              lambda k, p: run(base + ["cp", "--only-show-errors", f"s3://{b}/{k}", p], env),
              lambda pre: run(base + ["ls", "--recursive", f"s3://{b}/{pre}/"], env),
              files, S)
    rc, out = run(base + ["rm", "--recursive", "--only-show-errors", f"s3://{b}/{S}/"], env)
    rc2, out2 = run(base + ["ls", f"s3://{b}/{S}/"], env)
    check(S, "rm --recursive (DeleteObjects) empties the prefix", rc == 0 and out2.strip() == "", out + out2)
    env_bad = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
    rc, out = run(base + ["ls", f"s3://{b}/"], env_bad)
    check(S, "wrong secret refused (SignatureDoesNotMatch)", rc != 0 and "SignatureDoesNotMatch" in out, out)


def section_rclone(sink, files):
    S = "rclone"
    exe = shutil.which("rclone")
    if not exe:
        print(f"  [SKIP] {S}: rclone not found")
        return
    env = client_env(sink)
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE",
              "AWS_SHARED_CREDENTIALS_FILE"):
        env.pop(k, None)
    env.update({"RCLONE_CONFIG": "/dev/null", "RCLONE_CONFIG_SINK_TYPE": "s3", "RCLONE_CONFIG_SINK_PROVIDER": "Other",
                "RCLONE_CONFIG_SINK_ACCESS_KEY_ID": sink.env["S3_ACCESS_KEY"],
                "RCLONE_CONFIG_SINK_SECRET_ACCESS_KEY": sink.env["S3_SECRET_KEY"],
                "RCLONE_CONFIG_SINK_ENDPOINT": sink.endpoint, "RCLONE_CONFIG_SINK_REGION": "us-east-1",
                "RCLONE_CONFIG_SINK_FORCE_PATH_STYLE": "true"})
    b = sink.env["S3_BUCKET"]
    r = [exe, "-q"]
    roundtrip(S, sink,
              lambda p, k: run(r + ["copyto", p, f"sink:{b}/{k}"], env),
              lambda k, p: run(r + ["copyto", f"sink:{b}/{k}", p], env),
              lambda pre: run(r + ["ls", f"sink:{b}/{pre}/"], env),
              files, S)
    rc, out = run(r + ["check", "--download", os.path.dirname(files[0][1]), f"sink:{b}/{S}/", "--one-way",
                       "--include", "*.bin"], env)
    check(S, "rclone check --download (bytes compared)", rc == 0, out)
    rc, out = run(r + ["md5sum", f"sink:{b}/{S}/"], env)
    small = [p for n, p in files if os.path.getsize(p) < 100 << 20][0]
    check(S, "rclone md5sum of a single-part object = its MD5 (ETag)",
          hashlib.md5(open(small, "rb").read()).hexdigest() in out, out)
    rc, out = run(r + ["purge", f"sink:{b}/{S}/"], env)
    rc2, out2 = run(r + ["ls", f"sink:{b}/{S}/"], env)
    check(S, "purge", rc == 0 and out2.strip() == "", out + out2)


def section_cache_step(sink, files, exe):
    S = "cache-step"
    if not exe or not os.path.exists(exe):
        print(f"  [SKIP] {S}: binary not found (CACHESTEP_BIN or --cache-step)")
        return
    env = client_env(sink)
    b = sink.env["S3_BUCKET"]
    common = ["--endpoint", sink.endpoint, "--path-style", "-q"]
    roundtrip(S, sink,
              lambda p, k: run([exe, "cp", p, f"s3://{b}/{k}", *common], env),
              lambda k, p: run([exe, "cp", f"s3://{b}/{k}", p, *common], env),
              lambda pre: run([exe, "ls", pre + "/", "--bucket", b, "--endpoint", sink.endpoint, "--path-style"], env),
              files, S)
    big = files[-1][1]
    for flags in (["--checksum", "md5"], ["--sign-payload", "always"], ["--sign-payload", "never", "--checksum", "none"]):
        rc, out = run([exe, "cp", big, f"s3://{b}/{S}/variant", *common, *flags], env)
        rc2, out2 = run([exe, "cp", f"s3://{b}/{S}/variant", big + ".v", *common], env)
        same = rc == 0 and rc2 == 0 and sha256_file(big + ".v") == sha256_file(big)
        check(S, "upload " + " ".join(flags), same, out + out2)
        if os.path.exists(big + ".v"):
            os.remove(big + ".v")
    # A stream of unknown length, and the save/restore commands.
    p = subprocess.run(f"cat {files[0][1]} | {exe} cp - s3://{b}/{S}/stream " + " ".join(common), shell=True, env=env,
                       capture_output=True, text=True)
    rc2, out2 = run([exe, "cp", f"s3://{b}/{S}/stream", files[0][1] + ".s", *common], env)
    check(S, "cp - (stream) round trip", p.returncode == 0 and rc2 == 0 and
          sha256_file(files[0][1] + ".s") == sha256_file(files[0][1]), p.stderr + out2)
    os.remove(files[0][1] + ".s")
    src = os.path.dirname(files[0][1])
    work = tempfile.mkdtemp(dir=src)
    os.makedirs(os.path.join(work, "tree", "sub"))
    for i in range(50):
        with open(os.path.join(work, "tree", "sub" if i % 2 else "", f"f{i}"), "wb") as f:
            f.write(os.urandom(1000 + i * 100))
    rc, out = run([exe, "save", "--key", "sinktest-1", "--source-path", "tree", "--bucket", b, "--endpoint",
                   sink.endpoint, "--path-style"], env, cwd=work)
    restore = tempfile.mkdtemp(dir=src)
    rc2, out2 = run([exe, "restore", "--key", "sinktest-1", "--source-path", "tree", "--bucket", b, "--endpoint",
                     sink.endpoint, "--path-style", "--fail-if-key-not-found"], env, cwd=restore)
    same = rc == 0 and rc2 == 0 and subprocess.run(["diff", "-r", os.path.join(work, "tree"),
                                                    os.path.join(restore, "tree")]).returncode == 0
    check(S, "save + restore of a tree", same, out + out2)
    rc, out = run([exe, "rm", "sinktest-1", "--bucket", b, "--endpoint", sink.endpoint, "--path-style"], env)
    check(S, "rm", rc == 0, out)


# ------------------------------------------------------------------ TLS terminator (for aws-chunked from real clients)


class TlsProxy:
    def __init__(self, certdir, target):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(os.path.join(certdir, "server.pem"), os.path.join(certdir, "server.key"))
        self.target = target
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            t = self.ctx.wrap_socket(c, server_side=True)
            u = socket.create_connection(self.target)
        except Exception:
            c.close()
            return

        def pump(a, b):
            try:
                while True:
                    d = a.recv(1 << 18)
                    if not d:
                        break
                    b.sendall(d)
            except Exception:
                pass
            finally:
                for s in (a, b):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except Exception:
                        pass
        th = threading.Thread(target=pump, args=(u, t), daemon=True)
        th.start()
        pump(t, u)
        th.join(timeout=30)
        t.close()
        u.close()


def section_tls(sink, files, workdir):
    certdir = os.path.join(workdir, "certs")
    subprocess.run([os.path.join(REPO, "tests", "servers", "make-certs.sh"), certdir], check=True)
    proxy = TlsProxy(certdir, (sink.host, sink.port))
    ep = f"https://127.0.0.1:{proxy.port}"
    before = sink.log_text().count(" aws-chunked")
    section_awscli(sink, files, "aws", "tls-aws-cli-v1", endpoint=ep, extra=["--ca-bundle", os.path.join(certdir, "ca.pem")])
    after_v1 = sink.log_text().count(" aws-chunked")
    check("tls-aws-cli-v1", "aws-cli v1 sent aws-chunked bodies (decoded by the sink)", after_v1 > before,
          f"{after_v1 - before} aws-chunked requests")
    section_awscli(sink, files, "/usr/bin/aws", "tls-aws-cli-v2", endpoint=ep,
                   extra=["--ca-bundle", os.path.join(certdir, "ca.pem")])
    after_v2 = sink.log_text().count(" aws-chunked")
    print(f"  [info] tls-aws-cli-v2: {after_v2 - after_v1} aws-chunked requests (aws-cli 2.9 predates "
          "default trailing checksums)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sink", default=os.environ.get("CACHESTEP_S3SINK",
                                                     os.path.join(REPO, "build", "bench", "s3sink", "cachestep-s3sink")))
    ap.add_argument("--cache-step", default=os.environ.get("CACHESTEP_BIN",
                                                           os.path.join(REPO, "build", "apps", "cache-step", "cache-step")))
    ap.add_argument("--only", default="boto3,raw,verify,memory-limit,aws-cli-v1,aws-cli-v2,rclone,cache-step,tls")
    ap.add_argument("--size-mib", type=int, default=40, help="size of the multipart test file (MiB)")
    a = ap.parse_args()
    a.sink, a.cache_step = os.path.abspath(a.sink), os.path.abspath(a.cache_step)
    only = set(a.only.split(","))
    workdir = tempfile.mkdtemp(prefix="s3sink-test-")
    try:
        files = [("small.bin", os.path.join(workdir, "small.bin")), ("empty.bin", os.path.join(workdir, "empty.bin")),
                 ("big.bin", os.path.join(workdir, "big.bin"))]
        make_file(files[0][1], 1_234_567, "small")
        open(files[1][1], "wb").close()
        make_file(files[2][1], a.size_mib << 20 | 12345, "big")
        sink = Sink(a.sink, workdir)
        print(f"sink {a.sink} at {sink.endpoint}")
        try:
            if "boto3" in only: run_section("boto3", section_boto3, sink)
            if "raw" in only: run_section("raw", section_raw, sink)
            if "aws-cli-v1" in only: run_section("aws-cli-v1", section_awscli, sink, files, "aws", "aws-cli-v1")
            if "aws-cli-v2" in only: run_section("aws-cli-v2", section_awscli, sink, files, "/usr/bin/aws", "aws-cli-v2")
            if "rclone" in only: run_section("rclone", section_rclone, sink, files)
            if "cache-step" in only: run_section("cache-step", section_cache_step, sink, files, a.cache_step)
            if "tls" in only: run_section("tls", section_tls, sink, files, workdir)
        finally:
            log = sink.stop()
            print("sink:", log.strip().splitlines()[-1])
            check("sink", "exited cleanly on SIGTERM", sink.proc.returncode == 0, sink.proc.returncode)
            bad = [l for l in log.splitlines() if "AddressSanitizer" in l or "runtime error:" in l or "LeakSanitizer" in l]
            check("sink", "no sanitizer reports in the sink's log", not bad, "\n".join(bad[:5]))
        if "verify" in only:
            run_section("verify-payload", section_verify_payload, a.sink, workdir)
        if "memory-limit" in only:
            run_section("memory-limit", section_memory_limit, a.sink, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    sections = {}
    for s, n, ok, d in results:
        sections.setdefault(s, [0, 0])
        sections[s][0 if ok else 1] += 1
    print("\nsummary:")
    for s, (p, f) in sections.items():
        print(f"  {s:16} {p:3} passed {f:3} failed")
    failed = sum(f for _, f in sections.values())
    print("PASS" if not failed else f"FAIL ({failed} checks)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
