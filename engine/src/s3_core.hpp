#pragma once
// Sends one S3 request: addressing, SigV4 signing, a pooled connection, the deadline, and retries with
// backoff. Everything here runs on the client's strand.

#include "addressing.hpp"
#include "connection_pool.hpp"
#include "http_exchange.hpp"

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/types.hpp>
#include <cachestep/sigv4/signer.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <optional>
#include <random>
#include <set>

namespace cachestep::engine::detail {

using strand_type = asio::strand<asio::any_io_executor>;

struct s3_request {
    http::verb method{http::verb::get};
    object_ref object;   // key "" for a bucket-level request
    std::string query;   // encoded, without '?'
    std::vector<std::pair<std::string, std::string>> headers;
    std::span<const char> body;
    std::string payload_sha256;  // hex when the payload is signed; "" = UNSIGNED-PAYLOAD (empty bodies: always hashed)
    response_spec response;
    std::string operation;        // "UploadPart 3 of bucket/key": names the request in errors and logs
    bool survives_cancel{false};  // AbortMultipartUpload must still go out after cancel()
    // Runs on a 2xx response; an error it returns is treated like an error response (retried if retryable),
    // e.g. CompleteMultipartUpload's 200 whose body is an <Error>.
    std::function<std::optional<error_info>(const http_response&)> validate;
};

class s3_core {
public:
    s3_core(strand_type strand, client_config cfg, endpoint ep, std::unique_ptr<asio::ssl::context> tls);

    // Sends the request until it succeeds, fails for good, or the retry budget is spent. The error names the
    // operation and the number of attempts.
    asio::awaitable<result<http_response>> send(const s3_request& request);

    // Stops new requests (except those that survive cancel), closes every connection, wakes sleepers.
    void cancel();
    bool cancelled() const { return cancelled_; }

    const client_config& config() const { return config_; }
    const endpoint& server() const { return endpoint_; }
    strand_type strand() const { return strand_; }
    std::uint64_t connections_opened() const { return pool_.connections_opened(); }

private:
    asio::awaitable<result<http_response>> attempt(const s3_request& request, const request_target& target,
                                                   bool& stale_connection);
    result<void> sign(http::request<http::buffer_body>& r, const request_target& target, const s3_request& request);
    asio::awaitable<void> sleep(std::chrono::milliseconds d);

    strand_type strand_;
    client_config config_;
    endpoint endpoint_;
    std::unique_ptr<asio::ssl::context> tls_;
    connection_pool pool_;
    sigv4::signer signer_;
    std::mt19937_64 random_;                // backoff jitter
    std::set<asio::steady_timer*> sleeping_;  // backoff timers, woken by cancel()
    bool cancelled_{false};
};

// Builds the TLS client context: system CA store or the given bundle, TLS 1.2 at least.
result<std::unique_ptr<asio::ssl::context>> make_tls_context(const tls_config& cfg);

}  // namespace cachestep::engine::detail
