#pragma once
// One request and its response on an open connection, with the response body read the way the caller
// needs it: not at all (HEAD), into a string (XML), or straight into the caller's buffer (object data).

#include "http_connection.hpp"

#include <span>
#include <string>

namespace cachestep::engine::detail {

enum class body_mode {
    none,         // HEAD: the response has no body whatever Content-Length says
    into_string,  // small bodies (XML); at most string_limit bytes
    into_buffer,  // 2xx bodies go into `buffer` and must fit it; error bodies still go into the string
};

struct response_spec {
    body_mode mode{body_mode::into_string};
    std::span<char> buffer{};
    std::size_t string_limit{8u << 20};  // caps what a hostile or broken server can make us hold
};

struct http_response {
    unsigned status{0};
    http::fields headers;
    std::string body;               // into_string, and error bodies in every mode
    std::size_t buffer_bytes{0};    // into_buffer: bytes placed in the buffer
    bool keep_alive{false};         // the connection may carry another request
    std::chrono::seconds idle_limit{0};  // "Keep-Alive: timeout=N" from the server; 0 when not given
};

// Writes the request, reads the whole response. On any error the connection must be discarded.
asio::awaitable<result<http_response>> exchange(http_connection& connection, http::request<http::buffer_body>& request,
                                                const response_spec& spec, const io_limits& limits);

}  // namespace cachestep::engine::detail
