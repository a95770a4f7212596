#pragma once
// One HTTP(S) request over the engine's own transport, for the few calls around S3 that are not S3: AWS STS
// (AssumeRole, AssumeRoleWithWebIdentity) and the EC2 instance metadata service, which cache-step's credential
// chain needs before it can build a client. Same connection code, TLS settings (system store or CA bundle,
// chain and host name verified, SNI), deadline and stall timer, and retry policy as the S3 client, so there is
// one HTTP stack to trust, not two.
//
// Not a general HTTP client on purpose: one request per connection (no pool, "Connection: close"), bodies
// held in memory (request and response), no redirects, no cookies, no proxies.
//
// Retries follow the engine's policy (client.hpp): connection errors, timeouts, stalls and 500/502/503/504
// answers are tried again with exponential backoff and full jitter, up to options.retry.max_attempts. Any
// other answer is returned as it is, whatever its status: the caller reads its own service's error body
// (an STS <ErrorResponse>, an IMDS 401). A 5xx that persists through every attempt is returned as the last
// reply, not as an error, for the same reason. error_info (never holding a secret: neither the body nor the
// query) is for the cases where no usable answer came: DNS, connect, TLS, timeouts, a malformed URL.

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>
#include <cachestep/sigv4/credentials.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachestep::engine {

// SigV4 for a non-S3 AWS service (generic canonical rules: normalised path; the body's SHA-256 is signed).
// Each attempt is signed anew, so a retry carries a fresh X-Amz-Date.
struct http_call_signing {
    sigv4::credentials credentials;
    std::string region;   // "us-east-1"
    std::string service;  // "sts"
};

struct http_call_request {
    std::string method{"GET"};  // an HTTP method token: GET, PUT, POST, ...
    std::string url;            // absolute http:// or https:// URL; path and query go out as written (encoded)
    std::vector<std::pair<std::string, std::string>> headers;  // Host, User-Agent and Content-Length are set here
    std::string body;
    std::optional<http_call_signing> signing;  // unset: the request goes unsigned
    std::string operation;                     // names the call in errors, e.g. "STS AssumeRole"
};

struct http_call_options {
    tls_config tls;
    retry_config retry;
    timeout_config timeouts;              // connect; request = one whole attempt; stall
    std::size_t body_limit{1u << 20};     // a longer response body fails with engine_errc::bad_response
    std::string user_agent{"cache-step"};
};

struct http_reply {
    unsigned status{0};
    std::vector<std::pair<std::string, std::string>> headers;  // as received, in order
    std::string body;
    int attempts{1};

    // The first header of that name, compared case-insensitively; "" when absent.
    std::string header(std::string_view name) const;
};

// Sends the request on ex (the caller's executor: any thread may run it; the call needs no strand of its own).
// Arguments are taken by reference and must outlive the co_await.
boost::asio::awaitable<result<http_reply>> http_call(boost::asio::any_io_executor ex, const http_call_request& request,
                                                     const http_call_options& options);

// The same from a thread that is not running an io_context: a private io_context runs the call to completion
// on the calling thread.
result<http_reply> http_call_blocking(const http_call_request& request, const http_call_options& options);

}  // namespace cachestep::engine
