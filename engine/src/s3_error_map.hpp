#pragma once
// From what an S3 server answered to an error_info: its <Code> or, for a body-less answer, its HTTP status
// mapped to s3_errc, with the words and request id kept beside the code for people.

#include <cachestep/engine/error.hpp>

#include <string>
#include <string_view>

namespace cachestep::engine::detail {

// The s3_errc of an S3 <Code>, matched exactly (codes are case-sensitive); s3_errc::unknown for any other.
// XAmzContentSHA256Mismatch (S3's word for a body that does not match its signed SHA-256) is bad_digest.
s3_errc s3_errc_from_code(std::string_view code);

// For responses without a usable <Error> body (HEAD, empty bodies, proxies): 403 access_denied,
// 404 no_such_key, 405 method_not_allowed, 412 precondition_failed, 416 invalid_range, 500 internal_error,
// 501 not_implemented, 502 bad_gateway, 503 service_unavailable, 504 gateway_timeout; else unknown.
s3_errc s3_errc_from_status(unsigned http_status);

// A failed response as an error_info:
// - code: from the body's <Code> when the body is an <Error> document with a non-empty Code (an unknown Code
//   stays s3_errc::unknown: the status says too little to guess, a 404 may be NoSuchBucketPolicy), else from
//   http_status;
// - s3_code and message: the body's <Code> and <Message>, as sent;
// - request_id: the body's <RequestId> (or moto's <RequestID>), else request_id_header (x-amz-request-id);
// - http_status and operation as given.
// A body that is not an S3 error document (an HTML page from a proxy or load balancer) is not echoed, since a
// misbehaving server could reflect request headers; its <title> is quoted when it has one, else its size.
error_info error_from_response(unsigned http_status, std::string_view request_id_header, std::string_view body,
                               std::string operation);

}  // namespace cachestep::engine::detail
