"""Plugin mode end to end (issue 5: "a drop-in for the Drone cache plugin"): cache-step started with no arguments
and PLUGIN_REBUILD=true or PLUGIN_RESTORE=true, against a real S3 server (CACHESTEP_S3_ENV, started by the ctest
fixture) and the filesystem backend.

What is asserted is what a pipeline and the Drone plugin (drone-plugins/drone-meltwater-cache) would see: the
object key "<rendered key>/<mount>", archives whose names are what the plugin's Go tar writer writes (absolute
for a mount not starting with "./", relative otherwise), plain tar by default, the restored bytes, modes and
symlinks, exit codes, logfmt/JSON log lines, DRONE_OUTPUT and the metrics file. Archives made the way the plugin
makes them (tests go_tar below) are restored too.

Every cache-step run gets a minimal explicit environment (PATH, HOME, PLUGIN_*, ...) and goes through
PluginTest.run_plugin, which checks that no secret reaches stdout, stderr, DRONE_OUTPUT or the metrics file."""

import gzip
import hashlib
import json
import os
import platform
import posixpath
import pwd
import grp
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import threading
import time
import unittest
from io import BytesIO
from pathlib import Path

import harness
from harness import CACHE_STEP, MiB, Server, make_tree, random_bytes, snapshot, unique_prefix

SERVER = Server.from_env()
FORMATS = ["tar", "gzip", "zstd", "lz4"]
DECOMPRESS = {"tar": None, "gzip": ["gzip", "-dc"], "zstd": ["zstd", "-dc"], "lz4": ["lz4", "-dc"]}
MAGIC = {"gzip": b"\x1f\x8b", "zstd": b"\x28\xb5\x2f\xfd", "lz4": b"\x04\x22\x4d\x18"}
# A distinctive secret: the wrong secret of the failing runs on every server (both verify SigV4), so that a
# leak of a secret that was refused is caught too.
DISTINCTIVE_SECRET = "sEcReT-dO-nOt-LoG-1234567890"
# s3rver accepts (ignores) a session token: every run there carries a distinctive one. moto checks tokens.
SESSION_TOKEN = "SeSsIoN-tOkEn-dO-nOt-LoG-0987654321" if SERVER.name.startswith("s3rver") else None
SECRETS = [s for s in (SERVER.secret_key, DISTINCTIVE_SECRET, SESSION_TOKEN) if s]


# ---------------------------------------------------------------------------------------------------------
# Trees

def without_links(snap: dict) -> dict:
    return {k: v for k, v in snap.items() if v[0] != "link"}


def md5_file(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def go_arch() -> str:
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}.get(m, m)


# ---------------------------------------------------------------------------------------------------------
# Archives as the plugin writes them: cache/rebuilder.go and archive/tar/tar.go of
# drone-plugins/drone-meltwater-cache, Go's archive/tar. The mount is cleaned ("./vendor" -> "vendor") and made
# absolute unless it started with "./"; filepath.Walk from it (root first, names in lexical order, symlinks not
# followed); each entry's header is tar.FileInfoHeader(fi, link) with Name replaced by the walked path:
# directories without a trailing slash, regular files typeflag '0', Mode = permission bits | Go's
# c_ISREG/c_ISDIR/c_ISLNK, uid/gid and user/group names, ModTime rounded to the second (format unspecified);
# USTAR when the header fits (ASCII, name splittable into prefix/name the way Go splits it), else PAX. Close()
# writes two zero blocks and no record padding.

C_ISDIR, C_ISREG, C_ISLNK = 0o040000, 0o100000, 0o120000


class _GoTarInfo(tarfile.TarInfo):
    """Python's tarfile appends "/" to a directory's name; the plugin sets Name after FileInfoHeader, so its
    directory names carry none."""

    def get_info(self):
        info = super().get_info()
        info["name"] = self.name
        return info


def _go_split_ustar_path(name: str):
    """Go's splitUSTARPath: the prefix ends at the last '/' within the first 156 bytes (Python's tarfile splits
    at the first '/' that fits, which for an absolute name is the root: "" + "tmp/...")."""
    length = len(name)
    if length <= 100 or not name.isascii():
        return None
    if length > 156:
        length = 156
    elif name[length - 1] == "/":
        length -= 1
    i = name.rfind("/", 0, length)
    if i <= 0 or len(name) - i - 1 > 100 or len(name) - i - 1 == 0 or i > 155:
        return None
    return name[:i], name[i + 1:]


def _set_field(block: bytearray, offset: int, size: int, value: bytes):
    assert len(value) <= size
    block[offset:offset + size] = value + b"\0" * (size - len(value))


def _go_header(name: str, st: os.stat_result, linkname: str = "") -> bytes:
    info = _GoTarInfo(name)
    go_mode = stat.S_IMODE(st.st_mode) & 0o777
    for bit in (stat.S_ISUID, stat.S_ISGID, stat.S_ISVTX):
        if st.st_mode & bit:
            go_mode |= bit
    if stat.S_ISLNK(st.st_mode):
        info.type, info.linkname, go_mode = tarfile.SYMTYPE, linkname, go_mode | C_ISLNK
    elif stat.S_ISDIR(st.st_mode):
        info.type, go_mode = tarfile.DIRTYPE, go_mode | C_ISDIR
    else:
        info.type, info.size, go_mode = tarfile.REGTYPE, st.st_size, go_mode | C_ISREG
    info.mode = go_mode & 0o7777
    info.mtime = int(round(st.st_mtime))
    info.uid, info.gid = st.st_uid, st.st_gid
    try:
        info.uname = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        info.uname = ""
    try:
        info.gname = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        info.gname = ""
    # Go's allowedFormats: USTAR when every string is ASCII and fits (the name possibly split into prefix and
    # name), else PAX.
    split = _go_split_ustar_path(name)
    ustar = (name.isascii() and (len(name) <= 100 or split) and linkname.isascii() and len(linkname) <= 100
             and len(info.uname) <= 32 and len(info.gname) <= 32)
    if ustar:
        info.name = "x"
        buf = info.tobuf(tarfile.USTAR_FORMAT, "ascii", "strict")
        block = bytearray(buf)
        if split:
            _set_field(block, 345, 155, split[0].encode())
            _set_field(block, 0, 100, split[1].encode())
        else:
            _set_field(block, 0, 100, name.encode())
    else:
        buf = info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape")
        block = bytearray(buf[-512:])
    # Python writes mode & 0o7777; Go writes the c_IS* type bits too. Patch the real (last) header block's mode
    # field (offset 100, 8 bytes: 7 octal digits and NUL) and recompute its checksum.
    block[100:108] = b"%07o\0" % go_mode
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return (b"" if ustar else buf[:-512]) + bytes(block)


def go_tar(mount: str, cwd: Path, relative: bool) -> bytes:
    """The plugin's archive of one mount, walked from cwd. cache/rebuilder.go cleans the mount first
    (filepath.Clean: "./vendor" -> "vendor") and makes it absolute unless it started with "./"."""
    out = bytearray()
    mount = posixpath.normpath(mount) if relative else posixpath.normpath(posixpath.join(str(cwd), mount))

    def walk(path: str):
        full = path if path.startswith("/") else str(cwd / path)
        st = os.lstat(full)
        name = path if relative else posixpath.normpath(posixpath.join(str(cwd), path))
        link = os.readlink(full) if stat.S_ISLNK(st.st_mode) else ""
        out.extend(_go_header(name, st, link))
        if stat.S_ISREG(st.st_mode):
            data = Path(full).read_bytes()
            out.extend(data)
            out.extend(b"\0" * (-len(data) % 512))
        elif stat.S_ISDIR(st.st_mode):
            for child in sorted(os.listdir(full)):
                walk(posixpath.normpath(posixpath.join(path, child)))  # filepath.Join cleans "./x/y" to "x/y"

    walk(mount)
    out.extend(b"\0" * 1024)
    return bytes(out)


# ---------------------------------------------------------------------------------------------------------
class PluginTest(unittest.TestCase):
    maxDiff = None
    """Base: a temporary directory (also HOME), a unique key prefix, run() that runs plugin mode and checks that
    no secret is printed or written."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="plugin-it-")
        self.tmp = Path(self.dir.name)
        self.home = self.tmp / "home"
        self.home.mkdir()
        self.prefix = unique_prefix(self.id().split(".")[-1].replace("_", "")[:24])
        self.s3 = SERVER.boto3()
        self.output = self.tmp / "drone-output"
        self.metrics = self.tmp / "metrics.json"

    def tearDown(self):
        self.dir.cleanup()

    # -- running plugin mode --------------------------------------------------------------------------------
    def plugin_env(self, mode: str, **settings) -> dict:
        """mode: "rebuild", "restore" or None. settings: extra variables; a None value removes one."""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
               "PLUGIN_BUCKET": SERVER.bucket, "PLUGIN_ENDPOINT": SERVER.endpoint, "PLUGIN_PATH_STYLE": "true",
               "PLUGIN_REGION": SERVER.region, "PLUGIN_ACCESS_KEY": SERVER.access_key,
               "PLUGIN_SECRET_KEY": SERVER.secret_key, "PLUGIN_LOG_LEVEL": "debug",
               "DRONE_OUTPUT": str(self.output), "PLUGIN_CACHE_INTEL_METRICS_FILE": str(self.metrics)}
        if SESSION_TOKEN:
            env["PLUGIN_SESSION_TOKEN"] = SESSION_TOKEN
        if SERVER.ca_bundle:
            env["AWS_CA_BUNDLE"] = SERVER.ca_bundle
        if mode:
            env["PLUGIN_" + mode.upper()] = "true"
        for k, v in settings.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
        return env

    def check_no_secret(self, label: str, data: bytes):
        for secret in SECRETS:
            self.assertNotIn(secret.encode(), data or b"", f"a secret reached {label}")

    def run_plugin(self, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
        cwd.mkdir(parents=True, exist_ok=True)
        r = subprocess.run([CACHE_STEP], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        self.check_no_secret("stdout", r.stdout)
        self.check_no_secret("stderr", r.stderr)
        for f in (self.output, self.metrics):
            if f.exists():
                self.check_no_secret(f.name, f.read_bytes())
        return r

    def assert_rc(self, r, code=0):
        self.assertEqual(r.returncode, code,
                         f"exit {r.returncode}, expected {code}\nstdout: {r.stdout.decode(errors='replace')}"
                         f"\nstderr: {r.stderr.decode(errors='replace')}")

    def assert_no_error_logged(self, r):
        """A run expected to succeed logs no error (PLUGIN_EXIT_CODE is false by default: a failed transfer still
        exits 0, so this is where it shows)."""
        errors = [l for l in r.stderr.decode(errors="replace").splitlines()
                  if "level=error" in l or '"level":"error"' in l]
        self.assertEqual(errors, [], r.stderr.decode(errors="replace"))

    def rebuild(self, cwd: Path, mount: str, key: str, expect=0, **settings):
        r = self.run_plugin(cwd, self.plugin_env("rebuild", PLUGIN_MOUNT=mount, PLUGIN_CACHE_KEY=key, **settings))
        self.assert_rc(r, expect)
        if expect == 0:
            self.assert_no_error_logged(r)
        return r

    def restore(self, cwd: Path, mount, key: str, expect=0, **settings):
        r = self.run_plugin(cwd, self.plugin_env("restore", PLUGIN_MOUNT=mount, PLUGIN_CACHE_KEY=key, **settings))
        self.assert_rc(r, expect)
        if expect == 0:
            self.assert_no_error_logged(r)
        return r

    def outputs(self) -> list:
        lines = self.output.read_text().splitlines() if self.output.exists() else []
        self.output.unlink(missing_ok=True)
        return lines

    def read_metrics(self) -> list:
        data = json.loads(self.metrics.read_text())
        self.metrics.unlink()
        return data

    # -- looking at the server ------------------------------------------------------------------------------
    def keys(self, prefix=None) -> list:
        """Every object under a prefix (no '/' in it: moto's verifier refuses one)."""
        prefix = prefix or self.prefix
        assert "/" not in prefix
        listed = self.s3.list_objects_v2(Bucket=SERVER.bucket, Prefix=prefix)
        return sorted(o["Key"] for o in listed.get("Contents", []))

    def get(self, key) -> bytes:
        return self.s3.get_object(Bucket=SERVER.bucket, Key=key)["Body"].read()

    def put(self, key, data: bytes):
        self.s3.put_object(Bucket=SERVER.bucket, Key=key, Body=data)

    def log_lines(self, stderr: bytes, msg: str) -> list:
        return [line for line in stderr.decode(errors="replace").splitlines() if f'msg="{msg}"' in line]

    def tar_members(self, plain: bytes) -> list:
        with tarfile.open(fileobj=BytesIO(plain), mode="r:") as t:
            return t.getmembers()

    def decode(self, fmt: str, data: bytes) -> bytes:
        if DECOMPRESS[fmt] is None:
            return data
        r = subprocess.run(DECOMPRESS[fmt], input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(r.returncode, 0, f"{DECOMPRESS[fmt]}: {r.stderr.decode(errors='replace')}")
        return r.stdout


# ---------------------------------------------------------------------------------------------------------
class LayoutTest(PluginTest):
    def test_01_relative_mount_absolute_names_restored_in_another_checkout(self):
        ws = self.tmp / "checkout-a" / "repo"
        make_tree(ws / "node_modules", "abs-names", big=3 * MiB)
        (ws / "package-lock.json").write_text('{"lockfileVersion": 3, "seed": "' + self.prefix + '"}\n')
        expected = snapshot(ws / "node_modules")
        template = self.prefix + 'npm-{{ checksum "package-lock.json" }}'
        key = f"{self.prefix}npm-{md5_file(ws / 'package-lock.json')}"

        r = self.rebuild(ws, "node_modules", template)
        for msg in ("rebuilding cache for directory", "cache built"):
            lines = self.log_lines(r.stderr, msg)
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertRegex(lines[0], r'^time=\S+ level=info msg="' + msg + '"')
        self.assertEqual(self.keys(), [f"{key}/node_modules"])
        data = self.get(f"{key}/node_modules")
        self.assertEqual(data[257:262], b"ustar", "the default format is plain tar")
        members = self.tar_members(data)
        root = str(ws / "node_modules")
        self.assertEqual(members[0].name, root, "the first entry is the mount itself, by its absolute path")
        self.assertTrue(members[0].isdir())
        for m in members:
            self.assertTrue(m.name == root or m.name.startswith(root + "/"), m.name)
        names = {m.name[len(root) + 1:] for m in members[1:]}
        self.assertEqual(names, set(expected))
        metrics = self.read_metrics()
        self.assertEqual([(m["cache_size_bytes"], m["object"]) for m in metrics], [(len(data), f"{key}/node_modules")])

        # Another checkout path: the tree comes back under the current mount, not at the recorded path.
        shutil.rmtree(ws / "node_modules")
        other = self.tmp / "checkout-b" / "somewhere" / "else"
        other.mkdir(parents=True)
        shutil.copy(ws / "package-lock.json", other / "package-lock.json")
        r = self.restore(other, "node_modules", template)
        for msg in ("restoring directory", "cache restored"):
            lines = self.log_lines(r.stderr, msg)
            self.assertEqual(len(lines), 1, r.stderr)
            self.assertRegex(lines[0], r'^time=\S+ level=info msg="' + msg + '"')
        self.assertEqual(snapshot(other / "node_modules"), expected)
        self.assertFalse((ws / "node_modules").exists(), "restored at the recorded path instead of the mount")
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])
        self.assertEqual([m["cache_size_bytes"] for m in self.read_metrics()], [len(data)])

    def test_02_dot_slash_mount_relative_names(self):
        ws = self.tmp / "a" / "ws"
        make_tree(ws / "node_modules", "rel-names")
        expected = snapshot(ws / "node_modules")
        key = self.prefix + "rel"
        self.rebuild(ws, "./node_modules", key)
        self.assertEqual(self.keys(), [f"{key}/node_modules"])
        members = self.tar_members(self.get(f"{key}/node_modules"))
        first = members[0].name
        self.assertIn(first, ("node_modules", "./node_modules"))
        self.assertTrue(members[0].isdir())
        for m in members:
            self.assertFalse(m.name.startswith("/"), m.name)
            n = m.name[2:] if m.name.startswith("./") else m.name
            self.assertTrue(n == "node_modules" or n.startswith("node_modules/"), m.name)
        self.assertEqual({m.name.split("node_modules/", 1)[1] for m in members[1:]}, set(expected))

        other = self.tmp / "b" / "elsewhere"
        self.restore(other, "./node_modules", key)
        self.assertEqual(snapshot(other / "node_modules"), expected)
        self.assertEqual(sorted(p.name for p in other.iterdir()), ["node_modules"])
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])

    def test_03_absolute_mount(self):
        mount = self.tmp / "abs" / "dot-m2"
        make_tree(mount, "absolute")
        expected = snapshot(mount)
        key = self.prefix + "abs"
        ws = self.tmp / "ws"
        self.rebuild(ws, str(mount), key)
        obj = f"{key}/{str(mount).lstrip('/')}"
        self.assertEqual(self.keys(), [obj])
        members = self.tar_members(self.get(obj))
        self.assertEqual(members[0].name, str(mount))
        self.assertTrue(all(m.name == str(mount) or m.name.startswith(str(mount) + "/") for m in members))

        shutil.rmtree(mount)
        other = self.tmp / "other-ws"
        self.restore(other, str(mount), key)
        self.assertEqual(snapshot(mount), expected)
        self.assertEqual(list(other.iterdir()), [], "nothing lands in the workspace for an absolute mount")

    def test_04_every_archive_format(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "formats", big=2 * MiB)
        expected = snapshot(ws / "node_modules")
        root = str(ws / "node_modules")
        for fmt in FORMATS:
            with self.subTest(format=fmt):
                key = f"{self.prefix}{fmt}"
                self.rebuild(ws, "node_modules", key, PLUGIN_ARCHIVE_FORMAT=fmt)
                data = self.get(f"{key}/node_modules")
                if fmt in MAGIC:
                    self.assertEqual(data[:len(MAGIC[fmt])], MAGIC[fmt], f"not a {fmt} stream")
                members = self.tar_members(self.decode(fmt, data))
                self.assertEqual(members[0].name, root)
                self.assertEqual({m.name for m in members}, {root} | {f"{root}/{k}" for k in expected})
                self.assertEqual([m["cache_size_bytes"] for m in self.read_metrics()], [len(data)])
                other = self.tmp / f"restore-{fmt}"
                self.restore(other, "node_modules", key, PLUGIN_ARCHIVE_FORMAT=fmt)
                self.assertEqual(snapshot(other / "node_modules"), expected)

    def test_05_compression_level(self):
        ws = self.tmp / "ws"
        (ws / "node_modules").mkdir(parents=True)
        (ws / "node_modules" / "text.txt").write_text("compressible text line\n" * 50000)
        sizes = {}
        for fmt, level in (("gzip", 1), ("gzip", 9), ("zstd", 1), ("zstd", 19)):
            key = f"{self.prefix}{fmt}{level}"
            self.rebuild(ws, "node_modules", key, PLUGIN_ARCHIVE_FORMAT=fmt, PLUGIN_COMPRESSION_LEVEL=level)
            data = self.get(f"{key}/node_modules")
            sizes[(fmt, level)] = len(data)
            self.assertEqual(len(self.tar_members(self.decode(fmt, data))), 2)
        self.assertLessEqual(sizes[("gzip", 9)], sizes[("gzip", 1)], sizes)
        self.assertLessEqual(sizes[("zstd", 19)], sizes[("zstd", 1)], sizes)


# ---------------------------------------------------------------------------------------------------------
class PluginArchiveTest(PluginTest):
    """Objects written the way the plugin writes them (Go's archive/tar), restored by plugin mode elsewhere."""

    def upload_fixture(self, key_suffix: str, tar_bytes: bytes, fmt: str, key: str):
        if fmt == "gzip":
            body = gzip.compress(tar_bytes)
        elif fmt == "zstd":
            body = subprocess.run(["zstd", "-q", "-c", "-3"], input=tar_bytes, stdout=subprocess.PIPE,
                                  check=True).stdout
        else:
            body = tar_bytes
        self.put(f"{key}/{key_suffix}", body)

    def test_06_go_archives_absolute_names_remapped(self):
        origin = self.tmp / "drone" / "src" / "repo"
        make_tree(origin / "node_modules", "go-abs", big=MiB)
        expected = snapshot(origin / "node_modules")
        archive = go_tar("node_modules", origin, relative=False)
        # the fixture is what Go writes: first entry the absolute mount dir without trailing slash, mode bits
        with tarfile.open(fileobj=BytesIO(archive), mode="r:") as t:
            first = t.getmembers()[0]
        self.assertEqual(first.name, str(origin / "node_modules"))
        self.assertEqual(archive[100:108], b"%07o\0" % (C_ISDIR | 0o755))
        self.assertNotEqual(archive[:100].rstrip(b"\0")[-1:], b"/")
        shutil.rmtree(origin)
        for fmt in ("tar", "gzip", "zstd"):
            with self.subTest(format=fmt):
                key = f"{self.prefix}go-{fmt}"
                self.upload_fixture("node_modules", archive, fmt, key)
                ws = self.tmp / f"harness-{fmt}" / "workspace"
                r = self.restore(ws, "node_modules", key, PLUGIN_ARCHIVE_FORMAT=fmt)
                self.assertEqual(snapshot(ws / "node_modules"), expected, r.stderr.decode(errors="replace"))
                self.assertFalse(origin.exists(), "restored at the recorded path instead of the mount")
                self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])

    def test_07_go_archives_relative_names_and_absolute_mount(self):
        origin = self.tmp / "drone" / "checkout"
        make_tree(origin / "vendor", "go-rel")
        expected_rel = snapshot(origin / "vendor")
        rel_archive = go_tar("./vendor", origin, relative=True)
        with tarfile.open(fileobj=BytesIO(rel_archive), mode="r:") as t:
            names = [m.name for m in t.getmembers()]
        self.assertEqual(names[0], "vendor")
        self.assertTrue(all(n.startswith("vendor/") for n in names[1:]))

        absolute = self.tmp / "cache" / "gomod"
        make_tree(absolute, "go-abs-mount")
        expected_abs = snapshot(absolute)
        abs_archive = go_tar(str(absolute), origin, relative=False)
        key = self.prefix + "go-mixed"
        self.upload_fixture("vendor", rel_archive, "gzip", key)
        self.upload_fixture(str(absolute).lstrip("/"), abs_archive, "gzip", key)
        shutil.rmtree(origin)
        shutil.rmtree(absolute)

        ws = self.tmp / "other" / "checkout"
        self.restore(ws, f"./vendor,{absolute}", key, PLUGIN_ARCHIVE_FORMAT="gzip")
        self.assertEqual(snapshot(ws / "vendor"), expected_rel)
        self.assertEqual(snapshot(absolute), expected_abs)
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])


# ---------------------------------------------------------------------------------------------------------
class SemanticsTest(PluginTest):
    def test_08_override(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "first", big=MiB)
        key = self.prefix + "ovr"
        obj = f"{key}/node_modules"
        self.rebuild(ws, "node_modules", key)
        head1 = self.s3.head_object(Bucket=SERVER.bucket, Key=obj)
        body1 = self.get(obj)

        shutil.rmtree(ws / "node_modules")
        make_tree(ws / "node_modules", "second", big=2 * MiB)
        second = snapshot(ws / "node_modules")
        time.sleep(1.1)  # LastModified has 1 s resolution
        r = self.rebuild(ws, "node_modules", key, PLUGIN_OVERRIDE="false")
        self.assertEqual(self.log_lines(r.stderr, "rebuilding cache for directory"), [], r.stderr)
        head2 = self.s3.head_object(Bucket=SERVER.bucket, Key=obj)
        self.assertEqual((head2["ETag"], head2["LastModified"]), (head1["ETag"], head1["LastModified"]))
        self.assertEqual(self.get(obj), body1)

        r = self.rebuild(ws, "node_modules", key)  # default: override true
        self.assertEqual(len(self.log_lines(r.stderr, "cache built")), 1, r.stderr)
        self.assertNotEqual(self.get(obj), body1)
        other = self.tmp / "other"
        self.restore(other, "node_modules", key)
        self.assertEqual(snapshot(other / "node_modules"), second)

    def moto_user_without_list(self):
        """An IAM user allowed every S3 action but ListBucket: (access key, secret), the secret grepped for."""
        access_key, secret_key = harness.moto_user_without_list(SERVER, self.prefix.strip("-")[:60])
        SECRETS.append(secret_key)
        return access_key, secret_key

    def test_08b_override_off_when_the_existence_check_fails_keeps_the_object(self):
        """The plugin fails the rebuild when it cannot tell whether the object exists ("destination existence
        check"); it never replaces it. Here the check cannot list (IAM: no s3:ListBucket; the plugin's own check is
        a HeadObject, which such a user may do)."""
        if SERVER.name != "moto":
            self.skipTest("needs IAM policies (moto)")
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "first")
        key = self.prefix + "nolist"
        obj = f"{key}/node_modules"
        self.rebuild(ws, "node_modules", key)
        before = self.get(obj)
        access, secret = self.moto_user_without_list()
        shutil.rmtree(ws / "node_modules")
        make_tree(ws / "node_modules", "second")
        env = self.plugin_env("rebuild", PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key, PLUGIN_OVERRIDE="false",
                              PLUGIN_EXIT_CODE="true", PLUGIN_ACCESS_KEY=access, PLUGIN_SECRET_KEY=secret)
        r = self.run_plugin(ws, env)
        self.assertEqual(hashlib.sha256(self.get(obj)).hexdigest(), hashlib.sha256(before).hexdigest(),
                         f"PLUGIN_OVERRIDE=false replaced the stored cache (exit {r.returncode}): {r.stderr.decode()}")
        if r.returncode != 0:
            self.assert_rc(r, 1)
            self.assertIn(b"AccessDenied", r.stderr)

    def test_08c_restore_of_named_mounts_needs_only_get_object(self):
        """With PLUGIN_MOUNT the plugin restores "<key>/<mount>" with a GetObject alone: a restore-only role
        without s3:ListBucket works with the plugin and must work with its drop-in."""
        if SERVER.name != "moto":
            self.skipTest("needs IAM policies (moto)")
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "get-only")
        expected = snapshot(ws / "node_modules")
        key = self.prefix + "getonly"
        self.rebuild(ws, "node_modules", key)
        access, secret = self.moto_user_without_list()
        other = self.tmp / "other"
        env = self.plugin_env("restore", PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key, PLUGIN_EXIT_CODE="true",
                              PLUGIN_ACCESS_KEY=access, PLUGIN_SECRET_KEY=secret)
        r = self.run_plugin(other, env)
        self.assert_rc(r, 0)
        self.assertEqual(snapshot(other / "node_modules"), expected)

    def test_09_missing_key(self):
        ws = self.tmp / "ws"
        r = self.restore(ws, "node_modules", self.prefix + "absent")
        self.assertEqual(list(ws.iterdir()), [])
        self.assertEqual(self.outputs(), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
        r = self.restore(ws, "node_modules", self.prefix + "absent", expect=1,
                         PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT="true")
        self.assertIn((self.prefix + "absent").encode(), r.stderr)
        self.assertEqual(list(p.name for p in ws.iterdir()), [])
        # a key whose template renders: same
        self.restore(ws, "node_modules", self.prefix + 'x-{{ checksum "no-such-file" }}', expect=1,
                     PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT="true")

    def test_10_exit_code(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "exit-code")
        key = self.prefix + "fail"
        cases = [("missing mount", {"PLUGIN_MOUNT": "not-there"})]
        if SERVER.verifies_sigv4:
            cases.append(("wrong secret", {"PLUGIN_SECRET_KEY": DISTINCTIVE_SECRET}))
        for label, settings in cases:
            for exit_code, expect in ((None, 0), ("false", 0), ("true", 1)):
                with self.subTest(case=label, exit_code=exit_code):
                    env = self.plugin_env("rebuild", **{"PLUGIN_MOUNT": "node_modules", "PLUGIN_CACHE_KEY": key,
                                                        "PLUGIN_EXIT_CODE": exit_code, "PLUGIN_LOG_LEVEL": "info",
                                                        **settings})
                    r = self.run_plugin(ws, env)
                    self.assert_rc(r, expect)
                    self.assertRegex(r.stderr.decode(errors="replace"), r"level=error",
                                     "a failed rebuild says so even when the step succeeds")
                    if label == "wrong secret":
                        self.assertIn(b"SignatureDoesNotMatch", r.stderr)
                    self.assertEqual(self.keys(), [])
        if SERVER.verifies_sigv4:
            self.rebuild(ws, "node_modules", key)
            for exit_code, expect in ((None, 0), ("true", 1)):
                with self.subTest(case="restore with a wrong secret", exit_code=exit_code):
                    other = self.tmp / f"restore-{exit_code}"
                    env = self.plugin_env("restore", PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key,
                                          PLUGIN_EXIT_CODE=exit_code, PLUGIN_SECRET_KEY=DISTINCTIVE_SECRET)
                    r = self.run_plugin(other, env)
                    self.assert_rc(r, expect)
                    self.assertIn(b"SignatureDoesNotMatch", r.stderr)
                    self.assertFalse((other / "node_modules").exists())

    def test_11_configuration_errors(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "config")
        key = self.prefix + "cfg"
        cases = [
            ("archive format", "rebuild", {"PLUGIN_ARCHIVE_FORMAT": "rar"}, [b"PLUGIN_ARCHIVE_FORMAT", b"rar"]),
            ("override", "rebuild", {"PLUGIN_OVERRIDE": "maybe"}, [b"PLUGIN_OVERRIDE", b"maybe"]),
            ("both modes", "rebuild", {"PLUGIN_RESTORE": "true"}, [b"PLUGIN_REBUILD", b"PLUGIN_RESTORE"]),
            ("bad template", "rebuild", {"PLUGIN_CACHE_KEY": key + "{{ checksum }"},
             [b"PLUGIN_CACHE_KEY", re.compile(rb"column \d+|position \d+|offset \d+")]),
            ("bad template on restore", "restore", {"PLUGIN_CACHE_KEY": key + "{{ checksum }"},
             [b"PLUGIN_CACHE_KEY", re.compile(rb"column \d+|position \d+|offset \d+")]),
            ("bad restore key", "restore", {"PLUGIN_RESTORE_KEYS": "ok-,{{ nope"}, [b"PLUGIN_RESTORE_KEYS"]),
        ]
        for label, mode, settings, wanted in cases:
            for exit_code in (None, "false"):
                with self.subTest(case=label, exit_code=exit_code):
                    env = self.plugin_env(mode, **{"PLUGIN_MOUNT": "node_modules", "PLUGIN_CACHE_KEY": key,
                                                   "PLUGIN_EXIT_CODE": exit_code, **settings})
                    r = self.run_plugin(ws, env)
                    self.assert_rc(r, 1)
                    for w in wanted:
                        if isinstance(w, bytes):
                            self.assertIn(w, r.stderr)
                        else:
                            self.assertRegex(r.stderr, w)
                    self.assertEqual(self.keys(), [])

    def test_12_restore_without_mounts_restores_everything_in_place(self):
        ws = self.tmp / "origin"
        make_tree(ws / "node_modules", "all-abs")
        make_tree(ws / "vendor", "all-rel")
        absolute = self.tmp / "outside" / "m2"
        make_tree(absolute, "all-outside")
        snaps = {"node_modules": snapshot(ws / "node_modules"), "vendor": snapshot(ws / "vendor"),
                 "abs": snapshot(absolute)}
        key = self.prefix + "all"
        self.rebuild(ws, f"node_modules,./vendor,{absolute}", key)
        objects = sorted([f"{key}/node_modules", f"{key}/vendor", f"{key}/{str(absolute).lstrip('/')}"])
        self.assertEqual(self.keys(), objects)
        # the metrics file: one record per mount, cache_size_bytes the stored object's size
        sizes = {o: self.s3.head_object(Bucket=SERVER.bucket, Key=o)["ContentLength"] for o in objects}
        self.assertEqual(sorted((m["object"], m["cache_size_bytes"]) for m in self.read_metrics()),
                         sorted(sizes.items()))
        for p in (ws / "node_modules", ws / "vendor", absolute):
            shutil.rmtree(p)
        other = self.tmp / "in-place"
        r = self.restore(other, None, key)
        self.assertEqual(len(self.log_lines(r.stderr, "cache restored")), 3, r.stderr)
        # absolute names go back to their recorded paths, relative ones under the working directory
        self.assertEqual(snapshot(ws / "node_modules"), snaps["node_modules"])
        self.assertEqual(snapshot(absolute), snaps["abs"])
        self.assertEqual(snapshot(other / "vendor"), snaps["vendor"])
        self.assertEqual(sorted(p.name for p in other.iterdir()), ["vendor"])
        self.assertFalse((ws / "vendor").exists())
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])

    def test_13_strict_key_matching(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "strict")
        self.rebuild(ws, "node_modules", self.prefix + "key1")
        for mount in ("node_modules", None):
            with self.subTest(mount=mount):
                other = self.tmp / f"other-{mount}"
                self.restore(other, mount, self.prefix + "key")
                self.assertEqual(list(other.iterdir()), [])
                self.assertEqual(self.outputs(), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
                self.restore(other, mount, self.prefix + "key", expect=1, PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT="true")
                self.assertEqual(list(other.iterdir()), [])
                self.assertEqual(self.outputs(), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
        # Without strict matching, a restore without mounts lists the key as a plain prefix (the plugin does
        # the same; with mounts it looks up "<key>/<mount>" either way) and so takes key1's objects.
        expected = snapshot(ws / "node_modules")
        shutil.rmtree(ws / "node_modules")
        other = self.tmp / "not-strict"
        self.restore(other, None, self.prefix + "key", PLUGIN_STRICT_KEY_MATCHING="false")
        self.assertEqual(snapshot(ws / "node_modules"), expected)
        self.assertEqual(list(other.iterdir()), [])

    def test_14_junk_object_under_the_key_is_skipped(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "junk")
        expected = snapshot(ws / "node_modules")
        key = self.prefix + "junk"
        self.rebuild(ws, "node_modules", key)
        self.put(f"{key}/junk", random_bytes(70000, "junk"))
        self.put(f"{key}/empty", b"")
        shutil.rmtree(ws / "node_modules")
        other = self.tmp / "other"
        r = self.restore(other, None, key, PLUGIN_EXIT_CODE="true")
        self.assertEqual(snapshot(ws / "node_modules"), expected)
        text = r.stderr.decode(errors="replace")
        warnings = [l for l in text.splitlines() if "level=warn" in l and f"{key}/junk" in l]
        self.assertEqual(len(warnings), 1, text)
        self.assertEqual(list(other.iterdir()), [])

    def test_15_restore_keys(self):
        p = self.prefix
        trees = {}
        for name in ["npm-aaa", "npm-bbb", "yarn-ccc"]:
            ws = self.tmp / f"ws-{name}"
            make_tree(ws / "node_modules", name)
            trees[name] = snapshot(ws / "node_modules")
            self.rebuild(ws, "node_modules", p + name)
            time.sleep(1.1)  # each newer than the last (LastModified: 1 s resolution)

        self.restore(self.tmp / "hit", "node_modules", p + "npm-aaa", PLUGIN_RESTORE_KEYS=p + "npm-")
        self.assertEqual(snapshot(self.tmp / "hit" / "node_modules"), trees["npm-aaa"])
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={p}npm-aaa", "cache_state=complete"])

        self.restore(self.tmp / "fallback", "node_modules", p + "npm-zzz",
                     PLUGIN_RESTORE_KEYS=f"{p}none-,{p}npm-,{p}yarn-")
        self.assertEqual(snapshot(self.tmp / "fallback" / "node_modules"), trees["npm-bbb"])
        self.assertEqual(self.outputs(), ["cache_hit=false", f"cache_matched_key={p}npm-bbb", "cache_state=complete"])

        self.restore(self.tmp / "order", "node_modules", p + "npm-zzz", PLUGIN_RESTORE_KEYS=f"{p}yarn-,{p}npm-")
        self.assertEqual(snapshot(self.tmp / "order" / "node_modules"), trees["yarn-ccc"])
        self.assertEqual(self.outputs(), ["cache_hit=false", f"cache_matched_key={p}yarn-ccc", "cache_state=complete"])

        # restore keys are templates too
        self.restore(self.tmp / "tmpl", "node_modules", p + "npm-zzz",
                     PLUGIN_RESTORE_KEYS=p + '{{ "npm-" }}', DRONE_COMMIT_BRANCH="main")
        self.assertEqual(snapshot(self.tmp / "tmpl" / "node_modules"), trees["npm-bbb"])
        self.outputs()

        self.restore(self.tmp / "miss", "node_modules", p + "nothing", PLUGIN_RESTORE_KEYS=p + "nothing-")
        self.assertEqual(list((self.tmp / "miss").iterdir()), [])
        self.assertEqual(self.outputs(), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])
        self.restore(self.tmp / "miss", "node_modules", p + "nothing", expect=1,
                     PLUGIN_RESTORE_KEYS=p + "nothing-", PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT="true")
        # a fallback match is a match: no failure
        self.restore(self.tmp / "fallback2", "node_modules", p + "npm-zzz", PLUGIN_RESTORE_KEYS=p + "npm-",
                     PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT="true")
        self.assertEqual(snapshot(self.tmp / "fallback2" / "node_modules"), trees["npm-bbb"])

    def test_16_filesystem_backend(self):
        root = self.tmp / "fs-cache"
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "filesystem", big=MiB)
        expected = snapshot(ws / "node_modules")
        key = self.prefix + "fs"
        fs_settings = dict(PLUGIN_BACKEND="filesystem", PLUGIN_FILESYSTEM_CACHE_ROOT=root, PLUGIN_BUCKET=None,
                           PLUGIN_ENDPOINT=None, PLUGIN_PATH_STYLE=None, PLUGIN_REGION=None)
        self.rebuild(ws, "node_modules", key, **fs_settings)
        stored = root / key / "node_modules"
        self.assertTrue(stored.is_file(), sorted(str(p) for p in root.rglob("*")))
        self.assertEqual(sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()),
                         [f"{key}/node_modules"])
        members = self.tar_members(stored.read_bytes())
        self.assertEqual(members[0].name, str(ws / "node_modules"))
        self.assertEqual(self.keys(), [], "nothing went to S3")
        other = self.tmp / "other"
        self.restore(other, "node_modules", key, **fs_settings)
        self.assertEqual(snapshot(other / "node_modules"), expected)
        self.assertEqual(self.outputs(), ["cache_hit=true", f"cache_matched_key={key}", "cache_state=complete"])
        self.restore(self.tmp / "miss", "node_modules", key + "x", **fs_settings)
        self.assertEqual(self.outputs(), ["cache_hit=false", "cache_matched_key=", "cache_state=partial"])

    def test_17_json_logs(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "json")
        key = self.prefix + "json"
        for mode, msgs in (("rebuild", ["rebuilding cache for directory", "cache built"]),
                           ("restore", ["restoring directory", "cache restored"])):
            with self.subTest(mode=mode):
                env = self.plugin_env(mode, PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key,
                                      PLUGIN_LOG_FORMAT="json")
                r = self.run_plugin(ws if mode == "rebuild" else self.tmp / "other", env)
                self.assert_rc(r)
                records = []
                for line in r.stderr.decode().splitlines():
                    if line.strip():
                        try:
                            records.append(json.loads(line))
                        except ValueError:
                            self.fail(f"not a JSON line: {line!r}")
                got = [rec.get("msg") for rec in records if rec.get("level") == "info"]
                self.assertEqual(got, msgs)
                self.assertTrue(all({"time", "level", "msg"} <= rec.keys() for rec in records))

    def test_17b_json_logs_for_configuration_errors(self):
        """The plugin makes its logger from log.format before it reads the rest of its configuration: a refused
        setting is reported in the format asked for."""
        ws = self.tmp / "ws"
        key = self.prefix + "json"
        env = self.plugin_env("rebuild", PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key, PLUGIN_LOG_FORMAT="json",
                              PLUGIN_ARCHIVE_FORMAT="rar")
        r = self.run_plugin(ws, env)
        self.assert_rc(r, 1)
        for line in r.stderr.decode().splitlines():
            with self.subTest(line=line):
                self.assertIsInstance(json.loads(line), dict)

    def test_18_mount_expansion(self):
        cache_dir = self.tmp / "var-dir"
        make_tree(self.home / ".m2repo", "tilde")
        make_tree(cache_dir / "sub", "var")
        make_tree(cache_dir / "braced", "braced")
        snaps = {"tilde": snapshot(self.home / ".m2repo"), "var": snapshot(cache_dir / "sub"),
                 "braced": snapshot(cache_dir / "braced")}
        key = self.prefix + "expand"
        ws = self.tmp / "ws"
        settings = {"MY_CACHE_DIR": cache_dir}
        self.rebuild(ws, "~/.m2repo,$MY_CACHE_DIR/sub,${MY_CACHE_DIR}/braced", key, **settings)
        self.assertEqual(self.keys(), sorted(f"{key}/{str(p).lstrip('/')}" for p in
                                             (self.home / ".m2repo", cache_dir / "sub", cache_dir / "braced")))
        for p in (self.home / ".m2repo", cache_dir):
            shutil.rmtree(p)
        self.restore(self.tmp / "other", "~/.m2repo,$MY_CACHE_DIR/sub,${MY_CACHE_DIR}/braced", key, **settings)
        self.assertEqual(snapshot(self.home / ".m2repo"), snaps["tilde"])
        self.assertEqual(snapshot(cache_dir / "sub"), snaps["var"])
        self.assertEqual(snapshot(cache_dir / "braced"), snaps["braced"])

    def test_19_skip_symlinks(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "skip-links")
        expected = without_links(snapshot(ws / "node_modules"))
        key = self.prefix + "nolinks"
        self.rebuild(ws, "node_modules", key, PLUGIN_SKIP_SYMLINKS="true")
        members = self.tar_members(self.get(f"{key}/node_modules"))
        self.assertFalse([m.name for m in members if m.issym() or m.islnk()])
        other = self.tmp / "other"
        self.restore(other, "node_modules", key)
        self.assertEqual(snapshot(other / "node_modules"), expected)

    def test_20_key_template_functions_and_default_key(self):
        ws = self.tmp / "ws"
        make_tree(ws / "node_modules", "template")
        t0 = int(time.time())
        self.rebuild(ws, "node_modules", self.prefix + "{{ epoch }}-{{ arch }}-{{ os }}-{{ .Commit.Branch }}",
                     DRONE_COMMIT_BRANCH="feature-x")
        t1 = int(time.time())
        keys = self.keys()
        self.assertEqual(len(keys), 1, keys)
        m = re.fullmatch(re.escape(self.prefix) + r"(\d+)-([a-z0-9]+)-([a-z]+)-feature-x/node_modules", keys[0])
        self.assertIsNotNone(m, keys[0])
        self.assertTrue(t0 <= int(m.group(1)) <= t1, (t0, m.group(1), t1))
        self.assertEqual((m.group(2), m.group(3)), (go_arch(), "linux"))

        # no PLUGIN_CACHE_KEY: the plugin's default key, the MD5 of the branch
        branch = self.prefix + "branch"
        default_key = hashlib.md5(branch.encode()).hexdigest()
        self.rebuild(ws, "node_modules", None, DRONE_COMMIT_BRANCH=branch)
        self.assertEqual(self.keys(default_key), [f"{default_key}/node_modules"])
        other = self.tmp / "other"
        self.restore(other, "node_modules", None, DRONE_COMMIT_BRANCH=branch)
        self.assertEqual(snapshot(other / "node_modules"), snapshot(ws / "node_modules"))


# ---------------------------------------------------------------------------------------------------------
class InterruptTest(PluginTest):
    def test_21_sigterm_during_rebuild_leaves_nothing(self):
        ws = self.tmp / "ws"
        root = ws / "node_modules"
        root.mkdir(parents=True)
        chunk = 10 * MiB
        data = hashlib.shake_256(b"interrupt").digest(chunk)
        for i in range(30):  # 300 MiB of incompressible files (each made distinct by its first 8 bytes)
            (root / f"f{i:03d}.bin").write_bytes(i.to_bytes(8, "little") + data[8:])
        key = self.prefix + "sigterm"
        env = self.plugin_env("rebuild", PLUGIN_MOUNT="node_modules", PLUGIN_CACHE_KEY=key, PLUGIN_ARCHIVE_FORMAT="tar",
                              PLUGIN_EXIT_CODE="true")
        proc = subprocess.Popen([CACHE_STEP], cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = threading.Event()
        err = bytearray()

        def pump():
            for line in proc.stderr:
                err.extend(line)
                if b"rebuilding cache for directory" in line:
                    started.set()

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        self.assertTrue(started.wait(60), "the rebuild did not start")
        time.sleep(0.4)
        self.assertIsNone(proc.poll(), "the rebuild finished before it could be interrupted")
        proc.send_signal(signal.SIGTERM)
        out = proc.stdout.read()
        rc = proc.wait(60)
        reader.join(10)
        proc.stdout.close()
        proc.stderr.close()
        self.check_no_secret("stdout", out)
        self.check_no_secret("stderr", bytes(err))
        if self.metrics.exists():
            self.check_no_secret("the metrics file", self.metrics.read_bytes())
        self.assertEqual(rc, 143, bytes(err).decode(errors="replace"))
        self.assertEqual(self.log_lines(bytes(err), "cache built"), [], bytes(err).decode(errors="replace"))
        self.assertEqual(self.keys(), [], "an interrupted rebuild left an object")
        if SERVER.has_list_multipart_uploads:
            uploads = self.s3.list_multipart_uploads(Bucket=SERVER.bucket, Prefix=self.prefix).get("Uploads", [])
            self.assertEqual(uploads, [], "an interrupted rebuild left a multipart upload")


if __name__ == "__main__":
    unittest.main(verbosity=2)
