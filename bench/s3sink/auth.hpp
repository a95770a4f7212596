#pragma once
// SigV4 header-signature check of a received request: rebuilds the canonical request from what arrived (the
// headers the client listed in SignedHeaders, the wire path and query, the payload hash it declared in
// x-amz-content-sha256) with cachestep::sigv4's canonicalisation and signing key, and compares signatures.

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include <cachestep/sigv4/signing_key.hpp>

#include <string>
#include <string_view>

namespace s3sink {

struct auth_config {
    std::string access_key;
    std::string secret_key;
};

struct auth_outcome {
    bool ok{false};
    unsigned status{403};
    std::string code;
    std::string message;
    std::string string_to_sign;     // for SignatureDoesNotMatch answers, as S3 gives them
    std::string canonical_request;
    // For aws-chunked chunk signatures: the seed signature and what the chunks' strings to sign use.
    std::string signature;
    std::string amz_date;
    std::string scope;
    cachestep::sigv4::digest key{};
};

auth_outcome check_sigv4(const boost::beast::http::request_header<>& req, std::string_view wire_path,
                         std::string_view wire_query, const auth_config& cfg,
                         cachestep::sigv4::signing_key_cache& keys);

}  // namespace s3sink
