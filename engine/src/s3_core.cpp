#include "s3_core.hpp"

#include "retry_policy.hpp"
#include "s3_error_map.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>

namespace cachestep::engine::detail {

s3_core::s3_core(strand_type strand, client_config cfg, endpoint ep, std::unique_ptr<asio::ssl::context> tls)
    : strand_(std::move(strand)),
      config_(std::move(cfg)),
      endpoint_(std::move(ep)),
      tls_(std::move(tls)),
      pool_(strand_, tls_.get(),
            connection_pool::settings{static_cast<std::size_t>(std::max(1, config_.max_idle_connections)),
                                      std::chrono::milliseconds{15'000}, config_.timeouts.connect,
                                      config_.tls.verify_peer}),
      random_(std::random_device{}())
{
}

void s3_core::cancel()
{
    cancelled_ = true;
    pool_.close_all();
    for (auto* t : sleeping_) t->cancel();
}

asio::awaitable<void> s3_core::sleep(std::chrono::milliseconds d)
{
    asio::steady_timer timer(strand_, d);
    sleeping_.insert(&timer);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    sleeping_.erase(&timer);
}

asio::awaitable<result<http_response>> s3_core::send(const s3_request& request)
{
    auto target = make_target(endpoint_, config_.endpoint.addressing, request.object.bucket, request.object.key);
    if (!target) {
        auto e = target.error();
        e.operation = request.operation;
        co_return e;
    }
    const int max_attempts = std::max(1, config_.retry.max_attempts);
    bool resent_on_stale = false;
    for (int attempt_number = 1;; ++attempt_number) {
        if (cancelled_ && !request.survives_cancel) {
            error_info e(engine_errc::cancelled);
            e.operation = request.operation;
            co_return e;
        }
        bool stale = false;
        auto r = co_await attempt(request, *target, stale);
        if (r) co_return r;
        error_info e = std::move(r).error();
        e.operation = request.operation;
        e.attempts = attempt_number;
        // A kept-alive connection the server closed while it sat idle fails before a byte comes back: the
        // request never reached the server, so it goes again at once, once, without counting as a retry.
        if (stale && !resent_on_stale) {
            resent_on_stale = true;
            --attempt_number;
            continue;
        }
        if (cancelled_ && !request.survives_cancel) e.code = engine_errc::cancelled;
        if (attempt_number >= max_attempts || !is_retryable(e)) co_return e;
        co_await sleep(backoff_delay(attempt_number, config_.retry, random_()));
    }
}

result<void> s3_core::sign(http::request<http::buffer_body>& r, const request_target& target,
                           const s3_request& request)
{
    std::vector<sigv4::header_field> fields;
    for (const auto& f : r) fields.push_back({f.name_string(), f.value()});
    const std::string path = target.path;
    const sigv4::request_view view{r.method_string(), path, request.query, fields};

    sigv4::signing_params params;
    params.region = endpoint_.region;
    params.service = "s3";
    params.time = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    params.rules = sigv4::canonical_rules::s3();
    params.payload_hash = request.body.empty()            ? sigv4::empty_payload_sha256
                          : request.payload_sha256.empty() ? sigv4::unsigned_payload
                                                           : std::string_view(request.payload_sha256);
    auto signed_ = signer_.sign_headers(view, config_.credentials, params);
    if (!signed_) return error_info(signed_.error(), "cannot sign the request");
    for (const auto& h : signed_->headers) r.set(h.name, h.value);
    return {};
}

asio::awaitable<result<http_response>> s3_core::attempt(const s3_request& request, const request_target& target,
                                                        bool& stale_connection)
{
    const connection_key key{target.tls, target.connect_host, target.port};  // named: see run_blocking.hpp
    auto lease = co_await pool_.acquire(key);
    if (!lease) co_return lease.error();
    auto connection = std::move(lease->connection);

    std::string path_and_query = target.path;
    if (!request.query.empty()) path_and_query += "?" + request.query;
    http::request<http::buffer_body> r{request.method, path_and_query, 11};
    r.set(http::field::host, target.host_header);
    r.set(http::field::user_agent, config_.user_agent);
    for (const auto& [name, value] : request.headers) r.set(name, value);
    if (!request.body.empty() || request.method == http::verb::put || request.method == http::verb::post)
        r.content_length(request.body.size());
    r.body().data = const_cast<char*>(request.body.data());  // the serializer only reads it
    r.body().size = request.body.size();
    r.body().more = false;
    if (auto s = sign(r, target, request); !s) {
        pool_.release(std::move(connection), true);
        co_return s.error();
    }

    const auto received_before = connection->bytes_received();
    const io_limits limits{steady_clock::now() + config_.timeouts.request, config_.timeouts.stall};
    auto response = co_await exchange(*connection, r, request.response, limits);
    if (!response) {
        stale_connection = lease->reused && connection->bytes_received() == received_before;
        pool_.release(std::move(connection), false);
        co_return response.error();
    }
    connection->server_idle_limit = response->idle_limit;
    if (response->status < 200 || response->status >= 300) {
        pool_.release(std::move(connection), response->keep_alive);
        const auto request_id = response->headers["x-amz-request-id"];
        co_return error_from_response(response->status, std::string_view(request_id.data(), request_id.size()),
                                      response->body, request.operation);
    }
    if (request.validate) {
        if (auto e = request.validate(*response)) {
            // A response that contradicts itself (a Content-Length shorter than its Content-Range) may have
            // left bytes on the connection: never reuse it.
            pool_.release(std::move(connection), false);
            co_return std::move(*e);
        }
    }
    pool_.release(std::move(connection), response->keep_alive);
    co_return std::move(*response);
}

result<std::unique_ptr<asio::ssl::context>> make_tls_context(const tls_config& cfg)
{
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    error_code ec;
    if (!cfg.ca_bundle.empty()) {
        ctx->load_verify_file(cfg.ca_bundle, ec);
        if (ec) return error_info(engine_errc::invalid_argument, "cannot load CA bundle " + cfg.ca_bundle + ": " + ec.message());
    } else {
        ctx->set_default_verify_paths(ec);
        if (ec) return error_info(engine_errc::invalid_argument, "cannot load the system CA store: " + ec.message());
    }
    return ctx;
}

}  // namespace cachestep::engine::detail
