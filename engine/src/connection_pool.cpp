#include "connection_pool.hpp"

namespace cachestep::engine::detail {

connection_pool::connection_pool(asio::any_io_executor ex, asio::ssl::context* tls, settings s)
    : executor_(std::move(ex)), tls_(tls), settings_(s)
{
}

connection_pool::~connection_pool()
{
    close_all();
}

asio::awaitable<result<connection_pool::lease>> connection_pool::acquire(const connection_key& key)
{
    auto& idle = idle_[key];
    while (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        // Our limit, or a second less than the server's if it told us (Node servers close after 5 s).
        auto limit = std::chrono::duration_cast<steady_clock::duration>(settings_.idle_timeout);
        if (c->server_idle_limit.count() > 0)
            limit = std::min<steady_clock::duration>(limit, c->server_idle_limit - std::chrono::seconds{1});
        if (steady_clock::now() - c->idle_since < limit) {
            busy_.insert(c.get());
            co_return lease{std::move(c), true};
        }
        c->close();
    }
    if (key.tls && !tls_) co_return error_info(engine_errc::invalid_argument, "TLS endpoint without a TLS context");
    auto c = std::make_unique<http_connection>(executor_, key.tls ? tls_ : nullptr, key);
    busy_.insert(c.get());  // close_all() must reach a connection that is still connecting
    const auto ec = co_await c->connect(settings_.connect_timeout, settings_.verify_peer);
    if (ec) {
        busy_.erase(c.get());
        std::string what = "connecting to " + key.host + ":" + std::to_string(key.port) + (key.tls ? " (TLS)" : "");
        if (!c->verify_failure().empty()) what += ": the server's certificate was refused: " + c->verify_failure();
        co_return error_info(ec, std::move(what));
    }
    ++opened_;
    co_return lease{std::move(c), false};
}

void connection_pool::release(std::unique_ptr<http_connection> connection, bool reusable)
{
    busy_.erase(connection.get());
    auto& idle = idle_[connection->key()];
    if (!reusable || idle.size() >= settings_.max_idle_per_endpoint) {
        connection->close();
        return;
    }
    connection->idle_since = steady_clock::now();
    idle.push_back(std::move(connection));
}

void connection_pool::close_all()
{
    for (auto* c : busy_) c->close();
    for (auto& [key, list] : idle_)
        for (auto& c : list) c->close();
    idle_.clear();
}

}  // namespace cachestep::engine::detail
