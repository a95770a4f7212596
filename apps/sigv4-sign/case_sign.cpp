// Computes the eight expected files of a SigV4 test case with cachestep::sigv4.
#include "signing_case.hpp"

#include <cachestep/sigv4/crypto.hpp>
#include <cachestep/sigv4/signer.hpp>

#include <algorithm>

namespace cachestep::sigv4_case {
namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

const parsed_header* find_header(const http_request& r, std::string_view name)
{
    for (const auto& h : r.headers)
        if (iequals(h.name, name)) return &h;
    return nullptr;
}

// Header lines as given, without those the signature replaces.
std::string kept_header_lines(const http_request& r, const std::vector<sigv4::added_header>& added)
{
    std::string out;
    for (const auto& h : r.headers) {
        const bool replaced = std::any_of(added.begin(), added.end(),
                                          [&](const sigv4::added_header& a) { return iequals(a.name, h.name); });
        if (replaced) continue;
        for (const auto& line : h.raw_lines) out.append(line).push_back('\n');
    }
    return out;
}

std::string error_text(const boost::system::error_code& ec)
{
    return "cannot sign: " + ec.message();
}

}  // namespace

const std::vector<std::string>& output_file_names()
{
    static const std::vector<std::string> names = {
        "header-canonical-request.txt", "header-string-to-sign.txt", "header-signature.txt",
        "header-signed-request.txt",    "query-canonical-request.txt", "query-string-to-sign.txt",
        "query-signature.txt",          "query-signed-request.txt",
    };
    return names;
}

case_outputs sign_case(const signing_case& c)
{
    const auto& ctx = c.ctx;
    const auto& req = c.request;

    const auto question = req.target.find('?');
    const std::string path = req.target.substr(0, question);
    const std::string query = question == std::string::npos ? "" : req.target.substr(question + 1);
    std::vector<sigv4::header_field> fields;
    for (const auto& h : req.headers) fields.push_back({h.name, h.value});
    const sigv4::request_view view{req.method, path, query, fields};

    // Payload hash, first found (FORMAT.md): signed_body_value; for S3 an x-amz-content-sha256 header already
    // in the request; for S3 query signing UNSIGNED-PAYLOAD; SHA-256 of the body.
    const auto* content_sha = find_header(req, "x-amz-content-sha256");
    const std::string body_hash = sigv4::sha256_hex(req.body);
    std::string header_payload = body_hash, query_payload = body_hash;
    if (ctx.is_s3() && content_sha) header_payload = query_payload = sigv4::canonical_header_value(content_sha->value);
    else if (ctx.is_s3()) query_payload = std::string(sigv4::unsigned_payload);
    if (ctx.signed_body_value) header_payload = query_payload = *ctx.signed_body_value;

    sigv4::signing_params params;
    params.region = ctx.region;
    params.service = ctx.service;
    params.time = ctx.time;
    // x-amz-content-sha256 is added for sign_body, and for S3 unless the request already carries it.
    params.rules = {ctx.normalize, ctx.double_uri_encode, ctx.sign_body || (ctx.is_s3() && !content_sha)};
    params.omit_session_token = ctx.omit_session_token;

    const sigv4::signer signer;
    case_outputs out;

    params.payload_hash = header_payload;
    const auto h = signer.sign_headers(view, ctx.creds, params);
    if (!h) throw case_error(error_text(h.error()));
    out["header-canonical-request.txt"] = h->canonical_request;
    out["header-string-to-sign.txt"] = h->string_to_sign;
    out["header-signature.txt"] = h->signature;
    std::string signed_request = req.request_line + "\n" + kept_header_lines(req, h->headers);
    for (const auto& a : h->headers) signed_request.append(a.name).append(":").append(a.value).push_back('\n');
    signed_request.push_back('\n');
    signed_request.append(req.body);
    out["header-signed-request.txt"] = std::move(signed_request);

    params.payload_hash = query_payload;
    const auto q = signer.presign(view, ctx.creds, params, ctx.expires);
    if (!q) throw case_error(error_text(q.error()));
    out["query-canonical-request.txt"] = q->canonical_request;
    out["query-string-to-sign.txt"] = q->string_to_sign;
    out["query-signature.txt"] = q->signature;
    const std::string separator = question == std::string::npos ? "?" : (query.empty() ? "" : "&");
    std::string presigned = req.method + " " + req.target + separator + q->query + " " +
                            req.request_line.substr(req.request_line.rfind(' ') + 1) + "\n";
    presigned.append(kept_header_lines(req, {})).push_back('\n');
    presigned.append(req.body);
    out["query-signed-request.txt"] = std::move(presigned);
    return out;
}

}  // namespace cachestep::sigv4_case
