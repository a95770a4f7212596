#include "http_exchange.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/string_body.hpp>

namespace cachestep::engine::detail {
namespace {

// "timeout=5, max=100" -> 5 s (RFC 2068 19.7.1.1, as Node and Apache send it); 0 when absent or unreadable.
std::chrono::seconds keep_alive_timeout(std::string_view value)
{
    const auto at = value.find("timeout=");
    if (at == std::string_view::npos) return std::chrono::seconds{0};
    unsigned long seconds = 0;
    for (std::size_t i = at + 8; i < value.size() && value[i] >= '0' && value[i] <= '9' && seconds < 86400; ++i)
        seconds = seconds * 10 + static_cast<unsigned long>(value[i] - '0');
    return std::chrono::seconds{seconds};
}

error_info failure(error_code ec, std::string what = {})
{
    return error_info(ec, std::move(what));
}

// The rest of a response into a string, after the header was read with another body type.
asio::awaitable<result<std::string>> read_string_body(http_connection& c, http::response_parser<http::buffer_body>&& header_parser,
                                                      std::size_t limit, const io_limits& limits)
{
    // Beast checks body_limit against Content-Length only while parsing the header, which happened with
    // another parser: check it here, before reading a byte of the body.
    if (const auto length = header_parser.content_length(); length && *length > limit)
        co_return failure(engine_errc::bad_response, "response body exceeds " + std::to_string(limit) + " bytes");
    http::response_parser<http::string_body> parser(std::move(header_parser));
    parser.body_limit(limit);
    while (!parser.is_done()) {
        if (auto ec = co_await c.read_some_body(parser, limits)) {
            if (ec == http::error::body_limit)
                co_return failure(engine_errc::bad_response, "response body exceeds " + std::to_string(limit) + " bytes");
            co_return failure(ec);
        }
    }
    co_return std::move(parser.get().body());
}

}  // namespace

asio::awaitable<result<http_response>> exchange(http_connection& c, http::request<http::buffer_body>& request,
                                                const response_spec& spec, const io_limits& limits)
{
    if (auto ec = co_await c.write(request, limits)) co_return failure(ec);

    http::response_parser<http::buffer_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(boost::none);  // checked against the caller's buffer or string limit below
    if (spec.mode == body_mode::none) parser.skip(true);
    if (auto ec = co_await c.read_header(parser, limits)) co_return failure(ec);

    http_response out;
    out.status = parser.get().result_int();
    out.headers = parser.get().base();
    out.keep_alive = parser.get().keep_alive();  // known from the header (version, Connection)
    out.idle_limit = keep_alive_timeout(out.headers[http::field::keep_alive]);
    const bool success = out.status >= 200 && out.status < 300;

    const auto length = parser.content_length();
    if (spec.mode == body_mode::into_buffer && success && length && !parser.chunked()) {
        // The common case, object data with a Content-Length: straight into the caller's buffer.
        if (*length > spec.buffer.size())
            co_return failure(engine_errc::bad_response, "response body of " + std::to_string(*length) +
                                                             " bytes is larger than the " +
                                                             std::to_string(spec.buffer.size()) + " bytes asked for");
        const auto into = spec.buffer.first(static_cast<std::size_t>(*length));
        std::size_t got = c.take_buffered(into);
        while (got < into.size()) {
            auto n = co_await c.read_some_raw(into.subspan(got), limits);
            if (!n) co_return n.error();
            got += *n;
        }
        out.buffer_bytes = got;
    } else if (spec.mode == body_mode::into_buffer && success) {
        auto& body = parser.get().body();
        body.data = spec.buffer.data();
        body.size = spec.buffer.size();
        while (!parser.is_done()) {
            auto ec = co_await c.read_some_body(parser, limits);
            if (ec == http::error::need_buffer) {
                if (parser.is_done()) break;
                co_return failure(engine_errc::bad_response,
                                  "response body is larger than the " + std::to_string(spec.buffer.size()) +
                                      " bytes asked for");
            }
            if (ec) co_return failure(ec);
        }
        out.buffer_bytes = spec.buffer.size() - body.size;
    } else if (!parser.is_done()) {
        const std::size_t limit = success ? spec.string_limit : std::min<std::size_t>(spec.string_limit, 1u << 20);
        auto body = co_await read_string_body(c, std::move(parser), limit, limits);
        if (!body) co_return body.error();
        out.body = std::move(*body);
    }
    c.count_exchange();
    co_return out;
}

}  // namespace cachestep::engine::detail
