#pragma once
// One kept-alive HTTP/1.1 connection, plain or TLS, with a deadline and stall detection on every read and
// write. It moves bytes; it knows nothing about S3.

#include <cachestep/engine/error.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <variant>

namespace cachestep::engine::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;
using steady_clock = std::chrono::steady_clock;

// Connections are pooled per (scheme, host, port).
struct connection_key {
    bool tls{false};
    std::string host;
    std::uint16_t port{0};
    auto operator<=>(const connection_key&) const = default;
};

// A deadline for a whole exchange, and the longest a single read or write may go without moving a byte.
struct io_limits {
    steady_clock::time_point deadline;
    std::chrono::milliseconds stall;
};

class http_connection {
public:
    // tls is null for plain HTTP. The context outlives the connection (the client owns both).
    http_connection(asio::any_io_executor ex, asio::ssl::context* tls, connection_key key);

    // DNS, TCP connect and, for TLS, the handshake with SNI and certificate + host-name verification, all
    // within `timeout`. Errors: asio/ssl codes, engine_errc::timeout; for a refused certificate,
    // verify_failure() says why in OpenSSL's words ("hostname mismatch", "self-signed certificate", ...).
    asio::awaitable<error_code> connect(std::chrono::milliseconds timeout, bool verify_peer);
    const std::string& verify_failure() const { return verify_failure_; }

    // Writes a whole request (header and buffer_body body).
    asio::awaitable<error_code> write(http::request<http::buffer_body>& request, const io_limits& limits);

    // Reads until the parser has the header / the whole message. The parser keeps its own body settings.
    template <class Body>
    asio::awaitable<error_code> read_header(http::response_parser<Body>& parser, const io_limits& limits);
    template <class Body>
    asio::awaitable<error_code> read_some_body(http::response_parser<Body>& parser, const io_limits& limits);

    // The fast path for a Content-Length body going into the caller's buffer: first the bytes already read
    // past the header, then straight from the socket, as many as it has per call. (Through the parser every
    // byte would be copied once more, in reads of Beast's 512-byte-to-64-KiB read size.)
    std::size_t take_buffered(std::span<char> into);
    asio::awaitable<result<std::size_t>> read_some_raw(std::span<char> into, const io_limits& limits);

    // Bytes received since connect: a reused connection that fails before receiving anything was closed
    // by the server while idle, and the request can be resent at once.
    std::uint64_t bytes_received() const { return bytes_received_; }
    std::uint64_t exchanges() const { return exchanges_; }
    void count_exchange() { ++exchanges_; }

    const connection_key& key() const { return key_; }
    steady_clock::time_point idle_since{};
    // The server said how long it keeps an idle connection (Keep-Alive: timeout=N); 0 = unknown.
    std::chrono::seconds server_idle_limit{0};

    // Closes the socket; pending operations complete with operation_aborted.
    void close();

private:
    using tls_stream = beast::ssl_stream<beast::tcp_stream>;
    beast::tcp_stream& lowest();
    void arm(const io_limits& limits);
    error_code classify(error_code ec, const io_limits& limits) const;

    connection_key key_;
    asio::ssl::context* tls_context_;
    std::variant<beast::tcp_stream, tls_stream> stream_;
    beast::flat_buffer buffer_;  // bytes read past the current message stay here for the next one
    void set_receive_low_water(std::size_t bytes);

    std::string verify_failure_;
    std::size_t receive_low_water_{1};  // SO_RCVLOWAT as last set
    std::uint64_t bytes_received_{0};
    std::uint64_t exchanges_{0};
};

}  // namespace cachestep::engine::detail
