#pragma once

#include <string>

namespace cachestep::sigv4 {

// Long-term (access key + secret) or temporary (+ session token) AWS credentials.
// Never log these: callers print at most the access key id.
struct credentials {
    std::string access_key_id;
    std::string secret_access_key;
    std::string session_token;  // empty when the credentials are not temporary
};

}  // namespace cachestep::sigv4
