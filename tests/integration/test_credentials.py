"""The credential chain end to end (apps/cache-step/credentials), through cachestep-credentials-probe:
every provider yields credentials that moto then accepts for S3, with its signature checks on.

Against moto (the ctest fixture, SigV4 verification on, tests/servers/moto.sh) for STS and S3, and a local
IMDSv2 stand-in (imds_standin.py) for the instance role. Why the results prove something:
- moto verifies every S3 request's signature, and for temporary credentials looks up the STS session and
  its session token, then evaluates the assumed role's IAM policies: a role without S3 rights is refused
  (test_assumed_role_without_s3_rights_is_refused), so "list: ok" means the credentials are the real ones.
- AssumeRole must itself be signed correctly with the base credentials (a wrong base secret is refused).
- moto cannot serve an unsigned call while its signature checks are on (it needs an Authorization header on
  every action and answers 500 without one), yet AssumeRoleWithWebIdentity is unsigned by design. So each web
  identity test opens a one-action window (POST /moto-api/reset-auth "1": the next action goes unchecked,
  every later one is checked again) right before the probe, whose first action is that STS call; the S3
  listing after it is checked. The ctest registration is EXCLUSIVE so no other test's request takes the window.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import unittest
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from harness import Server
from imds_standin import ImdsStandIn

PROBE = os.environ.get("CACHESTEP_CREDENTIALS_PROBE", "cachestep-credentials-probe")
SERVER = Server.from_env()
ACCOUNT = "123456789012"  # moto's default account
OIDC_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYWNoZS1zdGVwLWNpIn0.SECRET-SIGNATURE-PART"


def iam_client():
    import boto3
    return boto3.client("iam", endpoint_url=SERVER.endpoint, region_name=SERVER.region,
                        aws_access_key_id=SERVER.access_key, aws_secret_access_key=SERVER.secret_key)


def sts_client():
    import boto3
    return boto3.client("sts", endpoint_url=SERVER.endpoint, region_name=SERVER.region,
                        aws_access_key_id=SERVER.access_key, aws_secret_access_key=SERVER.secret_key)


def create_role(name: str, allow_everything: bool) -> str:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}
    iam = iam_client()
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if allow_everything:
        policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        iam.put_role_policy(RoleName=name, PolicyName="everything", PolicyDocument=json.dumps(policy))
    return arn


def open_unsigned_window() -> None:
    """The next action moto receives goes without signature checks; every later one is checked."""
    request = urllib.request.Request(f"{SERVER.endpoint}/moto-api/reset-auth", data=b"1", method="POST",
                                     headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, response.status


def sha256_prefix(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


class CredentialChainTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        suffix = uuid.uuid4().hex[:8]
        cls.role_arn = create_role(f"cache-step-ci-{suffix}", allow_everything=True)
        cls.no_s3_role_arn = create_role(f"cache-step-nothing-{suffix}", allow_everything=False)
        assert cls.role_arn == f"arn:aws:iam::{ACCOUNT}:role/cache-step-ci-{suffix}", cls.role_arn

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.home = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def env(self, **variables: str) -> dict[str, str]:
        """A clean environment: no AWS_* or PLUGIN_* from outside, an empty HOME, no instance metadata
        unless a test points at the stand-in."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("AWS_", "PLUGIN_", "http_proxy", "https_proxy"))}
        env.update(HOME=str(self.home), AWS_EC2_METADATA_DISABLED="true")
        env.update(variables)
        return env

    def probe(self, env: dict[str, str], *args: str, list_bucket: bool = True) -> tuple[int, dict[str, str], str]:
        command = [PROBE, *args]
        if list_bucket:
            command += ["--endpoint", SERVER.endpoint, "--bucket", SERVER.bucket, "--path-style"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        fields = {}
        for line in done.stdout.splitlines():
            key, _, value = line.partition(": ")
            fields[key] = value
        return done.returncode, fields, done.stderr

    def assert_works(self, env: dict[str, str], *args: str) -> dict[str, str]:
        rc, fields, stderr = self.probe(env, *args)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(fields.get("list"), "ok", fields)
        return fields

    def assert_temporary(self, fields: dict[str, str], lifetime: timedelta = timedelta(hours=1)):
        self.assertTrue(fields["access_key_id"].startswith("ASIA"), fields)
        self.assertEqual(fields["session_token"], "yes")
        expiration = datetime.strptime(fields["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        remaining = expiration - datetime.now(timezone.utc)
        self.assertTrue(lifetime - timedelta(minutes=5) < remaining <= lifetime, fields["expiration"])

    # --- static credentials -----------------------------------------------------------------------------

    def test_environment_credentials(self):
        fields = self.assert_works(self.env(AWS_ACCESS_KEY_ID=SERVER.access_key,
                                            AWS_SECRET_ACCESS_KEY=SERVER.secret_key))
        self.assertEqual(fields["source"], "environment")
        self.assertEqual(fields["access_key_id"], SERVER.access_key)
        self.assertEqual(fields["secret_sha256"], sha256_prefix(SERVER.secret_key))
        self.assertEqual(fields["expiration"], "none")

    def test_plugin_keys_come_before_the_environment(self):
        fields = self.assert_works(self.env(PLUGIN_ACCESS_KEY=SERVER.access_key, PLUGIN_SECRET_KEY=SERVER.secret_key,
                                            AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG", AWS_SECRET_ACCESS_KEY="wrong"))
        self.assertEqual(fields["source"], "PLUGIN_ACCESS_KEY")

    def test_a_wrong_secret_is_refused_by_the_server(self):
        # The control for every "list: ok" here: moto checks signatures.
        rc, _, stderr = self.probe(self.env(AWS_ACCESS_KEY_ID=SERVER.access_key, AWS_SECRET_ACCESS_KEY="wrong"))
        self.assertEqual(rc, 1)
        self.assertIn("SignatureDoesNotMatch", stderr)

    def test_static_profile_from_the_config_file_with_its_region(self):
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "config").write_text(
            f"[profile static]\n# comment\naws_access_key_id = {SERVER.access_key}\n"
            f"AWS_SECRET_ACCESS_KEY={SERVER.secret_key}   ; inline comment\nregion = {SERVER.region}\n")
        fields = self.assert_works(self.env(AWS_PROFILE="static"))
        self.assertEqual(fields["source"], "profile static")
        self.assertEqual(fields["region"], SERVER.region)

    # --- STS AssumeRole ---------------------------------------------------------------------------------

    def test_assume_role_after_the_chain(self):
        fields = self.assert_works(self.env(AWS_ACCESS_KEY_ID=SERVER.access_key,
                                            AWS_SECRET_ACCESS_KEY=SERVER.secret_key,
                                            AWS_ENDPOINT_URL_STS=SERVER.endpoint,
                                            PLUGIN_ASSUME_ROLE_ARN=self.role_arn,
                                            PLUGIN_ASSUME_ROLE_SESSION_NAME="build-17",
                                            PLUGIN_EXTERNAL_ID="external-1"))
        self.assertEqual(fields["source"], f"assume role {self.role_arn} (base: environment)")
        self.assert_temporary(fields)

    def test_assumed_role_without_s3_rights_is_refused(self):
        rc, fields, stderr = self.probe(self.env(AWS_ACCESS_KEY_ID=SERVER.access_key,
                                                 AWS_SECRET_ACCESS_KEY=SERVER.secret_key,
                                                 AWS_ENDPOINT_URL_STS=SERVER.endpoint,
                                                 PLUGIN_ASSUME_ROLE_ARN=self.no_s3_role_arn))
        self.assertEqual(rc, 1, fields)
        self.assertEqual(fields["source"], f"assume role {self.no_s3_role_arn} (base: environment)")
        self.assertIn("AccessDenied", stderr)

    def test_assume_role_with_a_wrong_base_secret_names_the_sts_error(self):
        rc, fields, stderr = self.probe(self.env(AWS_ACCESS_KEY_ID=SERVER.access_key,
                                                 AWS_SECRET_ACCESS_KEY="not-the-secret-value",
                                                 AWS_ENDPOINT_URL_STS=SERVER.endpoint,
                                                 PLUGIN_ASSUME_ROLE_ARN=self.role_arn))
        self.assertEqual(rc, 1, fields)
        self.assertEqual(fields, {})
        self.assertIn(f"STS AssumeRole {self.role_arn}", stderr)
        self.assertIn("SignatureDoesNotMatch", stderr)
        self.assertNotIn("not-the-secret-value", stderr)

    def test_profile_role_with_source_profile(self):
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "credentials").write_text(
            f"[base]\naws_access_key_id = {SERVER.access_key}\naws_secret_access_key = {SERVER.secret_key}\n")
        (self.home / ".aws" / "config").write_text(
            f"[profile ci]\nrole_arn = {self.role_arn}\nsource_profile = base\nrole_session_name = ci-build\n"
            f"external_id = ext\nduration_seconds = 900\nregion = {SERVER.region}\n")
        fields = self.assert_works(self.env(AWS_PROFILE="ci", AWS_ENDPOINT_URL=SERVER.endpoint))
        self.assertEqual(fields["source"], f"assume role {self.role_arn} (profile ci, base: profile base)")
        self.assert_temporary(fields, timedelta(minutes=15))  # duration_seconds reached STS

    # --- STS AssumeRoleWithWebIdentity --------------------------------------------------------------------

    def test_web_identity_from_the_environment(self):
        token_file = self.home / "token"
        token_file.write_text(OIDC_TOKEN + "\n")
        env = self.env(AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file), AWS_ROLE_ARN=self.role_arn,
                       AWS_ROLE_SESSION_NAME="gha-run-9", AWS_ENDPOINT_URL_STS=SERVER.endpoint,
                       # lower in the chain: must not be used
                       AWS_PROFILE="unused")
        open_unsigned_window()
        fields = self.assert_works(env)
        self.assertEqual(fields["source"], f"web identity {self.role_arn}")
        self.assert_temporary(fields)

    def test_web_identity_from_a_profile(self):
        token_file = self.home / "token"
        token_file.write_text(OIDC_TOKEN)
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "config").write_text(
            f"[default]\nrole_arn = {self.role_arn}\nweb_identity_token_file = {token_file}\n")
        open_unsigned_window()
        fields = self.assert_works(self.env(AWS_ENDPOINT_URL_STS=SERVER.endpoint))
        self.assertEqual(fields["source"], f"web identity {self.role_arn} (profile default)")
        self.assert_temporary(fields)

    def test_plugin_oidc_token(self):
        env = self.env(PLUGIN_OIDC_TOKEN_ID=OIDC_TOKEN, PLUGIN_ASSUME_ROLE_ARN=self.role_arn,
                       PLUGIN_STS_ENDPOINT=SERVER.endpoint,
                       # the OIDC mode skips the chain: these would otherwise win
                       AWS_ACCESS_KEY_ID="AKIAWRONGWRONGWRONG", AWS_SECRET_ACCESS_KEY="wrong")
        open_unsigned_window()
        rc, fields, stderr = self.probe(env)
        self.assertEqual(rc, 0, stderr)
        self.assertEqual(fields["source"], f"web identity {self.role_arn} (OIDC token)")
        self.assert_temporary(fields)
        self.assertNotIn("SECRET-SIGNATURE-PART", stderr + json.dumps(fields))

    def test_missing_token_file_is_named(self):
        rc, fields, stderr = self.probe(self.env(AWS_WEB_IDENTITY_TOKEN_FILE="/nonexistent/token",
                                                 AWS_ROLE_ARN=self.role_arn))
        self.assertEqual(rc, 1)
        self.assertIn("AWS_WEB_IDENTITY_TOKEN_FILE /nonexistent/token: no such file", stderr)

    # --- EC2 instance role over IMDSv2 ------------------------------------------------------------------

    def instance_credentials(self) -> dict[str, str]:
        """Real temporary credentials for the allow-everything role, as EC2 would hand them to an instance."""
        c = sts_client().assume_role(RoleArn=self.role_arn, RoleSessionName="i-0123456789abcdef0")["Credentials"]
        return {"AccessKeyId": c["AccessKeyId"], "SecretAccessKey": c["SecretAccessKey"],
                "Token": c["SessionToken"],
                "Expiration": c["Expiration"].astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}

    def test_instance_role_over_imdsv2(self):
        credentials = self.instance_credentials()
        standin = ImdsStandIn(credentials, role="ci-runner").start()
        try:
            env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=standin.endpoint)
            del env["AWS_EC2_METADATA_DISABLED"]
            fields = self.assert_works(env)
        finally:
            standin.stop()
        self.assertEqual(fields["source"], "instance role ci-runner")
        self.assertEqual(fields["access_key_id"], credentials["AccessKeyId"])
        self.assertEqual(fields["secret_sha256"], sha256_prefix(credentials["SecretAccessKey"]))
        self.assertEqual(fields["expiration"], credentials["Expiration"])
        # token first, then the two GETs, each with a token the stand-in issued
        self.assertEqual(standin.requests, [
            ("PUT", "/latest/api/token", False),
            ("GET", "/latest/meta-data/iam/security-credentials/", True),
            ("GET", "/latest/meta-data/iam/security-credentials/ci-runner", True)])

    def test_earlier_providers_win_over_the_instance_role(self):
        standin = ImdsStandIn(self.instance_credentials()).start()
        try:
            env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=standin.endpoint,
                           AWS_ACCESS_KEY_ID=SERVER.access_key, AWS_SECRET_ACCESS_KEY=SERVER.secret_key)
            del env["AWS_EC2_METADATA_DISABLED"]
            fields = self.assert_works(env)
        finally:
            standin.stop()
        self.assertEqual(fields["source"], "environment")
        self.assertEqual(standin.requests, [])

    def test_instance_without_a_role(self):
        standin = ImdsStandIn(None).start()
        try:
            env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=standin.endpoint)
            del env["AWS_EC2_METADATA_DISABLED"]
            rc, fields, stderr = self.probe(env, list_bucket=False)
        finally:
            standin.stop()
        self.assertEqual(rc, 1, fields)
        self.assertIn("no AWS credentials found", stderr)
        self.assertIn("no IAM role is attached to this instance", stderr)

    def test_assume_role_on_top_of_the_instance_role(self):
        standin = ImdsStandIn(self.instance_credentials(), role="ci-runner").start()
        try:
            env = self.env(AWS_EC2_METADATA_SERVICE_ENDPOINT=standin.endpoint, AWS_ENDPOINT_URL_STS=SERVER.endpoint,
                           PLUGIN_ASSUME_ROLE_ARN=self.role_arn)
            del env["AWS_EC2_METADATA_DISABLED"]
            fields = self.assert_works(env)
        finally:
            standin.stop()
        self.assertEqual(fields["source"], f"assume role {self.role_arn} (base: instance role ci-runner)")
        self.assert_temporary(fields)


if __name__ == "__main__":
    unittest.main(verbosity=2)
