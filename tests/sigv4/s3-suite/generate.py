#!/usr/bin/env python3
"""Generate the S3 SigV4 test cases in this folder from botocore.

Every expected file comes from botocore itself:

* header signing: ``botocore.auth.S3SigV4Auth``;
* query signing (presigned URL): ``botocore.auth.S3SigV4QueryAuth`` with
  ``expires = expiration_in_seconds``;

both with ``botocore.credentials.Credentials`` on a ``botocore.awsrequest.AWSRequest``
that is never sent.  The canonical request, string to sign and signature are the
values botocore's own ``canonical_request()``, ``string_to_sign()`` and
``signature()`` return while ``add_auth()`` runs (recorded by a thin subclass, not
recomputed).  The signed-request files are rendered from the headers / URL botocore
leaves on the request, in the order ``tests/sigv4/FORMAT.md`` specifies.

The clock is fixed: ``add_auth()`` reads the time from
``botocore.auth.get_current_datetime()`` (it overwrites any
``request.context['timestamp']`` set beforehand), so that function is patched to
return the case's timestamp, which is also written to ``context.json``.

Besides producing the files, the script cross-checks botocore's canonical requests
against the rules of FORMAT.md (a small independent implementation below, used only
to detect disagreements, never to produce output) and checks the AWS documentation
examples against their published signatures.  Any disagreement stops the script.

Usage (from the repository root):

    python3 tests/sigv4/s3-suite/generate.py           # (re)write the case folders
    python3 tests/sigv4/s3-suite/generate.py --check   # compare with the files on disk

Only the case folders listed in CASES are written (each is deleted and recreated);
nothing else in the folder is touched except README.md.
"""

import argparse
import datetime
import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field
from unittest import mock
from urllib.parse import quote, unquote, unquote_to_bytes, urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.utils import percent_encode

HERE = os.path.dirname(os.path.abspath(__file__))
BOTOCORE_VERSION = botocore.__version__

AKID = 'AKIDEXAMPLE'
SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'
SUITE_TIME = '2015-08-30T12:36:00Z'

# The AWS S3 documentation examples (Signature Version 4, header-based and
# query-string authentication) use these.
DOCS_AKID = 'AKIAIOSFODNN7EXAMPLE'
DOCS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
DOCS_TIME = '2013-05-24T00:00:00Z'

# An STS-style session token with characters that need percent-encoding in a query.
SESSION_TOKEN = (
    'IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/TOKEN+'
    'value/with=padding=='
)

UPLOAD_ID = 'VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRz.IHVwbG9hZA-_~x'
CONTINUATION_TOKEN = '1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM='

SHA256_EMPTY = hashlib.sha256(b'').hexdigest()
FILES = (
    'header-canonical-request.txt',
    'header-string-to-sign.txt',
    'header-signature.txt',
    'header-signed-request.txt',
    'query-canonical-request.txt',
    'query-string-to-sign.txt',
    'query-signature.txt',
    'query-signed-request.txt',
)
# FORMAT.md: order of the parameters appended to the target by query signing.
QUERY_AUTH_ORDER = (
    'X-Amz-Algorithm',
    'X-Amz-Credential',
    'X-Amz-Date',
    'X-Amz-SignedHeaders',
    'X-Amz-Expires',
    'X-Amz-Security-Token',
    'X-Amz-Signature',
)
# FORMAT.md: headers never signed.
FORMAT_UNSIGNED_HEADERS = ('authorization', 'user-agent', 'expect', 'x-amzn-trace-id')


def enc_key(key):
    """Percent-encode an object key the way botocore's REST serializer does for a
    greedy ``{Key+}`` label: ``percent_encode(key, safe='/~')``."""
    return percent_encode(key, safe='/~')


def enc_val(value):
    """Percent-encode a query value the way botocore does (``percent_encode``,
    unreserved ``-._~`` kept, ``/`` as ``%2F``)."""
    return percent_encode(value)


@dataclass
class Case:
    name: str
    summary: str           # one line for the READMEs
    method: str
    target: str            # path and query as on the wire (already encoded)
    headers: list          # [(name, value)] in request order; Host first
    body: bytes = b''
    scheme: str = 'https'
    region: str = 'us-east-1'
    access_key: str = AKID
    secret_key: str = SECRET
    token: str = None
    timestamp: str = SUITE_TIME
    expires: int = 3600
    signed_body_value: str = None
    # botocore: S3SigV4Auth only honours an explicit client config for this
    # (request.context['client_config'].s3['payload_signing_enabled']).
    botocore_payload_signing: bool = None
    notes: list = field(default_factory=list)
    # Published signatures (AWS documentation examples) to check botocore against.
    docs_header_signature: str = None
    docs_query_signature: str = None
    docs_source: str = None


CASES = [
    Case(
        name='s3-upload-part-unsigned-payload',
        summary='UploadPart (PUT ?partNumber&uploadId) over https with an unsigned payload '
                '(`signed_body_value` = `UNSIGNED-PAYLOAD`); User-Agent and Expect not signed.',
        method='PUT',
        target='/photos/2015/08/movie.m2ts?partNumber=3&uploadId=' + enc_val(UPLOAD_ID),
        headers=[
            ('Host', 'examplebucket.s3.amazonaws.com'),
            ('Content-Length', '27'),
            ('User-Agent', 'Boto3/1.43.0 md/Botocore#1.43.0 ua/2.1 os/linux'),
            ('Expect', '100-continue'),
        ],
        body=b'part 3 of a multipart movie',
        signed_body_value='UNSIGNED-PAYLOAD',
        botocore_payload_signing=False,
        notes=[
            'The upload id contains `-`, `_`, `.` and `~`, which stay unencoded.',
            'Payload signing was switched off in botocore with '
            "`request.context['client_config'] = Config(s3={'payload_signing_enabled': False})`. "
            "botocore 1.43's S3SigV4Auth ignores `request.context['payload_signing_enabled']` "
            '(it only looks at the client config, or at https plus a Content-MD5/checksum header); '
            'so the header canonical request ends in `UNSIGNED-PAYLOAD` and botocore set '
            '`X-Amz-Content-SHA256: UNSIGNED-PAYLOAD`.',
            '`User-Agent` and `Expect` are in the request but not signed: botocore\'s '
            '`headers_to_sign` skips them (its list also has `x-amzn-trace-id`, `connection`, '
            '`keep-alive`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `proxy-*`).',
        ],
    ),
    Case(
        name='s3-create-multipart-upload',
        summary='CreateMultipartUpload (POST ?uploads): a query name without `=` '
                '(canonical `uploads=`), x-amz-* headers, inner spaces folded.',
        method='POST',
        target='/photos/2015/08/movie.m2ts?uploads',
        headers=[
            ('Host', 'examplebucket.s3.amazonaws.com'),
            ('Content-Type', 'video/MP2T'),
            ('x-amz-storage-class', 'STANDARD_IA'),
            ('X-Amz-Meta-Title', 'My   holiday  movie'),
        ],
        notes=[
            'No body: the payload hash is SHA-256 of the empty string.',
            'The query name `uploads` has no `=`; the canonical query is `uploads=`.',
            'botocore\'s presigned URL re-serialises the operation parameters and writes '
            '`?uploads=&X-Amz-...`; `query-signed-request.txt` keeps the target as sent '
            '(`?uploads&X-Amz-...`), as FORMAT.md says. The signature is unaffected.',
            '`X-Amz-Meta-Title` has runs of spaces that the canonical form folds to one.',
        ],
    ),
    Case(
        name='s3-complete-multipart-upload',
        summary='CompleteMultipartUpload (POST ?uploadId) with an XML body; '
                'payload hash = SHA-256 of the body.',
        method='POST',
        target='/photos/2015/08/movie.m2ts?uploadId=' + enc_val(UPLOAD_ID),
        headers=[
            ('Host', 'examplebucket.s3.amazonaws.com'),
            ('Content-Type', 'application/xml'),
            ('Content-Length', None),  # filled in from the body
        ],
        body=(
            b'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">\n'
            b'  <Part><ETag>"7778aef83f66abc1fa1e8477f296d394"</ETag><PartNumber>1</PartNumber></Part>\n'
            b'  <Part><ETag>"aaaa18db4cc2f85cedef654fccc4a4d8"</ETag><PartNumber>2</PartNumber></Part>\n'
            b'</CompleteMultipartUpload>'
        ),
        notes=[
            'https, no Content-MD5: botocore signs the payload, so the header canonical '
            'request ends in SHA-256 of the body (query signing always uses `UNSIGNED-PAYLOAD`).',
            'The body has inner `\\n` line ends and no trailing newline.',
        ],
    ),
    Case(
        name='s3-get-object-range-if-match',
        summary='GetObject with `Range: bytes=0-8388607` and `If-Match` with a quoted ETag; '
                'X-Amzn-Trace-Id not signed.',
        method='GET',
        target='/photos/2015/08/movie.m2ts',
        headers=[
            ('Host', 'examplebucket.s3.amazonaws.com'),
            ('Range', 'bytes=0-8388607'),
            ('If-Match', '"9b2cf535f27731c974343645a3985328"'),
            ('X-Amzn-Trace-Id', 'Root=1-5759e988-bd862e3fe1be46a994272793'),
        ],
        notes=[
            'The quotes of the ETag are part of the signed header value.',
            '`X-Amzn-Trace-Id` is in the request but not signed (botocore\'s `headers_to_sign` '
            'skips `x-amzn-trace-id`, like `user-agent` and `expect`).',
        ],
    ),
    Case(
        name='s3-key-special-characters',
        summary='Key `dir/my key+a=b~c/ünï-✓.tar`: space, `+`, `=`, `~` and UTF-8, '
                'percent-encoded once.',
        method='GET',
        target='/' + enc_key('dir/my key+a=b~c/ünï-✓.tar'),
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        notes=[
            'The key was encoded with botocore\'s own rule for a greedy `{Key+}` label, '
            '`percent_encode(key, safe="/~")`: space `%20`, `+` `%2B`, `=` `%3D`, `~` kept, '
            'UTF-8 bytes as upper-case `%XX`. S3 signing uses this path as is (encoded once, '
            'not again).',
        ],
    ),
    Case(
        name='s3-key-unnormalized-dot-segments',
        summary='Key `a//b/./c/../d.txt`: `//`, `./` and `../` kept, no normalisation.',
        method='GET',
        target='/' + enc_key('a//b/./c/../d.txt'),
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        notes=[
            'S3SigV4Auth / S3SigV4QueryAuth override `_normalize_url_path` to return the path '
            'unchanged, so the canonical path is exactly the path sent.',
        ],
    ),
    Case(
        name='s3-session-token',
        summary='Temporary credentials: session token as `X-Amz-Security-Token` header (signed) '
                'and as query parameter.',
        method='GET',
        target='/photos/2015/08/puppy.jpg',
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        token=SESSION_TOKEN,
        notes=[
            'The token contains `/`, `+` and `=`: raw in the header, `%2F`, `%2B`, `%3D` in the '
            'query. With header signing it is a signed header; with query signing it is a '
            'signed query parameter and not a header.',
        ],
    ),
    Case(
        name='s3-presigned-get',
        summary='Presigned GetObject URL (the query files are the point): plain GET, '
                'no extra headers, X-Amz-Expires=900.',
        method='GET',
        target='/reports/2015/summary.pdf',
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        expires=900,
        notes=[
            'Query signing signs only `host` and uses `UNSIGNED-PAYLOAD`.',
            '`expiration_in_seconds` is 900 here (3600 elsewhere) to check that '
            '`X-Amz-Expires` comes from context.json.',
        ],
    ),
    Case(
        name='s3-virtual-hosted-host',
        summary='Virtual-hosted-style addressing: `Host: examplebucket.s3.us-west-2.amazonaws.com`, '
                'path `/photos/puppy.jpg`, region us-west-2.',
        method='GET',
        target='/photos/puppy.jpg',
        headers=[('Host', 'examplebucket.s3.us-west-2.amazonaws.com')],
        region='us-west-2',
        notes=['Same object as `s3-path-style-host`, addressed by the host name.'],
    ),
    Case(
        name='s3-path-style-host',
        summary='Path-style addressing: `Host: s3.us-west-2.amazonaws.com`, path '
                '`/examplebucket/photos/puppy.jpg`, region us-west-2.',
        method='GET',
        target='/examplebucket/photos/puppy.jpg',
        headers=[('Host', 's3.us-west-2.amazonaws.com')],
        region='us-west-2',
        notes=['Same object as `s3-virtual-hosted-host`, with the bucket in the path.'],
    ),
    Case(
        name='s3-custom-endpoint-port',
        summary='Custom endpoint `http://127.0.0.1:9000` (path-style, port in Host), '
                'PutObject with a signed body.',
        method='PUT',
        target='/examplebucket/uploads/data.csv',
        headers=[
            ('Host', '127.0.0.1:9000'),
            ('Content-Type', 'text/csv'),
            ('Content-Length', None),
        ],
        body=b'id,name\n1,alice\n2,bob',
        scheme='http',
        notes=[
            'The URL given to botocore was `http://127.0.0.1:9000/...`; botocore derived the '
            'signed `host` value `127.0.0.1:9000` from it (a non-default port is kept).',
            'Over http botocore always signs the payload: the header canonical request ends in '
            'SHA-256 of the body.',
        ],
    ),
    Case(
        name='s3-list-objects-v2-encoded-query',
        summary='ListObjectsV2 `GET /?list-type=2&prefix=a%2Fb%20c&continuation-token=...'
                '&delimiter=%2F`: encoded `/`, space and `=` in query values; sorting.',
        method='GET',
        target='/?list-type=2&prefix=' + enc_val('a/b c') + '&continuation-token='
               + enc_val(CONTINUATION_TOKEN) + '&delimiter=' + enc_val('/'),
        headers=[('Host', 'examplebucket.s3.us-west-2.amazonaws.com')],
        region='us-west-2',
        notes=[
            'The query is sent unsorted; the canonical query sorts it '
            '(`continuation-token`, `delimiter`, `list-type`, `prefix`). Values stay '
            'encoded as sent (`%2F`, `%20`, `%3D`).',
        ],
    ),
    Case(
        name='s3-put-object-content-sha256-in-request',
        summary='PutObject whose request already carries `x-amz-content-sha256` (the body\'s '
                'SHA-256): not added again, and query signing signs that value.',
        method='PUT',
        target='/notes/todo.txt',
        headers=[
            ('Host', 'examplebucket.s3.amazonaws.com'),
            ('Content-Type', 'text/plain'),
            ('Content-Length', None),
            ('x-amz-content-sha256', None),  # filled in: SHA-256 of the body
        ],
        body=b'buy milk; call home',
        notes=[
            'Header signing: botocore\'s S3SigV4Auth replaces the header with its own payload '
            'hash (here the same value, SHA-256 of the body); `header-signed-request.txt` shows '
            'the header once, where the request had it.',
            'Query signing: botocore\'s canonical request takes the payload hash from an '
            '`X-Amz-Content-SHA256` header when there is one, so the query canonical request '
            'ends in that value (not `UNSIGNED-PAYLOAD`) and the header is signed, as in '
            'FORMAT.md\'s order (signed_body_value, header, UNSIGNED-PAYLOAD, SHA-256).',
        ],
    ),
    # AWS S3 documentation examples ("Signature Calculations for the Authorization Header"
    # and "Authenticating Requests: Using Query Parameters"), cross-checked against the
    # published signatures.
    Case(
        name='s3-docs-get-object-range',
        summary='AWS S3 documentation example "GET Object" (Range: bytes=0-9); '
                'header signature checked against the published one.',
        method='GET',
        target='/test.txt',
        headers=[('Host', 'examplebucket.s3.amazonaws.com'), ('Range', 'bytes=0-9')],
        access_key=DOCS_AKID, secret_key=DOCS_SECRET, timestamp=DOCS_TIME,
        docs_header_signature='f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
        docs_source='https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html',
    ),
    Case(
        name='s3-docs-get-bucket-lifecycle',
        summary='AWS S3 documentation example "GET Bucket Lifecycle" (`?lifecycle`); '
                'header signature checked against the published one.',
        method='GET',
        target='/?lifecycle',
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        access_key=DOCS_AKID, secret_key=DOCS_SECRET, timestamp=DOCS_TIME,
        docs_header_signature='fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543',
        docs_source='https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html',
    ),
    Case(
        name='s3-docs-list-objects',
        summary='AWS S3 documentation example "Get Bucket (List Objects)" (`?max-keys=2&prefix=J`); '
                'header signature checked against the published one.',
        method='GET',
        target='/?max-keys=2&prefix=J',
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        access_key=DOCS_AKID, secret_key=DOCS_SECRET, timestamp=DOCS_TIME,
        docs_header_signature='34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
        docs_source='https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html',
    ),
    Case(
        name='s3-docs-presigned-get',
        summary='AWS S3 documentation example presigned URL (GET /test.txt, 86400 s); '
                'query signature checked against the published one.',
        method='GET',
        target='/test.txt',
        headers=[('Host', 'examplebucket.s3.amazonaws.com')],
        access_key=DOCS_AKID, secret_key=DOCS_SECRET, timestamp=DOCS_TIME, expires=86400,
        docs_query_signature='aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
        docs_source='https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html',
    ),
]


# --------------------------------------------------------------------------------------
# Recording signers: botocore's own methods, with their results kept.

class _Recording:
    def _records(self):
        if not hasattr(self, 'recorded'):
            self.recorded = {'canonical_request': [], 'string_to_sign': [], 'signature': []}
        return self.recorded

    def canonical_request(self, request):
        value = super().canonical_request(request)
        self._records()['canonical_request'].append(value)
        return value

    def string_to_sign(self, request, canonical_request):
        value = super().string_to_sign(request, canonical_request)
        self._records()['string_to_sign'].append(value)
        return value

    def signature(self, string_to_sign, request):
        value = super().signature(string_to_sign, request)
        self._records()['signature'].append(value)
        return value

    def single(self, what):
        values = self._records()[what]
        if len(values) != 1:
            raise AssertionError(f'botocore called {what}() {len(values)} times')
        return values[0]


class RecordingS3SigV4Auth(_Recording, botocore.auth.S3SigV4Auth):
    pass


class RecordingS3SigV4QueryAuth(_Recording, botocore.auth.S3SigV4QueryAuth):
    pass


# --------------------------------------------------------------------------------------
# request.txt

def build_request_text(case):
    lines = [f'{case.method} {case.target} HTTP/1.1']
    lines += [f'{name}:{value}' for name, value in case.headers]
    text = ''.join(line + '\n' for line in lines).encode('utf-8')
    if case.body:
        text += b'\n' + case.body
    return text


def parse_request_text(data):
    """Parse request.txt as FORMAT.md describes (used to feed botocore from the very
    bytes that are written)."""
    head, sep, body = data.partition(b'\n\n')
    if not sep:
        head, body = data, b''
    text = head.decode('utf-8').replace('\r', '')
    lines = [line for line in text.split('\n')]
    while lines and lines[-1] == '':
        lines.pop()
    method, target, version = lines[0].split(' ')
    assert version == 'HTTP/1.1'
    headers = []
    for line in lines[1:]:
        if line[:1] in (' ', '\t'):
            raise ValueError('continuation lines are not used by the S3 cases')
        name, _, value = line.partition(':')
        headers.append((name, value))
    return method, target, headers, body


def fill_headers(case):
    """Fill in the headers whose value depends on the body."""
    filled = []
    for name, value in case.headers:
        if value is None:
            if name.lower() == 'content-length':
                value = str(len(case.body))
            elif name.lower() == 'x-amz-content-sha256':
                value = hashlib.sha256(case.body).hexdigest()
            else:
                raise ValueError(name)
        filled.append((name, value))
    case.headers = filled


# --------------------------------------------------------------------------------------
# FORMAT.md rules, implemented independently only to detect disagreements with botocore.

UNRESERVED = '-_.~'


def format_encode(raw_bytes):
    return quote(raw_bytes, safe=UNRESERVED)


def format_canonical_query(pairs):
    out = []
    for name, value in pairs:
        out.append((format_encode(unquote_to_bytes(name)), format_encode(unquote_to_bytes(value))))
    return '&'.join(f'{n}={v}' for n, v in sorted(out))


def split_query(query):
    pairs = []
    if query:
        for item in query.split('&'):
            name, _, value = item.partition('=')
            pairs.append((name, value))
    return pairs


def format_payload_hash(case, mode, headers):
    if case.signed_body_value is not None:
        return case.signed_body_value
    for name, value in headers:
        if name.lower() == 'x-amz-content-sha256':
            return value.strip()
    if mode == 'query':
        return 'UNSIGNED-PAYLOAD'
    return hashlib.sha256(case.body).hexdigest()


def format_canonical_request(case, mode, method, target, headers, ts):
    path, _, query = target.partition('?')
    pairs = split_query(query)
    sign_headers = list(headers)
    amz_date = ts.strftime('%Y%m%dT%H%M%SZ')
    payload = format_payload_hash(case, mode, headers)
    if mode == 'header':
        if case.token:
            sign_headers.append(('X-Amz-Security-Token', case.token))
        sign_headers.append(('X-Amz-Date', amz_date))
        if not any(n.lower() == 'x-amz-content-sha256' for n, _ in headers):
            sign_headers.append(('x-amz-content-sha256', payload))
    grouped = {}
    for name, value in sign_headers:
        lname = name.lower()
        if lname in FORMAT_UNSIGNED_HEADERS:
            continue
        grouped.setdefault(lname, []).append(' '.join(v for v in value.strip().split(' ') if v))
    names = sorted(grouped)
    if mode == 'query':
        scope = f'{case.access_key}/{amz_date[:8]}/{case.region}/s3/aws4_request'
        auth = [('X-Amz-Algorithm', 'AWS4-HMAC-SHA256'), ('X-Amz-Credential', scope),
                ('X-Amz-Date', amz_date), ('X-Amz-SignedHeaders', ';'.join(names)),
                ('X-Amz-Expires', str(case.expires))]
        if case.token:
            auth.append(('X-Amz-Security-Token', case.token))
        pairs += [(format_encode(n.encode()), format_encode(v.encode())) for n, v in auth]
    return '\n'.join([
        method,
        path,
        format_canonical_query(pairs),
        ''.join(f'{n}:{",".join(grouped[n])}\n' for n in names),
        ';'.join(names),
        payload,
    ])


# --------------------------------------------------------------------------------------
# Signing

def fixed_clock(ts):
    return mock.patch.object(
        botocore.auth, 'get_current_datetime', lambda remove_tzinfo=True: ts)


def make_request(case, method, target, headers, with_body):
    host = dict((n.lower(), v) for n, v in headers)['host']
    req = AWSRequest(method=method, url=f'{case.scheme}://{host}{target}',
                     data=case.body if (with_body and case.body) else None)
    # Host is not passed as a header: botocore derives the signed host value from the
    # URL (as it does for real requests); we check it equals request.txt's Host.
    for name, value in headers:
        if name.lower() != 'host':
            req.headers[name] = value
    if case.botocore_payload_signing is not None:
        req.context['client_config'] = Config(
            s3={'payload_signing_enabled': case.botocore_payload_signing})
    return req


def canonical_host_line(canonical_request):
    for line in canonical_request.split('\n'):
        if line.startswith('host:'):
            return line[len('host:'):]
    raise AssertionError('no host in canonical request')


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def sign_header(case, method, target, headers, body, ts):
    creds = Credentials(case.access_key, case.secret_key, case.token)
    signer = RecordingS3SigV4Auth(creds, 's3', case.region)
    req = make_request(case, method, target, headers, with_body=True)
    before = list(req.headers.items())
    with fixed_clock(ts):
        signer.add_auth(req)
    cr = signer.single('canonical_request')
    sts = signer.single('string_to_sign')
    sig = signer.single('signature')
    check(req.context['timestamp'] == ts.strftime('%Y%m%dT%H%M%SZ'), 'clock not fixed')
    check(req.url == f'{case.scheme}://{dict((n.lower(), v) for n, v in headers)["host"]}{target}',
          'botocore changed the URL in header signing')

    after = list(req.headers.items())
    added_names = {'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256', 'authorization'}
    # Headers of the request must be untouched, except an x-amz-content-sha256 that
    # botocore deletes and sets again (its value must be the one sent).
    given_sha = [v for n, v in before if n.lower() == 'x-amz-content-sha256']
    kept_before = [(n, v) for n, v in before if n.lower() != 'x-amz-content-sha256']
    kept_after = [(n, v) for n, v in after if n.lower() not in added_names]
    check(kept_before == kept_after, f'botocore changed request headers: {before} -> {after}')
    added = {n.lower(): v for n, v in after if n.lower() in added_names}
    check(len([n for n, _ in after if n.lower() in added_names]) == len(added),
          'a header added twice')
    if given_sha:
        check(added['x-amz-content-sha256'] == given_sha[0],
              f'botocore replaced x-amz-content-sha256 {given_sha[0]} with '
              f'{added["x-amz-content-sha256"]}')
    check(('x-amz-security-token' in added) == bool(case.token), 'security token header')
    check(set(added) >= {'x-amz-date', 'x-amz-content-sha256', 'authorization'},
          f'missing added headers: {added}')
    auth = added['authorization']
    check(auth.endswith(f', Signature={sig}'), f'Authorization signature != botocore signature: {auth}')
    check(cr.rsplit('\n', 1)[1] == added['x-amz-content-sha256'],
          'payload hash != X-Amz-Content-SHA256')

    # Render per FORMAT.md.
    out = f'{method} {target} HTTP/1.1\n'
    out += ''.join(f'{n}:{v}\n' for n, v in headers)
    if case.token:
        out += f'X-Amz-Security-Token:{added["x-amz-security-token"]}\n'
    out += f'X-Amz-Date:{added["x-amz-date"]}\n'
    if not given_sha:
        out += f'x-amz-content-sha256:{added["x-amz-content-sha256"]}\n'
    out += f'Authorization:{auth}\n'
    signed_request = out.encode('utf-8') + b'\n' + body
    return cr, sts, sig, signed_request


def sign_query(case, method, target, headers, body, ts):
    creds = Credentials(case.access_key, case.secret_key, case.token)
    signer = RecordingS3SigV4QueryAuth(creds, 's3', case.region, expires=case.expires)
    # SigV4QueryAuth moves request.data into the query string (it expects form/JSON
    # parameters), so the body is not given to botocore here; S3 query signing never
    # reads it (payload is the constant UNSIGNED-PAYLOAD).
    req = make_request(case, method, target, headers, with_body=False)
    before = list(req.headers.items())
    check(req.headers.get('content-type') != 'application/x-www-form-urlencoded; charset=utf-8',
          'botocore presigning would drop this content-type')
    with fixed_clock(ts):
        signer.add_auth(req)
    cr = signer.single('canonical_request')
    sts = signer.single('string_to_sign')
    sig = signer.single('signature')
    check(list(req.headers.items()) == before, 'botocore changed headers in query signing')

    parts = urlsplit(req.url)
    host = dict((n.lower(), v) for n, v in headers)['host']
    path, _, orig_query = target.partition('?')
    check(parts.path == path and parts.netloc == host, f'botocore changed the URL: {req.url}')
    pairs = split_query(parts.query)
    op_pairs = [(n, v) for n, v in pairs if not n.startswith('X-Amz-')]
    auth_pairs = dict((n, v) for n, v in pairs if n.startswith('X-Amz-'))
    check(len(auth_pairs) == len([1 for n, _ in pairs if n.startswith('X-Amz-')]),
          'repeated X-Amz- parameter')
    check(pairs[:len(op_pairs)] == op_pairs, 'operation parameters not first')
    orig_pairs = split_query(orig_query)
    check(len({n for n, _ in orig_pairs}) == len(orig_pairs),
          'botocore keeps only one value per query name: avoid repeated names')
    decoded = lambda ps: [(unquote(n), unquote(v)) for n, v in ps]
    check(decoded(op_pairs) == decoded(orig_pairs),
          f'botocore changed the operation parameters: {orig_pairs} -> {op_pairs}')
    check(auth_pairs.get('X-Amz-Signature') == sig, 'X-Amz-Signature != botocore signature')
    check(('X-Amz-Security-Token' in auth_pairs) == bool(case.token), 'security token param')
    check(set(auth_pairs) <= set(QUERY_AUTH_ORDER), f'unexpected parameters {auth_pairs}')
    check(auth_pairs['X-Amz-Expires'] == str(case.expires), 'X-Amz-Expires')

    ordered = [f'{n}={auth_pairs[n]}' for n in QUERY_AUTH_ORDER if n in auth_pairs]
    new_target = target + ('&' if orig_query else '?') + '&'.join(ordered)
    out = f'{method} {new_target} HTTP/1.1\n'
    out += ''.join(f'{n}:{v}\n' for n, v in headers)
    signed_request = out.encode('utf-8') + b'\n' + body
    return cr, sts, sig, signed_request


def parse_timestamp(text):
    return datetime.datetime.strptime(text, '%Y-%m-%dT%H:%M:%SZ')


def generate_case(case):
    fill_headers(case)
    request_txt = build_request_text(case)
    method, target, headers, body = parse_request_text(request_txt)
    check(body == case.body, 'body round trip')
    ts = parse_timestamp(case.timestamp)

    h_cr, h_sts, h_sig, h_req = sign_header(case, method, target, headers, body, ts)
    q_cr, q_sts, q_sig, q_req = sign_query(case, method, target, headers, body, ts)

    problems = []
    host = dict((n.lower(), v) for n, v in headers)['host']
    for mode, cr in (('header', h_cr), ('query', q_cr)):
        if canonical_host_line(cr) != host:
            problems.append(f'{mode}: botocore host {canonical_host_line(cr)!r} != Host {host!r}')
        expected = format_canonical_request(case, mode, method, target, headers, ts)
        if cr != expected:
            problems.append(f'{mode}: botocore canonical request differs from FORMAT.md rules\n'
                            f'--- botocore\n{cr}\n--- FORMAT.md\n{expected}')
        if cr.split('\n')[1] != target.partition('?')[0]:
            problems.append(f'{mode}: canonical path is not the path as sent')
    if case.signed_body_value is not None:
        check(h_cr.rsplit('\n', 1)[1] == case.signed_body_value,
              'header canonical request does not end in signed_body_value')
    check(q_cr.rsplit('\n', 1)[1] == format_payload_hash(case, 'query', headers),
          'query payload hash')
    for mode, cr, sts in (('header', h_cr, h_sts), ('query', q_cr, q_sts)):
        check(sts.rsplit('\n', 1)[1] == hashlib.sha256(cr.encode('utf-8')).hexdigest(),
              f'{mode}: string to sign does not hash the canonical request')
    if case.docs_header_signature and h_sig != case.docs_header_signature:
        problems.append(f'header signature {h_sig} != published {case.docs_header_signature}')
    if case.docs_query_signature and q_sig != case.docs_query_signature:
        problems.append(f'query signature {q_sig} != published {case.docs_query_signature}')
    if problems:
        raise AssertionError(f'{case.name}:\n' + '\n'.join(problems))

    context = {
        'credentials': {
            'access_key_id': case.access_key,
            'secret_access_key': case.secret_key,
        },
        'expiration_in_seconds': case.expires,
        'normalize': False,
        'region': case.region,
        'service': 's3',
        'sign_body': False,
        'timestamp': case.timestamp,
    }
    if case.token:
        context['credentials']['token'] = case.token
    if case.signed_body_value is not None:
        context['signed_body_value'] = case.signed_body_value

    files = {
        'context.json': json.dumps(context, indent=4, sort_keys=True, ensure_ascii=False).encode('utf-8'),
        'request.txt': request_txt,
        'header-canonical-request.txt': h_cr.encode('utf-8'),
        'header-string-to-sign.txt': h_sts.encode('utf-8'),
        'header-signature.txt': h_sig.encode('ascii'),
        'header-signed-request.txt': h_req,
        'query-canonical-request.txt': q_cr.encode('utf-8'),
        'query-string-to-sign.txt': q_sts.encode('utf-8'),
        'query-signature.txt': q_sig.encode('ascii'),
        'query-signed-request.txt': q_req,
        'README.md': case_readme(case).encode('utf-8'),
    }
    return files


def case_readme(case):
    lines = [
        f'# {case.name}',
        '',
        case.summary,
        '',
        '## How it was made',
        '',
        f'Generated by `tests/sigv4/s3-suite/generate.py` from botocore {BOTOCORE_VERSION}: '
        '`botocore.auth.S3SigV4Auth` for the `header-*` files and `botocore.auth.S3SigV4QueryAuth` '
        f'(expires = {case.expires}) for the `query-*` files, with `botocore.credentials.Credentials`, '
        'on a `botocore.awsrequest.AWSRequest` that was never sent. The canonical requests, strings '
        'to sign and signatures are the values botocore\'s `canonical_request()`, `string_to_sign()` '
        'and `signature()` returned during `add_auth()`; the signed-request files were rendered from '
        'the headers / URL botocore produced, in the order of FORMAT.md.',
        '',
        f'Fixed timestamp {case.timestamp} (botocore\'s `get_current_datetime` patched).',
        '',
        'Common to every case: the URL given to botocore was '
        f'`{case.scheme}://<Host><target>` without a Host header; botocore derived the signed `host` '
        'from it (checked equal to the Host line). botocore names the added payload header '
        '`X-Amz-Content-SHA256`; it is written `x-amz-content-sha256` per FORMAT.md, with '
        'botocore\'s value. Query signing uses `UNSIGNED-PAYLOAD` unless the request carries '
        'an `x-amz-content-sha256` header.',
    ]
    if case.body:
        lines += [
            '',
            'The body was given to botocore for header signing only: `SigV4QueryAuth` moves '
            '`request.data` into the query string (it expects form parameters), and S3 query '
            'signing does not read the body.',
        ]
    if case.notes:
        lines += ['', '## Notes', ''] + [f'- {n}' for n in case.notes]
    if case.docs_source:
        published = case.docs_header_signature or case.docs_query_signature
        kind = 'header' if case.docs_header_signature else 'query'
        lines += [
            '',
            '## Cross-check',
            '',
            f'This is the example of {case.docs_source} (credentials {case.access_key} / '
            f'{case.secret_key}, {case.timestamp}). botocore\'s {kind} signature equals the '
            f'published `{published}`; generate.py checks this on every run. The other mode\'s '
            'files are botocore\'s only.',
        ]
    return '\n'.join(lines) + '\n'


def suite_readme():
    lines = [
        '# S3 SigV4 cases',
        '',
        'Our own S3 (`"service": "s3"`) cases, in the layout of `../FORMAT.md`. All expected '
        f'files were produced by botocore {BOTOCORE_VERSION} (`S3SigV4Auth` for header signing, '
        '`S3SigV4QueryAuth` for query signing) with `generate.py`; each case folder\'s '
        '`README.md` says what it covers and anything botocore-specific.',
        '',
        'Regenerate (from the repository root; needs Python 3 and botocore, nothing else):',
        '',
        '```',
        'python3 tests/sigv4/s3-suite/generate.py',
        '```',
        '',
        '`python3 tests/sigv4/s3-suite/generate.py --check` compares the files on disk with what '
        'the installed botocore produces, without writing. The script is deterministic (fixed '
        'timestamps), rewrites only the case folders listed below and this README, and stops if '
        'botocore\'s canonical request disagrees with the rules of FORMAT.md, or if a '
        '`s3-docs-*` case no longer matches its published AWS signature.',
        '',
        '| case | covers |',
        '|---|---|',
    ]
    for case in CASES:
        lines.append(f'| `{case.name}` | {case.summary} |')
    lines += [
        '',
        'Credentials are `AKIDEXAMPLE` / `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY` at '
        f'{SUITE_TIME}, except the `s3-docs-*` cases, which reproduce the examples of the AWS S3 '
        f'documentation ({DOCS_AKID} / {DOCS_SECRET} at {DOCS_TIME}).',
        '',
        'botocore behaviour to know when reading these files:',
        '',
        '- `headers_to_sign` skips `expect`, `user-agent`, `x-amzn-trace-id` (and `connection`, '
        '`keep-alive`, `te`, `trailer`, `transfer-encoding`, `upgrade`, `proxy-authenticate`, '
        '`proxy-authorization`, which no case uses).',
        '- `S3SigV4Auth` always sets `X-Amz-Content-SHA256` (written `x-amz-content-sha256` here). '
        'Over https it signs the body unless told otherwise through '
        "`Config(s3={'payload_signing_enabled': False})` (or a Content-MD5/checksum header plus "
        "streaming input); `request.context['payload_signing_enabled']` alone is ignored for S3.",
        '- `S3SigV4QueryAuth` uses `UNSIGNED-PAYLOAD`, unless the request has an '
        '`X-Amz-Content-SHA256` header, whose value it then uses. It drops a Content-Type of '
        '`application/x-www-form-urlencoded; charset=utf-8` (no case uses it) and moves '
        '`request.data` into the query, so bodies were not given to it.',
        '- Header signing takes the query from the URL as is (split, sorted, not re-encoded); '
        'query signing decodes it with `parse_qs` and re-encodes it (so `?uploads` comes back as '
        '`?uploads=`, `+` would become a space, and repeated names would collapse). The cases send '
        'queries already encoded canonically, so both agree with FORMAT.md.',
    ]
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--check', action='store_true',
                        help='compare with the files on disk instead of writing them')
    args = parser.parse_args()

    names = [c.name for c in CASES]
    check(len(set(names)) == len(names), 'duplicate case names')
    outputs = {case.name: generate_case(case) for case in CASES}
    readme = suite_readme().encode('utf-8')

    if args.check:
        bad = []
        for name, files in outputs.items():
            folder = os.path.join(HERE, name)
            on_disk = set(os.listdir(folder)) if os.path.isdir(folder) else set()
            if on_disk != set(files):
                bad.append(f'{name}: files {sorted(on_disk ^ set(files))}')
            for fname, data in files.items():
                path = os.path.join(folder, fname)
                if not os.path.isfile(path) or open(path, 'rb').read() != data:
                    bad.append(f'{name}/{fname}')
        path = os.path.join(HERE, 'README.md')
        if not os.path.isfile(path) or open(path, 'rb').read() != readme:
            bad.append('README.md')
        if bad:
            print('differs from botocore ' + BOTOCORE_VERSION + ':\n  ' + '\n  '.join(bad))
            return 1
        print(f'{len(outputs)} cases match botocore {BOTOCORE_VERSION}')
        return 0

    for name, files in outputs.items():
        folder = os.path.join(HERE, name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(folder)
        for fname, data in files.items():
            with open(os.path.join(folder, fname), 'wb') as f:
                f.write(data)
    with open(os.path.join(HERE, 'README.md'), 'wb') as f:
        f.write(readme)
    stale = sorted(d for d in os.listdir(HERE)
                   if os.path.isdir(os.path.join(HERE, d)) and d not in outputs
                   and not d.startswith(('.', '__')))
    if stale:
        print('note: folders not made by this script (left alone): ' + ', '.join(stale))
    print(f'wrote {len(outputs)} cases with botocore {BOTOCORE_VERSION}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
