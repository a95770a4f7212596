#include <cachestep/engine/error.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace cachestep::engine {
namespace {

class s3_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "s3"; }
    std::string message(int ev) const override
    {
        switch (static_cast<s3_errc>(ev)) {
        case s3_errc::unknown: return "S3 error";
        case s3_errc::access_denied: return "access denied";
        case s3_errc::invalid_access_key_id: return "the access key id is not known to the server";
        case s3_errc::signature_does_not_match: return "signature does not match (wrong secret access key?)";
        case s3_errc::expired_token: return "the session token has expired";
        case s3_errc::invalid_token: return "the session token is invalid";
        case s3_errc::request_time_too_skewed: return "the client clock is too far from the server's";
        case s3_errc::no_such_bucket: return "no such bucket";
        case s3_errc::no_such_key: return "no such key";
        case s3_errc::no_such_upload: return "no such multipart upload";
        case s3_errc::precondition_failed: return "precondition failed (the object changed)";
        case s3_errc::invalid_range: return "the requested range is not satisfiable";
        case s3_errc::entity_too_small: return "a part is smaller than the 5 MiB minimum";
        case s3_errc::entity_too_large: return "the body is larger than the server allows";
        case s3_errc::invalid_part: return "a listed part was not found or its ETag does not match";
        case s3_errc::invalid_part_order: return "parts are not listed in ascending order";
        case s3_errc::bad_digest: return "the body does not match its checksum";
        case s3_errc::invalid_digest: return "the checksum header is malformed";
        case s3_errc::invalid_argument: return "invalid argument";
        case s3_errc::invalid_request: return "invalid request";
        case s3_errc::malformed_xml: return "the server could not parse our XML";
        case s3_errc::method_not_allowed: return "method not allowed";
        case s3_errc::not_implemented: return "not implemented by this server";
        case s3_errc::slow_down: return "slow down (request rate too high)";
        case s3_errc::request_timeout: return "the server timed out waiting for the request body";
        case s3_errc::internal_error: return "internal server error";
        case s3_errc::service_unavailable: return "service unavailable";
        case s3_errc::bad_gateway: return "bad gateway";
        case s3_errc::gateway_timeout: return "gateway timeout";
        }
        return "S3 error " + std::to_string(ev);
    }
};

class engine_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cachestep.engine"; }
    std::string message(int ev) const override
    {
        switch (static_cast<engine_errc>(ev)) {
        case engine_errc::timeout: return "request deadline exceeded";
        case engine_errc::stalled: return "transfer stalled (no bytes moved)";
        case engine_errc::bad_response: return "unusable response from the server";
        case engine_errc::object_changed: return "the object changed during the download";
        case engine_errc::object_too_large: return "the stream exceeds S3's limits (10,000 parts, 5 TiB)";
        case engine_errc::cancelled: return "cancelled";
        case engine_errc::invalid_argument: return "invalid argument";
        case engine_errc::source_failed: return "reading the upload source failed";
        case engine_errc::sink_failed: return "writing the download sink failed";
        case engine_errc::retries_exhausted: return "retries exhausted";
        }
        return "engine error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& s3_category() noexcept
{
    static const s3_category_impl instance;
    return instance;
}

const boost::system::error_category& engine_category() noexcept
{
    static const engine_category_impl instance;
    return instance;
}

std::string error_info::to_string() const
{
    std::string out;
    if (!operation.empty()) out += operation + ": ";
    out += code.message();
    if (!s3_code.empty() && code.category() == s3_category()) out += " [" + s3_code + "]";
    if (http_status != 0) out += " (HTTP " + std::to_string(http_status) + ")";
    if (!message.empty() && message != code.message()) out += ": " + message;
    if (attempts > 1) out += " after " + std::to_string(attempts) + " attempts";
    if (!request_id.empty()) out += "; request id " + request_id;
    return out;
}

void throw_exception_from_error(const error_info& e, const boost::source_location& loc)
{
    boost::throw_exception(boost::system::system_error(e.code, e.to_string()), loc);
}

}  // namespace cachestep::engine
