#pragma once
// Kept-alive connections per endpoint. Single-threaded by contract: every call happens on the client's
// strand, so there are no locks.

#include "http_connection.hpp"

#include <map>
#include <memory>
#include <set>
#include <vector>

namespace cachestep::engine::detail {

class connection_pool {
public:
    struct settings {
        std::size_t max_idle_per_endpoint{16};
        // S3 closes connections idle for about 20 s; we drop ours earlier so a request rarely meets a socket
        // the server has just closed.
        std::chrono::milliseconds idle_timeout{15'000};
        std::chrono::milliseconds connect_timeout{10'000};
        bool verify_peer{true};
    };

    connection_pool(asio::any_io_executor ex, asio::ssl::context* tls, settings s);
    ~connection_pool();

    struct lease {
        std::unique_ptr<http_connection> connection;
        bool reused{false};
    };

    // An idle connection for the key if there is a fresh one, else a new one (connected, TLS verified).
    asio::awaitable<result<lease>> acquire(const connection_key& key);

    // Back to the idle list when the last exchange left it reusable; closed otherwise.
    void release(std::unique_ptr<http_connection> connection, bool reusable);

    // Closes every connection, busy or idle: pending operations complete with operation_aborted.
    void close_all();

    std::uint64_t connections_opened() const { return opened_; }

private:
    asio::any_io_executor executor_;
    asio::ssl::context* tls_;
    settings settings_;
    std::map<connection_key, std::vector<std::unique_ptr<http_connection>>> idle_;
    std::set<http_connection*> busy_;  // not owned: leased out, tracked so close_all() can reach them
    std::uint64_t opened_{0};
};

}  // namespace cachestep::engine::detail
