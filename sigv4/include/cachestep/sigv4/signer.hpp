#pragma once
// AWS Signature Version 4: header signing (Authorization) and query signing (presigned URLs).
//
// Pure by design: no sockets, no clock, no environment, no files. The request parts, credentials, region,
// service and time are arguments, so every result is reproducible and testable against the AWS suite.
//
// Usage (header signing of an S3 UploadPart over TLS):
//   sigv4::signer signer;
//   sigv4::signing_params p{.region = "us-east-1", .service = "s3", .time = now,
//                           .rules = sigv4::canonical_rules::s3(),
//                           .payload_hash = sigv4::unsigned_payload};
//   auto signed_ = signer.sign_headers(request, creds, p);
//   if (!signed_) ... signed_.error() is a sigv4_errc
//   for (auto& h : signed_->headers) beast_request.set(h.name, h.value);

#include <cachestep/sigv4/canonical.hpp>
#include <cachestep/sigv4/credentials.hpp>
#include <cachestep/sigv4/error.hpp>
#include <cachestep/sigv4/request.hpp>
#include <cachestep/sigv4/signing_key.hpp>

#include <boost/system/result.hpp>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace cachestep::sigv4 {

// The payload hash for a body that is not hashed (S3 over TLS, presigned URLs).
inline constexpr std::string_view unsigned_payload = "UNSIGNED-PAYLOAD";

// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct signing_params {
    std::string_view region;   // "us-east-1"
    std::string_view service;  // "s3", "sts", ...
    std::chrono::sys_seconds time{};
    canonical_rules rules{canonical_rules::generic()};  // canonical_rules::s3() for S3
    std::string_view payload_hash{empty_payload_sha256};  // hex SHA-256 of the body, or unsigned_payload
    // Sign without the session token, then add it anyway (a few services want the token unsigned).
    bool omit_session_token{false};
};

struct added_header {
    std::string name;
    std::string value;
};

struct header_signing_result {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;              // 64 lower-case hex digits
    std::vector<added_header> headers;  // to set on the request, in this order: X-Amz-Security-Token (with a
                                        // token), X-Amz-Date, x-amz-content-sha256 (rules.content_sha256_header),
                                        // Authorization
};

struct query_signing_result {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signature;
    std::vector<query_param> params;  // decoded, in this order: X-Amz-Algorithm, X-Amz-Credential,
                                      // X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires,
                                      // X-Amz-Security-Token (with a token), X-Amz-Signature
    std::string query;                // the same, encoded: append to the wire query with '&' (or after '?')
};

// AWS's limit on X-Amz-Expires.
inline constexpr std::chrono::seconds max_presign_expiry{7 * 24 * 3600};

class signer {
public:
    // Thread-safe; sharing one signer between connections shares its signing-key cache.
    //
    // Header signing. The request's own Authorization, X-Amz-Date and (when the signer adds them)
    // X-Amz-Security-Token and x-amz-content-sha256 headers are ignored: the result replaces them.
    boost::system::result<header_signing_result> sign_headers(const request_view& request,
                                                              const credentials& creds,
                                                              const signing_params& params) const;

    // Query signing (a presigned URL valid for `expires`, 1 s to 7 days). Signs every header of the request
    // (usually only Host), the request's own query parameters and the X-Amz-* parameters it adds. No
    // x-amz-content-sha256 is added whatever the rules say: a URL has no headers of its own.
    boost::system::result<query_signing_result> presign(const request_view& request, const credentials& creds,
                                                        const signing_params& params,
                                                        std::chrono::seconds expires) const;

    const signing_key_cache& key_cache() const { return keys_; }

private:
    mutable signing_key_cache keys_;
};

}  // namespace cachestep::sigv4
