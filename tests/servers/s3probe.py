#!/usr/bin/env python3
"""s3probe.py — asks a running test server how it behaves on specific S3 protocol points (BEHAVIOUR.md).

Usage: python3 tests/servers/s3probe.py <state_dir>/<server>.env [point ...]
Points: md5 crc32c mpu-checksum payload-hash conditional-range multipart expect-keepalive headers
        encoding-url wrong-secret keys aws-chunked (default: all of these), idle (only when named: up to 70 s). Prints one line per observation:
        "<point>: <what was sent> -> <status> <S3 error code> <headers of interest>".

Requests are signed by botocore's own SigV4Auth (the reference implementation) with the S3 rule for the
path (sent and signed exactly as percent-encoded here, "//" kept), headers chosen by us, and sent with
http.client, or with a raw socket where the exchange itself is the question (Expect, keep-alive).
Every object goes under a fresh "probe-<random>/" prefix of the env file's bucket.
A developer's tool: needs botocore (python3-botocore on Debian); no test depends on it.
"""
import base64
import hashlib
import http.client
import os
import re
import secrets
import socket
import ssl
import sys
import time
import urllib.parse
import xml.etree.ElementTree as ET

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def load_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#') and '=' in line:
                k, v = line.split('=', 1)
                env[k] = v
    return env


class S3PathSigV4(SigV4Auth):
    """botocore's SigV4 with the S3 path rule: the path exactly as sent (already percent-encoded once)."""

    def _normalize_url_path(self, path):
        return path


_CRC32C_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC32C_TABLE.append(_c)


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc = _CRC32C_TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b'123456789') == 0xE3069283


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32c_b64(data):
    return b64(crc32c(data).to_bytes(4, 'big'))


def md5_b64(data):
    return b64(hashlib.md5(data).digest())


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def encode_key(key):
    """Percent-encodes every byte of the UTF-8 key but RFC 3986 unreserved characters and '/'."""
    return urllib.parse.quote(key, safe='/-_.~')


def encode_query(params):
    """params: list of (name, value); value None gives a bare 'name=' (as SigV4 canonicalises it)."""
    return '&'.join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v or '', safe='-_.~')}"
                    for k, v in sorted(params))


class Response:
    def __init__(self, status, reason, headers, body):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def code(self):
        m = re.search(rb'<Code>([^<]*)</Code>', self.body or b'')
        return m.group(1).decode() if m else ''

    def message(self):
        m = re.search(rb'<Message>([^<]*)</Message>', self.body or b'')
        return m.group(1).decode() if m else ''

    def short(self, *headers):
        if self.status == 0:  # no HTTP answer at all
            return f'no answer ({self.reason})'
        out = f'{self.status}'
        if self.code():
            out += f' {self.code()}'
        for h in headers:
            v = self.header(h)
            if v is not None:
                out += f' {h}: {v}'
        return out


class Probe:
    def __init__(self, env):
        self.env = env
        url = urllib.parse.urlsplit(env['S3_ENDPOINT'])
        self.tls = url.scheme == 'https'
        self.host, self.port = url.hostname, url.port or (443 if self.tls else 80)
        self.netloc = url.netloc
        self.bucket = env['S3_BUCKET']
        self.region = env.get('S3_REGION', 'us-east-1')
        self.access, self.secret = env['S3_ACCESS_KEY'], env['S3_SECRET_KEY']
        self.prefix = f'probe-{secrets.token_hex(3)}/'
        self.ssl_ctx = None
        if self.tls:
            self.ssl_ctx = ssl.create_default_context(cafile=env.get('S3_CA_BUNDLE'))

    # -- signing and sending ------------------------------------------------------------------------------
    def path(self, key=None):
        return f'/{self.bucket}' + (f'/{encode_key(key)}' if key is not None else '')

    def sign(self, method, path, query='', headers=None, body=b'', payload_hash=None, secret=None):
        """Returns the header list (name, value) to send; payload_hash None = sha256 of the body."""
        url = f"{self.env['S3_ENDPOINT']}{path}" + (f'?{query}' if query else '')
        hdrs = {'host': self.netloc}
        hdrs.update(headers or {})
        hdrs['X-Amz-Content-SHA256'] = payload_hash if payload_hash is not None else sha256_hex(body)
        req = AWSRequest(method=method, url=url, headers=hdrs, data=body)
        S3PathSigV4(Credentials(self.access, secret or self.secret), 's3', self.region).add_auth(req)
        return list(req.headers.items())

    def connect(self):
        if self.tls:
            return http.client.HTTPSConnection(self.host, self.port, timeout=20, context=self.ssl_ctx)
        return http.client.HTTPConnection(self.host, self.port, timeout=20)

    def request(self, method, path, query='', headers=None, body=b'', payload_hash=None, secret=None,
                conn=None, sign=True):
        hdrs = self.sign(method, path, query, headers, body, payload_hash, secret) if sign else \
            [('host', self.netloc)] + list((headers or {}).items())
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.putrequest(method, path + (f'?{query}' if query else ''), skip_host=True,
                            skip_accept_encoding=True)
            names = {k.lower() for k, _ in hdrs}
            for k, v in hdrs:
                conn.putheader(k, v)
            if 'content-length' not in names and (body or method in ('PUT', 'POST')):
                conn.putheader('Content-Length', str(len(body)))
            conn.endheaders(body if body else None)
            r = conn.getresponse()
            try:
                data = r.read()
            except http.client.IncompleteRead as e:  # the server announced more than it sent
                return Response(r.status, r.reason, r.getheaders() + [('x-probe-note', f'body cut short: got '
                                f'{len(e.partial)} bytes, {e.expected} more announced')], e.partial)
            return Response(r.status, r.reason, r.getheaders(), data)
        except (OSError, http.client.HTTPException) as e:
            return Response(0, f'{type(e).__name__}: {e}', [], b'')
        finally:
            if own:
                conn.close()

    def put(self, key, body, headers=None, **kw):
        return self.request('PUT', self.path(key), headers=headers, body=body, **kw)

    def get(self, key, headers=None, **kw):
        return self.request('GET', self.path(key), headers=headers, **kw)

    def create_mpu(self, key, headers=None):
        r = self.request('POST', self.path(key), 'uploads=', headers=headers)
        m = re.search(rb'<UploadId>([^<]+)</UploadId>', r.body)
        return r, (m.group(1).decode() if m else None)

    def upload_part(self, key, upload_id, n, body, headers=None):
        q = encode_query([('partNumber', str(n)), ('uploadId', upload_id)])
        return self.request('PUT', self.path(key), q, headers=headers, body=body)

    def complete(self, key, upload_id, parts, extra=None):
        """parts: list of (number, etag[, {element: value}])."""
        xml = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        for p in parts:
            xml += f'<Part><PartNumber>{p[0]}</PartNumber><ETag>{p[1]}</ETag>'
            for k, v in (p[2] if len(p) > 2 else {}).items():
                xml += f'<{k}>{v}</{k}>'
            xml += '</Part>'
        xml += '</CompleteMultipartUpload>'
        body = xml.encode()
        hdrs = {'Content-Type': 'application/xml'}
        hdrs.update(extra or {})
        return self.request('POST', self.path(key), encode_query([('uploadId', upload_id)]), hdrs, body)

    def abort(self, key, upload_id):
        return self.request('DELETE', self.path(key), encode_query([('uploadId', upload_id)]))

    def list_uploads(self):
        return self.request('GET', self.path(), 'uploads=')

    def list_v2(self, params):
        return self.request('GET', self.path(), encode_query([('list-type', '2')] + params))


def say(point, text):
    print(f'{point}: {text}', flush=True)


# ---- the points ----------------------------------------------------------------------------------------
def p_md5(p):
    body = b'hello content-md5\n'
    k = p.prefix + 'md5'
    say('md5', f"PUT right Content-MD5 -> {p.put(k, body, {'Content-MD5': md5_b64(body)}).short('ETag')}")
    r = p.put(k, body, {'Content-MD5': md5_b64(b'other')})
    say('md5', f"PUT wrong Content-MD5 (md5 of other bytes) -> {r.short()} {r.message()!r}")
    r = p.put(k, body, {'Content-MD5': 'not-base64!'})
    say('md5', f"PUT malformed Content-MD5 'not-base64!' -> {r.short()} {r.message()!r}")


def p_crc32c(p):
    body = b'hello crc32c\n'
    k = p.prefix + 'crc32c'
    right = crc32c_b64(body)
    r = p.put(k, body, {'x-amz-checksum-crc32c': right})
    say('crc32c', f"PUT x-amz-checksum-crc32c right ({right}) -> {r.short('x-amz-checksum-crc32c')}")
    r = p.get(k, {'x-amz-checksum-mode': 'ENABLED'})
    say('crc32c', f"GET x-amz-checksum-mode: ENABLED afterwards -> {r.short('x-amz-checksum-crc32c')}"
        f"{'' if r.header('x-amz-checksum-crc32c') else ' (no checksum header returned)'}")
    wrong = crc32c_b64(b'other')
    r = p.put(p.prefix + 'crc32c-wrong', body, {'x-amz-checksum-crc32c': wrong})
    say('crc32c', f"PUT x-amz-checksum-crc32c wrong ({wrong}) -> {r.short('x-amz-checksum-crc32c')} "
        f"{r.message()!r}")
    for label, value in (('right', right), ('wrong', wrong)):
        kk = p.prefix + 'crc32c-algo-' + label
        r = p.put(kk, body, {'x-amz-checksum-crc32c': value, 'x-amz-sdk-checksum-algorithm': 'CRC32C'})
        g = p.request('HEAD', p.path(kk), headers={'x-amz-checksum-mode': 'ENABLED'})
        say('crc32c', f"PUT {label} crc32c + x-amz-sdk-checksum-algorithm: CRC32C -> "
            f"{r.short('x-amz-checksum-crc32c')} {r.message()!r}; HEAD checksum-mode -> {g.short('x-amz-checksum-crc32c')}")


def p_mpu_checksum(p):
    k = p.prefix + 'mpu-crc32c'
    r, uid = p.create_mpu(k, {'x-amz-checksum-algorithm': 'CRC32C'})
    say('mpu-checksum', f"CreateMultipartUpload x-amz-checksum-algorithm: CRC32C -> "
        f"{r.short('x-amz-checksum-algorithm')}{' ' + r.message() if not uid else ''}")
    if not uid:
        return
    part = os.urandom(1024)
    c = crc32c_b64(part)
    r = p.upload_part(k, uid, 1, part, {'x-amz-checksum-crc32c': c})
    etag = r.header('ETag')
    say('mpu-checksum', f"UploadPart 1 with x-amz-checksum-crc32c right -> {r.short('ETag', 'x-amz-checksum-crc32c')}")
    r = p.complete(k, uid, [(1, etag, {'ChecksumCRC32C': c})])
    body = r.body.decode(errors='replace')
    m = re.search(r'<ChecksumCRC32C>([^<]*)</ChecksumCRC32C>', body)
    say('mpu-checksum', f"Complete with <ChecksumCRC32C> in Part -> {r.short()}"
        f"{' ChecksumCRC32C in answer: ' + m.group(1) if m else ' (no ChecksumCRC32C in answer)'}"
        f"{' ' + repr(r.message()) if r.code() else ''}")
    r = p.get(k, {'x-amz-checksum-mode': 'ENABLED'})
    say('mpu-checksum', f"GET checksum-mode ENABLED -> {r.short('x-amz-checksum-crc32c', 'ETag')}")
    # a wrong part checksum
    k2 = p.prefix + 'mpu-crc32c-wrong'
    r, uid = p.create_mpu(k2, {'x-amz-checksum-algorithm': 'CRC32C'})
    if uid:
        r = p.upload_part(k2, uid, 1, part, {'x-amz-checksum-crc32c': crc32c_b64(b'other')})
        say('mpu-checksum', f"UploadPart with x-amz-checksum-crc32c wrong -> {r.short()} {r.message()!r}")
        etag = r.header('ETag')
        if r.status == 200:
            r = p.complete(k2, uid, [(1, etag, {'ChecksumCRC32C': crc32c_b64(b'other')})])
            say('mpu-checksum', f"... Complete naming that wrong ChecksumCRC32C -> {r.short()} {r.message()!r}")
        p.abort(k2, uid)
    # the Complete's Part checksum differing from the one sent with UploadPart
    k3 = p.prefix + 'mpu-crc32c-mismatch'
    r, uid = p.create_mpu(k3, {'x-amz-checksum-algorithm': 'CRC32C'})
    if uid:
        r = p.upload_part(k3, uid, 1, part, {'x-amz-checksum-crc32c': c})
        r = p.complete(k3, uid, [(1, r.header('ETag'), {'ChecksumCRC32C': crc32c_b64(b'other')})])
        say('mpu-checksum', f"Complete whose ChecksumCRC32C differs from the part's -> {r.short()} {r.message()!r}")
        p.abort(k3, uid)


def p_payload_hash(p):
    body = b'hello payload hash\n'
    k = p.prefix + 'payload'
    r = p.put(k, body, payload_hash='UNSIGNED-PAYLOAD')
    say('payload-hash', f"PUT x-amz-content-sha256: UNSIGNED-PAYLOAD over {'HTTPS' if p.tls else 'HTTP'} -> {r.short()}")
    body2 = b'second body, sent with the hash of other bytes\n'
    r = p.put(k, body2, payload_hash=sha256_hex(b'other bytes'))
    say('payload-hash', f"PUT signed x-amz-content-sha256 = sha256(other bytes) -> {r.short()} {r.message()!r}")
    g = p.get(k)
    held = ('the mismatched body (stored)' if g.body == body2 else
            'the earlier body (mismatched PUT not stored)' if g.body == body else g.short())
    say('payload-hash', f"... the key afterwards holds {held}")
    r = p.put(k, body, payload_hash='not-a-hash')
    say('payload-hash', f"PUT x-amz-content-sha256: not-a-hash -> {r.short()} {r.message()!r}")


def p_conditional_range(p):
    body = bytes(range(100))
    k = p.prefix + 'range100'
    r = p.put(k, body)
    etag = r.header('ETag')
    say('range', f"PUT 100-byte object -> {r.short('ETag')}")
    r = p.get(k, {'If-Match': etag})
    say('range', f"GET If-Match: {etag} (matching) -> {r.short('ETag')}")
    r = p.get(k, {'If-Match': '"0123456789abcdef0123456789abcdef"'})
    say('range', f"GET If-Match non-matching -> {r.short()}")
    r = p.get(k, {'If-None-Match': etag})
    say('range', f"GET If-None-Match: matching -> {r.short()}")
    for rng in ('bytes=0-9', 'bytes=90-199', 'bytes=-10', 'bytes=100-', 'bytes=1000-2000', 'bytes=5-2'):
        r = p.get(k, {'Range': rng})
        extra = f' len={len(r.body)}' if r.status in (200, 206) else ''
        if r.status == 206 and rng == 'bytes=-10':
            extra += ' (last 10)' if r.body == body[-10:] else f' (NOT the last 10 bytes: first={r.body[:1].hex()})'
        say('range', f"GET Range: {rng} -> {r.short('Content-Range', 'Content-Length', 'ETag', 'Accept-Ranges')}{extra}")
    r = p.get(k, {'Range': 'bytes=0-9', 'If-Match': etag})
    say('range', f"GET Range bytes=0-9 + If-Match matching -> {r.short('Content-Range')}")
    r = p.get(k, {'Range': 'bytes=0-9', 'If-Match': '"0123456789abcdef0123456789abcdef"'})
    say('range', f"GET Range bytes=0-9 + If-Match non-matching -> {r.short()}")
    k0 = p.prefix + 'empty'
    p.put(k0, b'')
    for rng in ('bytes=0-9', 'bytes=0-', 'bytes=-10'):
        r = p.get(k0, {'Range': rng})
        say('range', f"GET 0-byte object Range: {rng} -> {r.short('Content-Range', 'Content-Length', 'x-probe-note')} len={len(r.body)}")


def p_multipart(p):
    mib = 1024 * 1024
    # a non-last part under 5 MiB
    k = p.prefix + 'mpu-small'
    r, uid = p.create_mpu(k)
    first_uid = uid
    say('multipart', f"CreateMultipartUpload -> {r.short()}")
    if not uid:
        return
    p1 = os.urandom(1 * mib)
    p2 = os.urandom(1000)
    e1 = p.upload_part(k, uid, 1, p1).header('ETag')
    e2 = p.upload_part(k, uid, 2, p2).header('ETag')
    r = p.complete(k, uid, [(1, e1), (2, e2)])
    say('multipart', f"Complete with part 1 = 1 MiB (non-last, < 5 MiB) -> {r.short()} {r.message()!r}"
        + (f" ETag {re.search(rb'<ETag>([^<]*)</ETag>', r.body).group(1).decode()}" if r.status == 200 and b'<ETag>' in r.body else ''))
    # a wrong ETag for an existing part, parts out of order, then the right Complete: one upload each
    p5 = os.urandom(5 * mib)

    def fresh(name):
        kk = p.prefix + name
        _, u = p.create_mpu(kk)
        return kk, u, p.upload_part(kk, u, 1, p5).header('ETag'), p.upload_part(kk, u, 2, p2).header('ETag')

    leftovers = [(p.prefix + 'mpu-small', first_uid)]
    k, uid, e1, e2 = fresh('mpu-wrong-etag')
    leftovers.append((k, uid))
    r = p.complete(k, uid, [(1, '"00000000000000000000000000000000"'), (2, e2)])
    say('multipart', f"Complete naming part 1 (5 MiB) with a wrong ETag -> {r.short()} {r.message()!r}")
    k, uid, e1, e2 = fresh('mpu-order')
    leftovers.append((k, uid))
    r = p.complete(k, uid, [(2, e2), (1, e1)])
    say('multipart', f"Complete listing parts out of order (2, 1) -> {r.short()} {r.message()!r}")
    for kk, uu in leftovers:  # the uploads whose Complete failed stay open on a strict server
        p.abort(kk, uu)
    k, uid, e1, e2 = fresh('mpu-right')
    r = p.complete(k, uid, [(1, e1), (2, e2)])
    tag = re.search(rb'<ETag>([^<]*)</ETag>', r.body)
    say('multipart', f"Complete right (5 MiB + 1000 B) -> {r.short()} <ETag> in the answer (raw XML): "
        f"{repr(tag.group(1).decode()) if tag else 'absent'}")
    g = p.get(k)
    say('multipart', f"... GET it -> {g.short('ETag', 'Content-Length')} bytes equal: {g.body == p5 + p2}")
    r = p.complete(k, uid, [(1, e1), (2, e2)])
    say('multipart', f"Complete again (same upload id, already completed) -> {r.short()} {r.message()!r}")
    r = p.complete(k, 'no-such-upload-id', [(1, e1)])
    say('multipart', f"Complete with an unknown upload id, on that (existing) key -> {r.short()} {r.message()!r}")
    r = p.complete(p.prefix + 'mpu-never-created', 'no-such-upload-id', [(1, e1)])
    say('multipart', f"Complete with an unknown upload id, on a new key -> {r.short()} {r.message()!r} "
        f"body[:60] {r.body[:60]!r}")
    # abort, then list
    k = p.prefix + 'mpu-abort'
    r, uid = p.create_mpu(k)
    p.upload_part(k, uid, 1, p2)
    r = p.list_uploads()
    listed = re.findall(rb'<UploadId>([^<]*)</UploadId>', r.body)
    say('multipart', f"ListMultipartUploads before abort -> {r.short()} ours listed: {uid.encode() in listed}")
    r = p.abort(k, uid)
    say('multipart', f"AbortMultipartUpload -> {r.short()}")
    r = p.list_uploads()
    listed = re.findall(rb'<UploadId>([^<]*)</UploadId>', r.body)
    mine = [x for x in re.findall(rb'<Key>([^<]*)</Key>', r.body) if x.startswith(p.prefix.encode())]
    say('multipart', f"ListMultipartUploads after abort -> {r.short()} ours listed: {uid.encode() in listed}; "
        f"uploads under this run's prefix (all others of the run aborted): {len(mine)}")
    r = p.request('GET', p.path(k), encode_query([('uploadId', uid)]))
    say('multipart', f"ListParts after abort -> {r.short()}")
    r = p.upload_part(k, uid, 2, p2)
    say('multipart', f"UploadPart after abort -> {r.short()} body[:80] {r.body[:80]!r}")
    r = p.abort(k, uid)
    say('multipart', f"AbortMultipartUpload again -> {r.short()}")


# ---- raw socket exchanges ------------------------------------------------------------------------------
def raw_connect(p):
    s = socket.create_connection((p.host, p.port), timeout=10)
    if p.tls:
        s = p.ssl_ctx.wrap_socket(s, server_hostname=p.host)
    return s


class RawReader:
    """Reads HTTP/1.1 responses off a socket, keeping what arrives past one response for the next."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b''

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def response(self, timeout=10):
        """(status line, headers lower-case, body, closed) of the next response, 1xx included; status line
        None when the peer closed first. Raises socket.timeout when nothing complete came in time."""
        self.sock.settimeout(timeout)
        try:
            while b'\r\n\r\n' not in self.buf:
                self._fill()
        except EOFError:
            return None, {}, self.buf, True
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        lines = head.decode('latin-1').split('\r\n')
        hdrs = {}
        for line in lines[1:]:
            k, _, v = line.partition(':')
            hdrs[k.strip().lower()] = v.strip()
        code = lines[0].split()[1]
        if code.startswith('1') or code in ('204', '304'):
            return lines[0], hdrs, b'', False
        try:
            if hdrs.get('transfer-encoding', '').lower() == 'chunked':
                while b'\r\n0\r\n\r\n' not in b'\r\n' + self.buf:
                    self._fill()
                i = (b'\r\n' + self.buf).index(b'\r\n0\r\n\r\n') + 5
                body, self.buf = self.buf[:i], self.buf[i:]
                return lines[0], hdrs, body, False
            n = int(hdrs.get('content-length', '0'))
            while len(self.buf) < n:
                self._fill()
        except EOFError:
            body, self.buf = self.buf, b''
            return lines[0], hdrs, body, True
        body, self.buf = self.buf[:n], self.buf[n:]
        return lines[0], hdrs, body, False

    def final_response(self, timeout=10):
        """Skips interim 1xx responses; returns (final, [interim status lines])."""
        interim = []
        while True:
            r = self.response(timeout)
            if r[0] and r[0].split()[1].startswith('1'):
                interim.append(r[0])
                continue
            return r, interim


def closed_by_peer(s, wait=1.0):
    s.settimeout(wait)
    try:
        return s.recv(1) == b''
    except socket.timeout:
        return False
    except OSError:
        return True


def raw_request_bytes(method, path, hdrs, query=''):
    target = path + (f'?{query}' if query else '')
    return (f'{method} {target} HTTP/1.1\r\n' + ''.join(f'{k}: {v}\r\n' for k, v in hdrs) + '\r\n').encode()


def code_of(body):
    m = re.search(rb'<Code>([^<]*)</Code>', body or b'')
    return (' ' + m.group(1).decode()) if m else ''


def p_expect_keepalive(p):
    body = os.urandom(64 * 1024)
    k = p.prefix + 'expect'
    for label, secret in (('valid signature', None), ('wrong secret', 'wrong-secret')):
        hdrs = p.sign('PUT', p.path(k), '', {'Expect': '100-continue', 'Content-Length': str(len(body))}, body,
                      secret=secret)
        s = raw_connect(p)
        rd = RawReader(s)
        s.sendall(raw_request_bytes('PUT', p.path(k), hdrs))
        t0 = time.monotonic()
        try:
            first = rd.response(timeout=3)
        except socket.timeout:
            first = None
        waited = time.monotonic() - t0
        if first is None:
            s.sendall(body)
            final, interim = rd.final_response()
            say('expect', f"PUT 64 KiB, Expect: 100-continue, {label} -> no answer in 3 s; after sending the body: "
                f"{interim} {final[0]}{code_of(final[2])}")
        elif first[0] and first[0].split()[1] == '100':
            s.sendall(body)
            final, interim = rd.final_response()
            say('expect', f"PUT 64 KiB, Expect: 100-continue, {label} -> '{first[0]}' after {waited * 1000:.0f} ms; "
                f"after the body: {len(interim)} more interim {interim} then {final[0]}{code_of(final[2])}")
        else:
            closed = first[3] or closed_by_peer(s)
            say('expect', f"PUT 64 KiB, Expect: 100-continue, {label} -> final answer before the body: "
                f"{first[0]}{code_of(first[2])} (connection {'closed' if closed else 'kept open'})")
        s.close()

    # keep-alive: several requests on one connection
    p.put(k, b'x' * 10)
    s = raw_connect(p)
    rd = RawReader(s)
    notes = []
    seq = [('GET existing', p.path(k), None), ('GET missing (404)', p.path(p.prefix + 'no-such-key'), None),
           ('GET wrong secret (403)', p.path(k), 'wrong-secret'), ('GET existing', p.path(k), None)]
    for label, path, secret in seq:
        hdrs = p.sign('GET', path, secret=secret)
        try:
            s.sendall(raw_request_bytes('GET', path, hdrs))
            (status, h, _, closed), _ = rd.final_response()
        except OSError as e:
            notes.append(f'{label}: send/recv failed ({type(e).__name__}): the connection was closed')
            break
        if status is None:
            notes.append(f'{label}: connection closed before an answer')
            break
        notes.append(f"{label}: {status.split(' ', 1)[1]} (Connection: {h.get('connection', '-')}, "
                     f"Keep-Alive: {h.get('keep-alive', '-')})")
        if closed or closed_by_peer(s, 0.3):
            notes.append('then the server closed the connection')
            break
    s.close()
    say('keepalive', 'one connection: ' + '; '.join(notes))

    # a PUT rejected with its body sent: is the connection still usable?
    s = raw_connect(p)
    rd = RawReader(s)
    hdrs = p.sign('PUT', p.path(k), '', {'Content-Length': str(len(body))}, body, secret='wrong-secret')
    s.sendall(raw_request_bytes('PUT', p.path(k), hdrs) + body)
    (status, h, b, closed), _ = rd.final_response()
    after = 'closed' if closed or closed_by_peer(s, 0.5) else 'open'
    nxt = ''
    if after == 'open':
        hdrs = p.sign('GET', p.path(k))
        try:
            s.sendall(raw_request_bytes('GET', p.path(k), hdrs))
            nxt = f', next GET on it: {rd.final_response()[0][0]}'
        except OSError as e:
            nxt = f', next GET on it failed: {type(e).__name__}'
    say('keepalive', f"PUT 64 KiB with a wrong secret (body sent) -> {status}{code_of(b)}, connection {after}{nxt}")
    s.close()


def p_headers(p):
    k = p.prefix + 'hdr'
    p.put(k, b'x')
    for size in (4096, 8192, 16384, 32768, 65536):
        pad = 'a' * size
        r = p.get(k, {'X-Pad': pad})
        say('headers', f"GET with one {size // 1024} KiB header (X-Pad, signed) -> {r.short() if r.status else r.reason}")
    many = {f'X-Pad-{i}': 'b' * 100 for i in range(120)}
    r = p.get(k, many)
    say('headers', f"GET with 120 headers of 100 B (~14 KiB) -> {r.short() if r.status else r.reason}")
    meta = {'x-amz-meta-big': 'c' * 2500}
    r = p.put(p.prefix + 'meta', b'x', meta)
    say('headers', f"PUT with 2.5 KiB of x-amz-meta -> {r.short()}")


def p_encoding_url(p):
    names = ['enc dir/a b.txt', 'enc+plus', 'enc&amp', 'enc%pct', 'enc-ü']
    for name in names:
        r = p.put(p.prefix + name, b'x')
        say('encoding-url', f"PUT {name!r} -> {r.short()}")
    # prefix without '/': moto rejects signatures of query values holding '/'
    pfx = p.prefix.rstrip('/')
    for params in ([('prefix', pfx), ('encoding-type', 'url')], [('prefix', pfx)],
                   [('prefix', pfx), ('delimiter', '/'), ('encoding-type', 'url')]):
        r = p.list_v2(params)
        keys = [x.decode() for x in re.findall(rb'<Key>([^<]*)</Key>', r.body)
                if b'/enc' in x or b'%2Fenc' in x]
        prefixes = re.findall(rb'<CommonPrefixes><Prefix>([^<]*)</Prefix>', r.body)
        enc = re.findall(rb'<EncodingType>([^<]*)</EncodingType>', r.body)
        say('encoding-url', f"ListObjectsV2 {encode_query(params)} -> {r.short()} raw <Key>s {keys} "
            f"CommonPrefixes {[x.decode() for x in prefixes]} EncodingType {[x.decode() for x in enc]}"
            f"{' ' + repr(r.message()) if r.code() else ''}")


def p_wrong_secret(p):
    k = p.prefix + 'secret'
    p.put(k, b'x')
    r = p.get(k, secret='wrong-secret')
    say('wrong-secret', f"GET with a wrong secret -> {r.status} {r.reason}; Code {r.code()!r}; Message {r.message()!r}")
    body = r.body.decode(errors='replace')
    extra = [t for t in ('StringToSign', 'CanonicalRequest', 'SignatureProvided', 'AWSAccessKeyId', 'HostId',
                         'RequestId') if f'<{t}>' in body]
    say('wrong-secret', f"... error body also has: {extra}; Content-Type {r.header('Content-Type')}")
    r = p.request('PUT', p.path(k), body=b'y', secret='wrong-secret')
    say('wrong-secret', f"PUT with a wrong secret -> {r.status}; Code {r.code()!r}")
    saved = p.access
    p.access = 'NOSUCHACCESSKEY0000'
    r = p.get(k)
    p.access = saved
    say('wrong-secret', f"GET with an unknown access key -> {r.status}; Code {r.code()!r}; Message {r.message()!r}")


def p_keys(p):
    keys = ['a//b c+d=e&f~g/ü', 'sp ace', 'plus+sign', 'eq=ual&amp', 'tilde~x', 'ütf8-ß-東京', 'double//slash',
            'trailing/', 'percent%41', 'star*paren()', "quote'apos"]
    for name in keys:
        key = p.prefix + 'keys/' + name
        body = name.encode()
        r = p.put(key, body)
        if r.status != 200:
            say('keys', f"PUT {name!r} -> {r.short()} {r.message()!r}")
            continue
        g = p.get(key)
        same = g.status == 200 and g.body == body
        alias = ''
        if '//' in name:
            a = p.get(p.prefix + 'keys/' + re.sub('/+', '/', name))
            alias = f"; GET with '//' collapsed to '/' -> {a.status}{' (the same object)' if a.body == body else ''}"
        say('keys', f"PUT {name!r} -> 200; GET back -> {g.status}{' same bytes' if same else ' DIFFERENT/absent'}{alias}")
    pfx = p.prefix.rstrip('/')  # moto rejects signatures of query values holding '/'
    for params in ([('prefix', pfx)], [('prefix', pfx), ('encoding-type', 'url')]):
        r = p.list_v2(params)
        if r.status != 200:
            say('keys', f"ListObjectsV2 {encode_query(params)} -> {r.short()} {r.message()!r}")
            continue
        root = ET.fromstring(r.body)
        ns = {'s3': root.tag.split('}')[0][1:]} if root.tag.startswith('{') else {}
        listed = [c.text for c in root.iter() if c.tag.endswith('}Key') or c.tag == 'Key']
        url = 'encoding-type' in dict(params)
        said_url = any(c.text == 'url' for c in root.iter() if c.tag.endswith('EncodingType'))
        if url and said_url:  # decode only what the server says it encoded
            listed = [urllib.parse.unquote(x) for x in listed]
        listed = [x[len(p.prefix) + 5:] for x in listed if x.startswith(p.prefix + 'keys/')]
        stored = [n for n in keys]
        missing = [n for n in stored if n not in listed]
        extra = [n for n in listed if n not in stored]
        say('keys', f"ListObjectsV2 {'encoding-type=url, EncodingType=url in answer: ' + str(said_url) if url else 'plain'} -> "
            f"{len(listed)} keys; missing {missing}; unexpected {extra}")


def p_aws_chunked(p):
    """What botocore >= 1.36 sends for PutObject/UploadPart over HTTPS by default: an aws-chunked body with
    an unsigned CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    import zlib
    data = b'hello aws-chunked body\n' * 3
    crc = b64(zlib.crc32(data).to_bytes(4, 'big'))
    framed = (f'{len(data):x}\r\n'.encode() + data + b'\r\n0\r\n' +
              f'x-amz-checksum-crc32:{crc}\r\n\r\n'.encode())
    k = p.prefix + 'aws-chunked'
    hdrs = {'Content-Encoding': 'aws-chunked', 'x-amz-trailer': 'x-amz-checksum-crc32',
            'x-amz-decoded-content-length': str(len(data)), 'Content-Length': str(len(framed))}
    r = p.put(k, framed, hdrs, payload_hash='STREAMING-UNSIGNED-PAYLOAD-TRAILER')
    say('aws-chunked', f"PUT aws-chunked + STREAMING-UNSIGNED-PAYLOAD-TRAILER, CRC32 trailer -> {r.short()} "
        f"{r.message()!r}")
    if r.status == 200:
        g = p.get(k)
        what = ('the decoded bytes' if g.body == data else 'the framed bytes (framing kept: corrupt)'
                if g.body == framed else f'{len(g.body)} other bytes')
        say('aws-chunked', f"... GET it back -> {g.status}, holds {what}")


def p_idle(p):
    """How long the server keeps an idle keep-alive connection (waits up to 70 s; not in the default set)."""
    k = p.prefix + 'idle'
    p.put(k, b'x')
    s = raw_connect(p)
    rd = RawReader(s)
    s.sendall(raw_request_bytes('GET', p.path(k), p.sign('GET', p.path(k))))
    status = rd.final_response()[0][0]
    t0 = time.monotonic()
    s.settimeout(70)
    try:
        gone = s.recv(1) == b''
    except socket.timeout:
        gone = False
    except OSError:
        gone = True
    waited = time.monotonic() - t0
    say('idle', f"GET -> {status}; then idle: " +
        (f"the server closed the connection after {waited:.1f} s" if gone else 'still open after 70 s'))
    s.close()


POINTS = {
    'md5': p_md5, 'crc32c': p_crc32c, 'mpu-checksum': p_mpu_checksum, 'payload-hash': p_payload_hash,
    'conditional-range': p_conditional_range, 'multipart': p_multipart, 'expect-keepalive': p_expect_keepalive,
    'headers': p_headers, 'encoding-url': p_encoding_url, 'wrong-secret': p_wrong_secret, 'keys': p_keys,
    'aws-chunked': p_aws_chunked, 'idle': p_idle,
}
SLOW_POINTS = {'idle'}  # only when named


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    p = Probe(load_env(sys.argv[1]))
    points = sys.argv[2:] or [n for n in POINTS if n not in SLOW_POINTS]
    print(f"# {p.env['S3_ENDPOINT']} bucket {p.bucket} prefix {p.prefix}", flush=True)
    for name in points:
        if name not in POINTS:
            sys.exit(f'unknown point {name}; known: {" ".join(POINTS)}')
        try:
            POINTS[name](p)
        except Exception as e:  # a probe that breaks says so and the others still run
            say(name, f'PROBE ERROR {type(e).__name__}: {e}')


if __name__ == '__main__':
    main()
