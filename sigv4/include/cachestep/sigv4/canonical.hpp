#pragma once
// SigV4 canonicalisation: the pure string functions that turn a request into its canonical form.
// Reference: AWS "Create a canonical request for Signature Version 4" (IAM user guide) and the aws-c-auth
// test suite in tests/sigv4/aws-suite.

#include <cachestep/sigv4/request.hpp>

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cachestep::sigv4 {

// AWS has two rule sets. S3 signs the path exactly as sent (keys may contain "//" or "./", which must not be
// collapsed) and wants x-amz-content-sha256 on every request; every other service normalises the path and
// URI-encodes the wire form again.
struct canonical_rules {
    bool normalize_path{true};          // remove "." and ".." segments, collapse runs of '/'
    bool double_uri_encode{true};       // encode the already-encoded wire path again ('%' becomes "%25")
    bool content_sha256_header{false};  // header signing adds and signs "x-amz-content-sha256: <payload hash>"

    static constexpr canonical_rules generic() { return {true, true, false}; }
    static constexpr canonical_rules s3() { return {false, false, true}; }
};

// AWS UriEncode: every byte except A-Z a-z 0-9 - _ . ~ (and '/' when keep_slash) as upper-case %XX.
void uri_encode(std::string_view in, bool keep_slash, std::string& out);
std::string uri_encode(std::string_view in, bool keep_slash);

// Decodes %XX escapes. A '%' not followed by two hex digits stays as it is; '+' stays '+' (it is not a
// space in SigV4, unlike HTML forms).
std::string percent_decode(std::string_view in);

// Removes "." and ".." segments and empty segments (RFC 3986 section 5.2.4, plus "//" -> "/"); keeps a
// trailing slash; never climbs above the root. "" becomes "/".
std::string normalize_path(std::string_view path);

// The canonical URI line for a wire path under the given rules. Without double encoding, the path is
// "encoded once": bytes that cannot travel raw are escaped, existing %XX escapes and '/' are kept, so an
// already-encoded path comes out unchanged.
std::string canonical_path(std::string_view wire_path, canonical_rules rules);

struct query_param {
    std::string name;   // decoded
    std::string value;  // decoded; "" for a name without '='
};

// Splits a wire query ("a=1&b&c=%2F") into decoded parameters, in order. Empty pieces ("a=1&&b") are dropped.
std::vector<query_param> parse_query(std::string_view wire_query);

// The canonical query line: each name and value encoded (uri_encode, '/' encoded too), sorted by encoded
// name then encoded value, joined as "n=v&n=v". Takes the parameters by value because it sorts them.
std::string canonical_query(std::vector<query_param> params);

// Headers that are never signed: authorization (it carries the signature) and those proxies and HTTP stacks
// add, drop or rewrite: user-agent, expect, x-amzn-trace-id and the hop-by-hop headers (botocore's list).
bool is_unsigned_header(std::string_view lower_case_name);

// A header value in canonical form: leading and trailing whitespace removed, inner runs of spaces and tabs
// folded into one space.
std::string canonical_header_value(std::string_view value);

struct canonical_header_block {
    std::string lines;           // "name:value\n" per distinct header, sorted by name
    std::string signed_headers;  // "name;name;..."
};

// Lower-cases names, joins repeated headers with ',' in the order given, sorts by name, skips unsigned ones.
canonical_header_block canonical_headers(std::span<const header_field> headers);

}  // namespace cachestep::sigv4
