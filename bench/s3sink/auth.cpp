#include "auth.hpp"

#include <cachestep/sigv4/canonical.hpp>
#include <cachestep/sigv4/crypto.hpp>

#include <boost/beast/core/string.hpp>

#include <vector>

namespace s3sink {
namespace http = boost::beast::http;
namespace sigv4 = cachestep::sigv4;

namespace {

std::string_view trim(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

auth_outcome deny(unsigned status, std::string code, std::string message)
{
    auth_outcome o;
    o.status = status;
    o.code = std::move(code);
    o.message = std::move(message);
    return o;
}

}  // namespace

auth_outcome check_sigv4(const http::request_header<>& req, std::string_view wire_path, std::string_view wire_query,
                         const auth_config& cfg, sigv4::signing_key_cache& keys)
{
    auto auth_it = req.find(http::field::authorization);
    if (auth_it == req.end()) {
        if (wire_query.find("X-Amz-Signature=") != std::string_view::npos)
            return deny(403, "AccessDenied", "presigned URLs are not supported by this sink");
        return deny(403, "AccessDenied", "Access Denied (no Authorization header; start the sink with --no-auth)");
    }
    std::string_view auth{auth_it->value().data(), auth_it->value().size()};
    constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
    if (auth.substr(0, algorithm.size()) != algorithm || auth.size() == algorithm.size() || auth[algorithm.size()] != ' ')
        return deny(400, "AuthorizationHeaderMalformed", "only AWS4-HMAC-SHA256 is supported");
    std::string_view credential, signed_headers, signature;
    std::string_view rest = auth.substr(algorithm.size() + 1);
    while (!rest.empty()) {
        auto comma = rest.find(',');
        std::string_view item = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        auto eq = item.find('=');
        if (eq == std::string_view::npos) continue;
        auto name = item.substr(0, eq), value = item.substr(eq + 1);
        if (name == "Credential") credential = value;
        else if (name == "SignedHeaders") signed_headers = value;
        else if (name == "Signature") signature = value;
    }
    if (credential.empty() || signed_headers.empty() || signature.empty())
        return deny(400, "AuthorizationHeaderMalformed", "Authorization lacks Credential, SignedHeaders or Signature");

    // Credential=AKID/20260101/us-east-1/s3/aws4_request
    auto slash = credential.find('/');
    if (slash == std::string_view::npos)
        return deny(400, "AuthorizationHeaderMalformed", "malformed Credential");
    std::string_view access_key = credential.substr(0, slash);
    std::string_view scope = credential.substr(slash + 1);
    std::vector<std::string_view> scope_parts;
    for (std::string_view s = scope;;) {
        auto p = s.find('/');
        scope_parts.push_back(s.substr(0, p));
        if (p == std::string_view::npos) break;
        s = s.substr(p + 1);
    }
    if (scope_parts.size() != 4 || scope_parts[3] != "aws4_request" || scope_parts[0].size() != 8)
        return deny(400, "AuthorizationHeaderMalformed", "malformed credential scope");
    if (access_key != cfg.access_key)
        return deny(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");

    std::string_view amz_date;
    if (auto it = req.find("x-amz-date"); it != req.end()) amz_date = {it->value().data(), it->value().size()};
    if (amz_date.size() != 16 || amz_date.substr(0, 8) != scope_parts[0])
        return deny(403, "AccessDenied", "X-Amz-Date missing, malformed or not matching the credential scope date");

    std::string_view payload_hash;
    if (auto it = req.find("x-amz-content-sha256"); it != req.end())
        payload_hash = {it->value().data(), it->value().size()};
    if (payload_hash.empty())
        return deny(400, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");

    // Canonical headers: exactly the ones the client signed, values of repeated fields joined with ','.
    std::string header_lines;
    for (std::string_view names = signed_headers; !names.empty();) {
        auto semi = names.find(';');
        std::string_view name = names.substr(0, semi);
        names = semi == std::string_view::npos ? std::string_view{} : names.substr(semi + 1);
        std::string joined;
        bool found = false;
        for (const auto& f : req) {
            if (!boost::beast::iequals(f.name_string(), name)) continue;
            if (found) joined.push_back(',');
            joined += sigv4::canonical_header_value({f.value().data(), f.value().size()});
            found = true;
        }
        if (!found)
            return deny(403, "AccessDenied",
                        "a header named in SignedHeaders is missing from the request: " + std::string(name));
        header_lines.append(name).push_back(':');
        header_lines.append(joined).push_back('\n');
    }

    auth_outcome out;
    std::string& canonical = out.canonical_request;
    canonical.append(req.method_string().data(), req.method_string().size()).push_back('\n');
    canonical.append(sigv4::canonical_path(wire_path, sigv4::canonical_rules::s3())).push_back('\n');
    canonical.append(sigv4::canonical_query(sigv4::parse_query(wire_query))).push_back('\n');
    canonical.append(header_lines).push_back('\n');
    canonical.append(signed_headers).push_back('\n');
    canonical.append(payload_hash);

    std::string& sts = out.string_to_sign;
    sts.append(algorithm).push_back('\n');
    sts.append(amz_date).push_back('\n');
    sts.append(scope).push_back('\n');
    sts.append(sigv4::sha256_hex(canonical));

    const auto key = keys.get(cfg.secret_key, scope_parts[0], scope_parts[1], scope_parts[2]);
    const std::string expected = sigv4::to_hex(sigv4::hmac_sha256(key, sts));
    unsigned char diff = expected.size() == signature.size() ? 0 : 1;
    for (std::size_t i = 0; i < expected.size() && i < signature.size(); ++i)
        diff |= static_cast<unsigned char>(expected[i] ^ signature[i]);
    if (diff != 0) {
        out.ok = false;
        out.status = 403;
        out.code = "SignatureDoesNotMatch";
        out.message = "The request signature we calculated does not match the signature you provided. Check your "
                      "key and signing method.";
        return out;
    }
    out.ok = true;
    out.status = 200;
    out.signature = expected;
    out.amz_date = std::string(amz_date);
    out.scope = std::string(scope);
    out.key = key;
    return out;
}

}  // namespace s3sink
