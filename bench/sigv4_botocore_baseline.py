#!/usr/bin/env python3
"""The baseline for bench/sigv4_bench: botocore's S3SigV4Auth signing the same UploadPart request.

Prints one JSON line like sigv4_bench. usage: sigv4_botocore_baseline.py [rounds=5] [signatures_per_round=20000]
"""
import datetime
import json
import statistics
import sys
import time

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
per_round = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
creds = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "T" * 300)
url = ("https://my-ci-cache.s3.us-east-1.amazonaws.com/node_modules/npm-3f2a9c.tar.lz4"
       "?partNumber=17&uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRz")
auth = S3SigV4Auth(creds, "s3", "us-east-1")
config = Config(s3={"payload_signing_enabled": False})


def sign_once():
    req = AWSRequest("PUT", url, headers={"Content-Length": "8388608", "x-amz-checksum-crc32c": "yZRlqg=="})
    req.context["client_config"] = config
    auth.add_auth(req)
    return req.headers["Authorization"]


rates = []
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(per_round):
        sign_once()
    rates.append(per_round / (time.perf_counter() - start))
print(json.dumps({"benchmark": "botocore_upload_part", "rounds": rounds, "signatures_per_round": per_round,
                  "per_s": round(statistics.median(rates)), "min_per_s": round(min(rates)),
                  "max_per_s": round(max(rates))}))
