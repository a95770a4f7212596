#pragma once
// Errors the signer reports. A request we cannot sign correctly is refused instead of being sent with a
// signature the server would reject for a reason no one can see.

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace cachestep::sigv4 {

enum class sigv4_errc {
    missing_host_header = 1,  // SigV4 always signs Host; without it no server can verify the request
    invalid_method,           // empty, or not an HTTP token
    invalid_path,             // empty or not starting with '/'
    invalid_header,           // a name that is not an HTTP token, or a value with CR, LF or NUL
    invalid_credentials,      // empty secret; access key id empty or with '/', ',' or whitespace; CR/LF in token
    invalid_scope,            // empty region or service, or one containing '/', ',' or whitespace
    invalid_time,             // outside years 0000-9999
    invalid_payload_hash,     // empty or containing whitespace
    invalid_expiry,           // presign expiry outside 1 s .. 7 days (AWS limit)
};

const boost::system::error_category& sigv4_category() noexcept;

inline boost::system::error_code make_error_code(sigv4_errc e) noexcept
{
    return {static_cast<int>(e), sigv4_category()};
}

}  // namespace cachestep::sigv4

template <>
struct boost::system::is_error_code_enum<cachestep::sigv4::sigv4_errc> : std::true_type {};
