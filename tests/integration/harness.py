"""Shared helpers for the integration tests: the server a test runs against (from the env file the server
fixture writes, see tests/servers/README.md), and the clients we check against each other: our cache-step
binary, both AWS CLIs and boto3. Standard library plus boto3 (on these machines)."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

CACHE_STEP = os.environ.get("CACHESTEP_BIN", "cache-step")
MiB = 1 << 20


@dataclass
class Server:
    name: str
    endpoint: str
    region: str
    access_key: str
    secret_key: str
    bucket: str
    verifies_sigv4: bool
    has_list_multipart_uploads: bool
    ca_bundle: str | None

    @classmethod
    def from_env(cls, variable: str = "CACHESTEP_S3_ENV") -> "Server":
        path = os.environ.get(variable)
        if not path:
            raise RuntimeError(f"{variable} is not set: run this test through ctest (it starts the server)")
        values = {}
        for line in Path(path).read_text().splitlines():
            if "=" in line and not line.startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
        return cls(name=Path(path).stem, endpoint=values["S3_ENDPOINT"], region=values.get("S3_REGION", "us-east-1"),
                   access_key=values["S3_ACCESS_KEY"], secret_key=values["S3_SECRET_KEY"], bucket=values["S3_BUCKET"],
                   verifies_sigv4=values.get("S3_VERIFIES_SIGV4") == "true",
                   has_list_multipart_uploads=values.get("S3_HAS_LIST_MULTIPART_UPLOADS") == "true",
                   ca_bundle=values.get("S3_CA_BUNDLE") or None)

    def client_env(self, **overrides: str) -> dict[str, str]:
        """Environment for any client: credentials and region as AWS_* variables, nothing else inherited
        that could change a client's behaviour (profiles, proxies)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "http_proxy", "https_proxy"))}
        env.update(AWS_ACCESS_KEY_ID=self.access_key, AWS_SECRET_ACCESS_KEY=self.secret_key,
                   AWS_DEFAULT_REGION=self.region, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
        if self.ca_bundle:
            env["AWS_CA_BUNDLE"] = self.ca_bundle
        env.update(overrides)
        return env

    def boto3(self, **config):
        import boto3
        from botocore.config import Config
        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint, region_name=self.region, aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key, verify=self.ca_bundle or True,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3}, **config))


def unique_prefix(label: str) -> str:
    """Tests share a server: each works under its own prefix. No '/' in it: moto's SigV4 verifier rejects a
    ListObjectsV2 whose prefix contains one (its bug, TESTBED.md)."""
    return f"it-{label}-{uuid.uuid4().hex[:12]}-"


def cache_step(server: Server, *args: str, endpoint: str | None = None, env: dict[str, str] | None = None,
               input_bytes: bytes | None = None, stdin=None, stdout=None, timeout: float = 600,
               ) -> subprocess.CompletedProcess:
    """Runs `cache-step <args> --endpoint <server>`; never raises on a non-zero exit (tests assert it)."""
    command = [CACHE_STEP, *args, "--endpoint", endpoint or server.endpoint, "--path-style"]
    return subprocess.run(command, env=env or server.client_env(), input=input_bytes, stdin=stdin,
                          stdout=stdout if stdout is not None else subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def aws_cli_commands() -> list[tuple[str, str]]:
    """(label, executable) for each AWS CLI on the machine: v1 on PATH (pyenv), v2 from Debian."""
    found = []
    v1 = shutil.which("aws")
    if v1 and not v1.startswith("/usr/bin"):
        found.append(("aws-cli-v1", v1))
    if os.path.exists("/usr/bin/aws"):
        found.append(("aws-cli-v2", "/usr/bin/aws"))
    return found


def aws_cli(server: Server, executable: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    command = [executable, "--endpoint-url", server.endpoint, *args]
    return subprocess.run(command, env=server.client_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout)


def random_bytes(size: int, seed: str) -> bytes:
    """Deterministic incompressible bytes (SHAKE-256 of the seed): reproducible failures, no /dev/urandom."""
    return hashlib.shake_256(seed.encode()).digest(size) if size else b""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_tree(root: Path, seed: str, big: int = 0) -> None:
    """A test tree for cache round trips: nested dirs, an empty dir, symlinks (file, dir, dangling), modes, UTF-8 names, optionally a big file."""
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "empty").mkdir()
    (root / "a" / "b" / "c" / "deep.txt").write_text(f"deep {seed}\n")
    (root / "a" / "small.bin").write_bytes(random_bytes(4099, seed + "small"))
    (root / "a" / "zero.bin").write_bytes(b"")
    exe = root / "a" / "run.sh"
    exe.write_text("#!/bin/sh\necho hi\n")
    exe.chmod(0o755)
    private = root / "a" / "private.txt"
    private.write_text("private\n")
    private.chmod(0o600)
    (root / "a" / "b").chmod(0o750)
    (root / "ütf-8 ✓ 日本.txt").write_text(f"unicode {seed}\n")
    (root / "dir with space").mkdir()
    (root / "dir with space" / "é.txt").write_text("accent\n")
    long_dir = root / ("long-" + "d" * 60) / ("deeper-" + "e" * 60)
    long_dir.mkdir(parents=True)
    (long_dir / ("file-" + "f" * 80 + ".js")).write_text(f"long name {seed}\n")
    (root / "link-to-file").symlink_to("a/small.bin")
    (root / "link-to-dir").symlink_to("a/b")
    (root / "dangling").symlink_to("does/not/exist")
    if big:
        (root / "big.bin").write_bytes(random_bytes(big, seed + "big"))


def snapshot(root: Path) -> dict:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            rel = str(p.relative_to(root))
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ("file", stat.S_IMODE(st.st_mode), hashlib.sha256(p.read_bytes()).hexdigest())
    return out


def moto_user_without_list(server: Server, user: str) -> tuple[str, str]:
    """An IAM user allowed every S3 action but s3:ListBucket (moto enforces IAM policies): (access key, secret)."""
    import json
    import boto3
    iam = boto3.client("iam", endpoint_url=server.endpoint, region_name=server.region,
                       aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key)
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="no-list", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                                               {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "*"}]}))
    creds = iam.create_access_key(UserName=user)["AccessKey"]
    return creds["AccessKeyId"], creds["SecretAccessKey"]
