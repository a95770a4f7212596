// One-shot HTTP(S) requests over the engine's transport (http_connection + exchange), for STS and IMDS.
// See cachestep/engine/http_call.hpp for the contract.

#include <cachestep/engine/http_call.hpp>

#include "http_connection.hpp"
#include "http_exchange.hpp"
#include "retry_policy.hpp"
#include "s3_core.hpp"  // make_tls_context

#include <cachestep/sigv4/crypto.hpp>
#include <cachestep/sigv4/signer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <random>

namespace cachestep::engine {
namespace {

using detail::http_connection;
namespace asio = boost::asio;
namespace http = boost::beast::http;

bool iequals(std::string_view a, std::string_view b)
{
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; };
        if (lower(a[i]) != lower(b[i])) return false;
    }
    return true;
}

// Where the request goes, from its URL. The error never quotes the query (it may carry a token).
struct call_target {
    detail::connection_key key;
    std::string host_header;  // "sts.us-east-1.amazonaws.com", "127.0.0.1:5000", "[::1]:80"
    std::string target;       // "/path?query", encoded as given
    std::string path;         // "/path"
    std::string query;        // "query" without '?'
};

result<call_target> parse_target(const std::string& url)
{
    const auto u = boost::urls::parse_absolute_uri(url);
    if (!u) return error_info(engine_errc::invalid_argument, "not an absolute http(s) URL");
    call_target t;
    if (u->scheme() == "https")
        t.key.tls = true;
    else if (u->scheme() != "http")
        return error_info(engine_errc::invalid_argument, "the URL's scheme must be http or https");
    if (u->has_userinfo()) return error_info(engine_errc::invalid_argument, "the URL must not hold user information");
    t.key.host = u->host_address();  // IPv6 without brackets
    if (t.key.host.empty()) return error_info(engine_errc::invalid_argument, "the URL has no host");
    t.key.port = t.key.tls ? 443 : 80;
    if (u->has_port()) {
        if (u->port_number() == 0) return error_info(engine_errc::invalid_argument, "the URL has an invalid port");
        t.key.port = u->port_number();
    }
    t.host_header = u->encoded_host_and_port();
    t.path = u->encoded_path();
    if (t.path.empty()) t.path = "/";
    if (u->has_query()) t.query = u->encoded_query();
    t.target = t.query.empty() ? t.path : t.path + "?" + t.query;
    return t;
}

// Operation name for errors: the caller's, else "METHOD scheme://host:port/path" (no query).
std::string operation_name(const http_call_request& request, const call_target* target)
{
    if (!request.operation.empty()) return request.operation;
    if (!target) return request.method + " request";
    return request.method + (target->key.tls ? " https://" : " http://") + target->host_header + target->path;
}

result<void> sign(http::request<http::buffer_body>& r, const call_target& target, const http_call_request& request)
{
    std::vector<sigv4::header_field> fields;
    for (const auto& f : r) fields.push_back({f.name_string(), f.value()});
    const sigv4::request_view view{r.method_string(), target.path, target.query, fields};
    const std::string payload_hash = sigv4::sha256_hex(request.body);
    sigv4::signing_params params;
    params.region = request.signing->region;
    params.service = request.signing->service;
    params.time = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    params.rules = sigv4::canonical_rules::generic();
    params.payload_hash = payload_hash;
    const sigv4::signer signer;
    auto signed_ = signer.sign_headers(view, request.signing->credentials, params);
    if (!signed_) return error_info(signed_.error(), "cannot sign the request");
    for (const auto& h : signed_->headers) r.set(h.name, h.value);
    return {};
}

asio::awaitable<result<http_reply>> attempt(asio::any_io_executor ex, asio::ssl::context* tls,
                                            const call_target& target, const http_call_request& request,
                                            const http_call_options& options)
{
    http_connection connection(ex, target.key.tls ? tls : nullptr, target.key);
    if (auto ec = co_await connection.connect(options.timeouts.connect, options.tls.verify_peer)) {
        std::string what = "connecting to " + target.key.host + ":" + std::to_string(target.key.port) +
                           (target.key.tls ? " (TLS)" : "");
        if (!connection.verify_failure().empty())
            what += ": the server's certificate was refused: " + connection.verify_failure();
        co_return error_info(ec, std::move(what));
    }

    const auto verb = http::string_to_verb(request.method);
    http::request<http::buffer_body> r;
    if (verb == http::verb::unknown)
        r.method_string(request.method);
    else
        r.method(verb);
    r.target(target.target);
    r.version(11);
    r.set(http::field::host, target.host_header);
    r.set(http::field::user_agent, options.user_agent);
    for (const auto& [name, value] : request.headers) r.set(name, value);
    r.keep_alive(false);
    if (!request.body.empty() || verb == http::verb::put || verb == http::verb::post)
        r.content_length(request.body.size());
    r.body().data = const_cast<char*>(request.body.data());  // the serializer only reads it
    r.body().size = request.body.size();
    r.body().more = false;
    if (request.signing) {
        if (auto s = sign(r, target, request); !s) co_return s.error();
    }

    detail::response_spec spec;
    spec.mode = request.method == "HEAD" ? detail::body_mode::none : detail::body_mode::into_string;
    spec.string_limit = options.body_limit;
    const detail::io_limits limits{detail::steady_clock::now() + options.timeouts.request, options.timeouts.stall};
    auto response = co_await detail::exchange(connection, r, spec, limits);
    connection.close();
    if (!response) co_return response.error();
    http_reply reply;
    reply.status = response->status;
    for (const auto& f : response->headers) reply.headers.emplace_back(f.name_string(), f.value());
    reply.body = std::move(response->body);
    co_return reply;
}

bool sendable_header(std::string_view name, std::string_view value)
{
    const auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
    return !name.empty() && name.find(':') == std::string_view::npos &&
           std::none_of(name.begin(), name.end(), bad) && std::none_of(value.begin(), value.end(), bad);
}

std::string printable(std::string_view s)
{
    std::string out;
    for (const char c : s) out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

bool is_server_failure(unsigned status)
{
    return status == 500 || status == 502 || status == 503 || status == 504;
}

}  // namespace

std::string http_reply::header(std::string_view name) const
{
    for (const auto& [n, v] : headers)
        if (iequals(n, name)) return v;
    return {};
}

asio::awaitable<result<http_reply>> http_call(asio::any_io_executor ex, const http_call_request& request,
                                              const http_call_options& options)
{
    auto target = parse_target(request.url);
    if (!target) {
        auto e = target.error();
        e.operation = operation_name(request, nullptr);
        co_return e;
    }
    const std::string operation = operation_name(request, &*target);
    // A CR, LF or NUL in a header (say a token read from a file or from another server) would split the
    // request: refuse it, naming the header only (its value may be a secret).
    for (const auto& [name, value] : request.headers) {
        if (!sendable_header(name, value)) {
            error_info e(engine_errc::invalid_argument, "header \"" + printable(name) + "\" cannot be sent as it is");
            e.operation = operation;
            co_return e;
        }
    }
    std::unique_ptr<asio::ssl::context> tls;
    if (target->key.tls) {
        auto ctx = detail::make_tls_context(options.tls);
        if (!ctx) {
            auto e = ctx.error();
            e.operation = operation;
            co_return e;
        }
        tls = std::move(*ctx);
    }

    std::mt19937_64 random{std::random_device{}()};
    const int max_attempts = std::max(1, options.retry.max_attempts);
    for (int attempt_number = 1;; ++attempt_number) {
        auto r = co_await attempt(ex, tls.get(), *target, request, options);
        if (r && (!is_server_failure(r->status) || attempt_number >= max_attempts)) {
            r->attempts = attempt_number;
            co_return r;
        }
        if (!r) {
            error_info e = std::move(r).error();
            e.operation = operation;
            e.attempts = attempt_number;
            if (attempt_number >= max_attempts || !detail::is_retryable(e)) co_return e;
        }
        asio::steady_timer timer(ex, detail::backoff_delay(attempt_number, options.retry, random()));
        co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

result<http_reply> http_call_blocking(const http_call_request& request, const http_call_options& options)
{
    asio::io_context io;
    auto done = asio::co_spawn(io, http_call(io.get_executor(), request, options), asio::use_future);
    io.run();
    return done.get();
}

}  // namespace cachestep::engine
