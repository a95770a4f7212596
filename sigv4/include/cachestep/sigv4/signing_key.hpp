#pragma once
// The SigV4 signing key: HMAC chain over date, region, service and "aws4_request", rooted in the secret.
// It changes once a day per scope, so it is derived once and reused (four HMACs saved per request).

#include <cachestep/sigv4/crypto.hpp>

#include <mutex>
#include <string>
#include <string_view>

namespace cachestep::sigv4 {

// date is YYYYMMDD.
digest derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                          std::string_view service);

// Remembers the last derived key. Thread-safe: one cache may serve every connection of a client.
class signing_key_cache {
public:
    digest get(std::string_view secret_access_key, std::string_view date, std::string_view region,
               std::string_view service);

    // How many times a key was derived rather than reused (for tests and the benchmark).
    std::size_t derivations() const;

private:
    mutable std::mutex mutex_;  // guards every member below
    std::string secret_, date_, region_, service_;
    digest key_{};
    bool valid_{false};
    std::size_t derivations_{0};
};

}  // namespace cachestep::sigv4
