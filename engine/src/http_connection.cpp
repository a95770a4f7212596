#include "http_connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace cachestep::engine::detail {
namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

bool is_ip_literal(const std::string& host)
{
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

}  // namespace

http_connection::http_connection(asio::any_io_executor ex, asio::ssl::context* tls, connection_key key)
    : key_(std::move(key)), tls_context_(tls), stream_(std::in_place_index<0>, ex)
{
    if (key_.tls) stream_.emplace<tls_stream>(ex, *tls_context_);
    // Beast reads min(free space, 64 KiB) per call, but never less than 512 bytes: without room reserved,
    // every header and string-body read would be a 512-byte system call.
    buffer_.reserve(64 * 1024);
}

beast::tcp_stream& http_connection::lowest()
{
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); }, stream_);
}

void http_connection::arm(const io_limits& limits)
{
    // One timer serves both limits: whichever comes first. classify() tells them apart afterwards.
    const auto now = steady_clock::now();
    const auto remaining = limits.deadline > now ? limits.deadline - now : steady_clock::duration::zero();
    lowest().expires_after(std::min<steady_clock::duration>(remaining, limits.stall));
}

error_code http_connection::classify(error_code ec, const io_limits& limits) const
{
    if (ec == beast::error::timeout)
        return steady_clock::now() >= limits.deadline ? make_error_code(engine_errc::timeout)
                                                      : make_error_code(engine_errc::stalled);
    return ec;
}

asio::awaitable<error_code> http_connection::connect(std::chrono::milliseconds timeout, bool verify_peer)
{
    auto ex = co_await asio::this_coro::executor;
    const auto deadline = steady_clock::now() + timeout;

    // The resolver has no timeout of its own: a timer cancels it.
    asio::ip::tcp::resolver resolver(ex);
    asio::steady_timer guard(ex, timeout);
    bool timed_out = false;
    guard.async_wait([&](error_code ec) {
        if (!ec) {
            timed_out = true;
            resolver.cancel();
        }
    });
    auto [rec, endpoints] =
        co_await resolver.async_resolve(key_.host, std::to_string(key_.port), tuple_awaitable);
    guard.cancel();
    if (timed_out) co_return make_error_code(engine_errc::timeout);
    if (rec) co_return rec;

    auto& tcp = lowest();
    tcp.expires_at(deadline);
    auto [cec, ep] = co_await tcp.async_connect(endpoints, tuple_awaitable);
    if (cec) co_return cec == beast::error::timeout ? make_error_code(engine_errc::timeout) : cec;
    tcp.socket().set_option(asio::ip::tcp::no_delay(true));

    if (auto* tls = std::get_if<tls_stream>(&stream_)) {
        // SNI (not for IP literals, RFC 6066), then OpenSSL's own check of the chain and of the name or IP
        // address (RFC 6125), so a refusal comes with OpenSSL's reason.
        SSL* ssl = tls->native_handle();
        const bool ip = is_ip_literal(key_.host);
        if (!ip && !SSL_set_tlsext_host_name(ssl, key_.host.c_str()))
            co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
        if (verify_peer) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            const int named = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, key_.host.c_str())
                                 : X509_VERIFY_PARAM_set1_host(param, key_.host.c_str(), 0);
            if (named != 1) co_return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
            tls->set_verify_mode(asio::ssl::verify_peer);
        } else {
            tls->set_verify_mode(asio::ssl::verify_none);
        }
        tcp.expires_at(deadline);
        auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
        if (hec) {
            const long verdict = SSL_get_verify_result(ssl);
            if (verdict != X509_V_OK) verify_failure_ = X509_verify_cert_error_string(verdict);
            co_return hec == beast::error::timeout ? make_error_code(engine_errc::timeout) : hec;
        }
    }
    tcp.expires_never();
    co_return error_code{};
}

asio::awaitable<error_code> http_connection::write(http::request<http::buffer_body>& request,
                                                   const io_limits& limits)
{
    http::request_serializer<http::buffer_body> serializer(request);
    while (!serializer.is_done()) {
        arm(limits);
        auto [ec, n] = co_await std::visit(
            [&](auto& s) { return http::async_write_some(s, serializer, tuple_awaitable); }, stream_);
        if (ec) co_return classify(ec, limits);
    }
    lowest().expires_never();
    co_return error_code{};
}

template <class Body>
asio::awaitable<error_code> http_connection::read_header(http::response_parser<Body>& parser,
                                                         const io_limits& limits)
{
    while (!parser.is_header_done()) {
        arm(limits);
        auto [ec, n] = co_await std::visit(
            [&](auto& s) { return http::async_read_header(s, buffer_, parser, tuple_awaitable); }, stream_);
        bytes_received_ += n;
        if (ec) co_return classify(ec, limits);
    }
    lowest().expires_never();
    co_return error_code{};
}

template <class Body>
asio::awaitable<error_code> http_connection::read_some_body(http::response_parser<Body>& parser,
                                                            const io_limits& limits)
{
    arm(limits);
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return http::async_read_some(s, buffer_, parser, tuple_awaitable); }, stream_);
    bytes_received_ += n;
    lowest().expires_never();
    co_return classify(ec, limits);
}

template asio::awaitable<error_code> http_connection::read_header(http::response_parser<http::buffer_body>&,
                                                                  const io_limits&);
template asio::awaitable<error_code> http_connection::read_some_body(http::response_parser<http::buffer_body>&,
                                                                     const io_limits&);
template asio::awaitable<error_code> http_connection::read_some_body(http::response_parser<http::string_body>&,
                                                                     const io_limits&);

std::size_t http_connection::take_buffered(std::span<char> into)
{
    const std::size_t n = std::min(into.size(), buffer_.size());
    asio::buffer_copy(asio::buffer(into.data(), n), buffer_.data());
    buffer_.consume(n);
    return n;
}

asio::awaitable<result<std::size_t>> http_connection::read_some_raw(std::span<char> into, const io_limits& limits)
{
    // Wake up for a good batch of bytes, not for every segment: the kernel reports the socket readable only
    // once this many bytes wait (never more than the body still owes us, or the end would never come).
    // 1 GiB from s3rver: 0.31 CPU-s with the default of 1 byte, 0.17 with 256 KiB, 0.15 with 1 MiB.
    // Plain TCP only: over TLS the ssl stream has already read some of the raw bytes ahead into its own
    // buffer, so fewer than the body owes may ever reach the socket again, and the read would sleep until the
    // server closed the connection (found through bench/wan_proxy: 6 s per part behind a shaped link).
    if (std::holds_alternative<beast::tcp_stream>(stream_))
        set_receive_low_water(std::min<std::size_t>(into.size(), 1024 * 1024));
    arm(limits);
    auto [ec, n] = co_await std::visit(
        [&](auto& s) { return s.async_read_some(asio::buffer(into.data(), into.size()), tuple_awaitable); }, stream_);
    bytes_received_ += n;
    lowest().expires_never();
    if (into.size() == n) set_receive_low_water(1);  // the body is in: back to the default for the next header
    if (ec) co_return error_info(classify(ec, limits));
    co_return n;
}

void http_connection::set_receive_low_water(std::size_t bytes)
{
    if (bytes == receive_low_water_) return;
    error_code ignored;
    lowest().socket().set_option(asio::socket_base::receive_low_watermark(static_cast<int>(bytes)), ignored);
    receive_low_water_ = bytes;
}

void http_connection::close()
{
    error_code ignored;
    lowest().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    lowest().close();
}

}  // namespace cachestep::engine::detail
