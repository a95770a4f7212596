#include <cachestep/sigv4/signer.hpp>

#include <cachestep/sigv4/crypto.hpp>
#include <cachestep/sigv4/time.hpp>

#include "ascii.hpp"

#include <algorithm>

namespace cachestep::sigv4 {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";

bool is_token_char(char c)
{
    // RFC 9110 tchar.
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

// Region, service and access key id end up between '/' or ',' separators of the credential scope.
bool valid_scope_part(std::string_view s)
{
    return !s.empty() && s.find_first_of(std::string_view("/, \t\r\n\0", 7)) == std::string_view::npos;
}

bool valid_credentials(const credentials& c)
{
    // The token travels in a header: CR or LF in it would inject headers.
    return valid_scope_part(c.access_key_id) && !c.secret_access_key.empty() &&
           c.session_token.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos;
}

// Everything both signing forms check and compute before they differ.
struct prepared {
    std::string amz_date;  // 20150830T123600Z
    std::string scope;     // 20150830/us-east-1/s3/aws4_request
};

boost::system::result<prepared> prepare(const request_view& request, const credentials& creds,
                                        const signing_params& params)
{
    if (!is_token(request.method)) return sigv4_errc::invalid_method;
    if (request.path.empty() || request.path.front() != '/') return sigv4_errc::invalid_path;
    bool has_host = false;
    for (const auto& h : request.headers) {
        if (!is_token(h.name)) return sigv4_errc::invalid_header;
        if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
            return sigv4_errc::invalid_header;
        has_host = has_host || detail::ascii_iequals(h.name, "host");
    }
    if (!has_host) return sigv4_errc::missing_host_header;
    if (!valid_credentials(creds)) return sigv4_errc::invalid_credentials;
    if (!valid_scope_part(params.region) || !valid_scope_part(params.service)) return sigv4_errc::invalid_scope;
    if (params.payload_hash.empty() ||
        params.payload_hash.find_first_of(std::string_view(" \t\r\n\0", 5)) != std::string_view::npos)
        return sigv4_errc::invalid_payload_hash;

    prepared p;
    p.amz_date = format_amz_date(params.time);
    if (p.amz_date.empty()) return sigv4_errc::invalid_time;
    p.scope.append(p.amz_date, 0, 8).append("/").append(params.region).append("/").append(params.service).append(
        "/aws4_request");
    return p;
}

std::string make_canonical_request(const request_view& request, const signing_params& params,
                                   const std::string& canonical_query_line, const canonical_header_block& headers)
{
    std::string out;
    out.reserve(256 + request.path.size() + canonical_query_line.size() + headers.lines.size());
    out.append(request.method).push_back('\n');
    out.append(canonical_path(request.path, params.rules)).push_back('\n');
    out.append(canonical_query_line).push_back('\n');
    out.append(headers.lines).push_back('\n');
    out.append(headers.signed_headers).push_back('\n');
    out.append(params.payload_hash);
    return out;
}

std::string make_string_to_sign(const prepared& p, std::string_view canonical_request)
{
    std::string out;
    out.reserve(algorithm.size() + p.amz_date.size() + p.scope.size() + 67);
    out.append(algorithm).push_back('\n');
    out.append(p.amz_date).push_back('\n');
    out.append(p.scope).push_back('\n');
    out.append(sha256_hex(canonical_request));
    return out;
}

}  // namespace

boost::system::result<header_signing_result> signer::sign_headers(const request_view& request,
                                                                  const credentials& creds,
                                                                  const signing_params& params) const
{
    auto prep = prepare(request, creds, params);
    if (!prep) return prep.error();

    const bool sign_token = !creds.session_token.empty() && !params.omit_session_token;
    const bool adds_token = !creds.session_token.empty();

    // The request's headers, minus those this signature replaces, plus the ones it adds.
    std::vector<header_field> to_sign;
    to_sign.reserve(request.headers.size() + 3);
    for (const auto& h : request.headers) {
        if (detail::ascii_iequals(h.name, "x-amz-date") || (adds_token && detail::ascii_iequals(h.name, "x-amz-security-token")) ||
            (params.rules.content_sha256_header && detail::ascii_iequals(h.name, "x-amz-content-sha256")))
            continue;
        to_sign.push_back(h);
    }
    to_sign.push_back({"x-amz-date", prep->amz_date});
    if (sign_token) to_sign.push_back({"x-amz-security-token", creds.session_token});
    if (params.rules.content_sha256_header) to_sign.push_back({"x-amz-content-sha256", params.payload_hash});

    const auto headers = canonical_headers(to_sign);
    header_signing_result out;
    out.canonical_request =
        make_canonical_request(request, params, canonical_query(parse_query(request.query)), headers);
    out.string_to_sign = make_string_to_sign(*prep, out.canonical_request);
    const digest key = keys_.get(creds.secret_access_key, std::string_view(prep->amz_date).substr(0, 8),
                                 params.region, params.service);
    out.signature = to_hex(hmac_sha256(key, out.string_to_sign));

    if (adds_token) out.headers.push_back({"X-Amz-Security-Token", creds.session_token});
    out.headers.push_back({"X-Amz-Date", prep->amz_date});
    if (params.rules.content_sha256_header)
        out.headers.push_back({"x-amz-content-sha256", std::string(params.payload_hash)});
    std::string authorization;
    authorization.append(algorithm)
        .append(" Credential=")
        .append(creds.access_key_id)
        .append("/")
        .append(prep->scope)
        .append(", SignedHeaders=")
        .append(headers.signed_headers)
        .append(", Signature=")
        .append(out.signature);
    out.headers.push_back({"Authorization", std::move(authorization)});
    return out;
}

boost::system::result<query_signing_result> signer::presign(const request_view& request, const credentials& creds,
                                                            const signing_params& params,
                                                            std::chrono::seconds expires) const
{
    auto prep = prepare(request, creds, params);
    if (!prep) return prep.error();
    if (expires < std::chrono::seconds{1} || expires > max_presign_expiry) return sigv4_errc::invalid_expiry;

    const auto headers = canonical_headers(request.headers);
    const bool sign_token = !creds.session_token.empty() && !params.omit_session_token;

    query_signing_result out;
    out.params = {
        {"X-Amz-Algorithm", std::string(algorithm)},
        {"X-Amz-Credential", creds.access_key_id + "/" + prep->scope},
        {"X-Amz-Date", prep->amz_date},
        {"X-Amz-SignedHeaders", headers.signed_headers},
        {"X-Amz-Expires", std::to_string(expires.count())},
    };
    if (!creds.session_token.empty()) out.params.push_back({"X-Amz-Security-Token", creds.session_token});

    // Signed: the request's own parameters and ours, the token only when it is not omitted.
    auto signed_params = parse_query(request.query);
    for (const auto& p : out.params)
        if (sign_token || p.name != "X-Amz-Security-Token") signed_params.push_back(p);

    out.canonical_request = make_canonical_request(request, params, canonical_query(std::move(signed_params)), headers);
    out.string_to_sign = make_string_to_sign(*prep, out.canonical_request);
    const digest key = keys_.get(creds.secret_access_key, std::string_view(prep->amz_date).substr(0, 8),
                                 params.region, params.service);
    out.signature = to_hex(hmac_sha256(key, out.string_to_sign));
    out.params.push_back({"X-Amz-Signature", out.signature});

    for (const auto& p : out.params) {
        if (!out.query.empty()) out.query.push_back('&');
        out.query.append(p.name).push_back('=');
        uri_encode(p.value, false, out.query);
    }
    return out;
}

}  // namespace cachestep::sigv4
