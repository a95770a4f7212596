#pragma once
// The parts of an HTTP request that SigV4 signs, as non-owning views. The signer is pure: it never sees a
// socket or a Beast message; the caller hands it these views and adds what it returns to the real request.

#include <span>
#include <string_view>

namespace cachestep::sigv4 {

struct header_field {
    std::string_view name;   // any case; compared case-insensitively
    std::string_view value;  // as sent; no CR or LF (folded continuation lines are joined with a space)
};

struct request_view {
    std::string_view method;                // "GET", "PUT", ...
    std::string_view path;                  // as on the wire: percent-encoded, starts with '/'
    std::string_view query;                 // as on the wire, without the '?'; may be empty
    std::span<const header_field> headers;  // every header to be sent, Host included
};

}  // namespace cachestep::sigv4
