#include <cachestep/sigv4/error.hpp>

#include <string>

namespace cachestep::sigv4 {
namespace {

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cachestep.sigv4"; }

    std::string message(int ev) const override
    {
        switch (static_cast<sigv4_errc>(ev)) {
        case sigv4_errc::missing_host_header: return "request has no Host header (SigV4 must sign it)";
        case sigv4_errc::invalid_method: return "request method is empty or not an HTTP token";
        case sigv4_errc::invalid_path: return "request path is empty or does not start with '/'";
        case sigv4_errc::invalid_header:
            return "header name is not an HTTP token, or its value contains CR, LF or NUL";
        case sigv4_errc::invalid_credentials:
            return "credentials are malformed: empty secret, access key id empty or containing '/', ',' or "
                   "whitespace, or a session token containing CR or LF";
        case sigv4_errc::invalid_scope: return "region or service is empty or contains '/', ',' or whitespace";
        case sigv4_errc::invalid_time: return "signing time is outside the years 0000-9999";
        case sigv4_errc::invalid_payload_hash: return "payload hash is empty or contains whitespace";
        case sigv4_errc::invalid_expiry: return "presign expiry must be between 1 second and 7 days";
        }
        return "unknown sigv4 error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& sigv4_category() noexcept
{
    static const category instance;
    return instance;
}

}  // namespace cachestep::sigv4
