"""A local stand-in for the EC2 instance metadata service, IMDSv2 only, for the credential-chain tests.

What it enforces, as EC2 does (EC2 user guide, "Use the Instance Metadata Service to access instance metadata"):
- PUT /latest/api/token needs X-aws-ec2-metadata-token-ttl-seconds between 1 and 21600 (else 400) and returns
  a fresh token; a PUT carrying X-Forwarded-For is refused (403), as EC2 refuses proxied token requests;
- every GET needs X-aws-ec2-metadata-token with a token it issued (else 401): IMDSv1 is off;
- GET /latest/meta-data/iam/security-credentials/ lists the role, /.../<role> returns the credentials JSON
  (Code, LastUpdated, Type, AccessKeyId, SecretAccessKey, Token, Expiration); 404 for anything else, and for
  the listing when no role is attached.
Every request is recorded (method, path, whether its token was valid) so tests can assert the sequence.

Usable in-process (ImdsStandIn(...).start() / .stop()) or on its own:
    python3 imds_standin.py --credentials creds.json [--role NAME] [--port N]
where creds.json holds AccessKeyId, SecretAccessKey, Token, Expiration. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"


class ImdsStandIn:
    def __init__(self, credentials: dict | None, role: str = "cache-step-instance-role") -> None:
        self.credentials = credentials  # None: no role attached
        self.role = role
        self.tokens: set[str] = set()
        self.requests: list[tuple[str, str, bool]] = []  # (method, path, token valid)
        self.lock = threading.Lock()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: tests read .requests instead
                pass

            def reply(self, status: int, body: str, content_type: str = "text/plain") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                standin.record("PUT", self.path, False)
                if self.path != "/latest/api/token":
                    return self.reply(404, "Not Found")
                if self.headers.get("X-Forwarded-For"):
                    return self.reply(403, "Forbidden")
                ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "")
                if not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                    return self.reply(400, "Bad Request")
                token = secrets.token_urlsafe(32)
                with standin.lock:
                    standin.tokens.add(token)
                self.reply(200, token)

            def do_GET(self) -> None:
                token = self.headers.get("X-aws-ec2-metadata-token", "")
                with standin.lock:
                    valid = token in standin.tokens
                standin.record("GET", self.path, valid)
                if not valid:
                    return self.reply(401, "Unauthorized")
                if self.path == CREDENTIALS_PATH and standin.credentials is not None:
                    return self.reply(200, standin.role)
                if self.path == CREDENTIALS_PATH + standin.role and standin.credentials is not None:
                    document = {"Code": "Success",
                                "LastUpdated": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                                "Type": "AWS-HMAC", **standin.credentials}
                    return self.reply(200, json.dumps(document, indent=2), "application/json")
                self.reply(404, "Not Found")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def record(self, method: str, path: str, valid: bool) -> None:
        with self.lock:
            self.requests.append((method, path, valid))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "ImdsStandIn":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--credentials", help="JSON file with AccessKeyId, SecretAccessKey, Token, Expiration "
                                              "(without it: no role attached)")
    parser.add_argument("--role", default="cache-step-instance-role")
    args = parser.parse_args()
    credentials = None
    if args.credentials:
        with open(args.credentials) as f:
            credentials = json.load(f)
    standin = ImdsStandIn(credentials, args.role)
    print(f"IMDSv2 stand-in on {standin.endpoint}", flush=True)
    try:
        standin.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
