#pragma once
// How the engine reports failure. Control flow runs on boost::system::error_code, with one enum and category
// per source: s3_errc for what an S3 server said (the <Code> of its error body, or the HTTP status of a
// body-less response), engine_errc for what the client itself decided. Transport errors keep their own
// categories (asio, beast, ssl). What the server said in words travels beside the code in error_info.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <type_traits>

namespace cachestep::engine {

// Error codes S3 servers return (AWS S3 API reference, "Error responses"), plus unknown for any other <Code>.
enum class s3_errc {
    unknown = 1,               // a <Code> we do not know: error_info::s3_code has it
    access_denied,             // AccessDenied (or a bare 403)
    invalid_access_key_id,     // InvalidAccessKeyId
    signature_does_not_match,  // SignatureDoesNotMatch: usually a wrong secret key
    expired_token,             // ExpiredToken
    invalid_token,             // InvalidToken
    request_time_too_skewed,   // RequestTimeTooSkewed: the client clock is off
    no_such_bucket,            // NoSuchBucket
    no_such_key,               // NoSuchKey (or a bare 404 on an object)
    no_such_upload,            // NoSuchUpload
    precondition_failed,       // PreconditionFailed (412): If-Match no longer holds
    invalid_range,             // InvalidRange (416)
    entity_too_small,          // EntityTooSmall: a non-last part under 5 MiB
    entity_too_large,          // EntityTooLarge
    invalid_part,              // InvalidPart
    invalid_part_order,        // InvalidPartOrder
    bad_digest,                // BadDigest: Content-MD5 or checksum mismatch
    invalid_digest,            // InvalidDigest
    invalid_argument,          // InvalidArgument
    invalid_request,           // InvalidRequest
    malformed_xml,             // MalformedXML
    method_not_allowed,        // MethodNotAllowed (405)
    not_implemented,           // NotImplemented (501)
    slow_down,                 // SlowDown (503): retry with backoff
    request_timeout,           // RequestTimeout (400): the server gave up waiting for our body; retry
    internal_error,            // InternalError (500)
    service_unavailable,       // ServiceUnavailable (503)
    bad_gateway,               // a bare 502
    gateway_timeout,           // a bare 504
};

// Failures the client decides on its own.
enum class engine_errc {
    timeout = 1,          // the request's deadline passed
    stalled,              // no bytes moved for the stall timeout
    bad_response,         // a response we cannot use: unparseable XML, missing ETag, wrong Content-Range, ...
    object_changed,       // the ETag changed between ranges of one download
    object_too_large,     // the stream outgrew S3's limits (10,000 parts, 5 TiB)
    cancelled,            // the caller cancelled (e.g. SIGINT)
    invalid_argument,     // a configuration or argument we refuse (bad endpoint URL, empty key, ...)
    source_failed,        // the byte source reported an error
    sink_failed,          // the byte sink reported an error
    retries_exhausted,    // never produced directly; see error_info::attempts
};

const boost::system::error_category& s3_category() noexcept;
const boost::system::error_category& engine_category() noexcept;

inline boost::system::error_code make_error_code(s3_errc e) noexcept
{
    return {static_cast<int>(e), s3_category()};
}
inline boost::system::error_code make_error_code(engine_errc e) noexcept
{
    return {static_cast<int>(e), engine_category()};
}

// What one failed operation knows, for control flow (code) and for people (the rest). Never holds secrets.
struct error_info {
    boost::system::error_code code;
    unsigned http_status{0};    // 0 when no response arrived
    std::string s3_code;        // the server's <Code> as sent, e.g. "SlowDown"
    std::string message;        // the server's <Message>, or our own explanation
    std::string request_id;     // x-amz-request-id / <RequestId>, to quote to the server's operators
    std::string operation;      // what was attempted, e.g. "UploadPart 7 of cache/npm.tar.lz4"
    int attempts{1};            // how many times it was tried

    error_info() = default;
    error_info(boost::system::error_code ec, std::string msg = {}) : code(ec), message(std::move(msg)) {}

    // One line for a log: operation, code, HTTP status, server message, request id.
    std::string to_string() const;
};

template <class T>
using result = boost::system::result<T, error_info>;

// Lets boost::system::result<T, error_info>::value() throw a boost::system::system_error with the full text.
[[noreturn]] void throw_exception_from_error(const error_info& e, const boost::source_location& loc);

}  // namespace cachestep::engine

template <>
struct boost::system::is_error_code_enum<cachestep::engine::s3_errc> : std::true_type {};
template <>
struct boost::system::is_error_code_enum<cachestep::engine::engine_errc> : std::true_type {};
