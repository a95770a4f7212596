// Writing answers. send() writes the status line and headers every answer has (request id, Date, Content-Length,
// Connection: close when the connection ends), then a string body or an object body as gathered writes straight
// from object memory, 16 MiB a write. Before answering it deals with a request body nobody read (drained when small,
// else the connection closes). The S3 error answers (XML with Code, Message, Resource, RequestId) and the ones the
// operations share (NoSuchBucket, NoSuchUpload, ...) are built here so their wording is in one place.

#include "connection.hpp"
#include "text.hpp"
#include "xml.hpp"

#include <boost/asio/write.hpp>

#include <array>
#include <vector>

namespace s3sink {

asio::awaitable<void> connection::send(response r, const blob* body, std::uint64_t offset, std::uint64_t length)
{
    // A body we have not read: drain a small one, else close after answering (with Expect: 100-continue the
    // client has not sent it).
    if (!body_started_ && has_body()) {
        auto cl = parser_->content_length();
        if (!sent_continue_ && lower_eq(header("Expect"), "100-continue")) {
            close_after_ = true;
        } else if (cl && *cl <= (1u << 20) && !parser_->chunked()) {
            string_sink drain(2u << 20);
            if (!co_await read_body(drain)) close_after_ = true;
        } else {
            close_after_ = true;
        }
    } else if (body_started_ && !body_done_) {
        close_after_ = true;
    }
    const bool keep = !close_after_ && parser_->keep_alive();
    status_sent_ = r.status;
    std::string head;
    head.reserve(512);
    head.append("HTTP/1.1 ").append(std::to_string(r.status)).push_back(' ');
    auto reason = http::obsolete_reason(static_cast<http::status>(r.status));
    head.append(reason.data(), reason.size()).append("\r\n");
    head.append("Server: cachestep-s3sink\r\nx-amz-request-id: ").append(request_id_).append("\r\nDate: ");
    head.append(now_http_date()).append("\r\n");
    for (auto& [n, v] : r.headers) head.append(n).append(": ").append(v).append("\r\n");
    const std::uint64_t content_length = body ? length : r.body.size();
    if (r.status != 204 && r.status != 304)
        head.append("Content-Length: ").append(std::to_string(content_length)).append("\r\n");
    if (!keep) head.append("Connection: close\r\n");
    head.append("\r\n");

    stream_.expires_after(srv_.opt.idle_timeout);
    if (is_head_ || r.status == 204 || r.status == 304) {
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(head), tok);
        if (ec) close_after_ = true;
        co_return;
    }
    if (!body) {
        std::array<asio::const_buffer, 2> b{asio::buffer(head), asio::buffer(r.body)};
        auto [ec, n] = co_await asio::async_write(stream_, b, tok);
        if (ec) close_after_ = true;
        bytes_sent_ = r.body.size();
        srv_.bytes_out += r.body.size();
        co_return;
    }
    // An object body from memory, 16 MiB per write (the timeout is per window).
    std::vector<asio::const_buffer> window;
    window.push_back(asio::buffer(head));
    std::uint64_t pos = offset, end = offset + length;
    bool first = true;
    while (pos < end || first) {
        std::uint64_t n = std::min<std::uint64_t>(end - pos, 16u << 20);
        body->for_each(pos, n, [&](const char* p, std::size_t k) { window.push_back(asio::buffer(p, k)); });
        stream_.expires_after(srv_.opt.idle_timeout);
        auto [ec, written] = co_await asio::async_write(stream_, window, tok);
        if (ec) {
            close_after_ = true;
            co_return;
        }
        window.clear();
        pos += n;
        bytes_sent_ += n;
        srv_.bytes_out += n;
        first = false;
    }
    stream_.expires_never();
}

asio::awaitable<void> connection::send_error(unsigned status, std::string code, std::string message,
                                             header_list extra, std::string extra_xml)
{
    response r;
    r.status = status;
    r.headers = std::move(extra);
    r.header("Content-Type", "application/xml");
    if (!is_head_) {
        r.body = xml_decl;
        r.body += "<Error>";
        el(r.body, "Code", code);
        el(r.body, "Message", message);
        if (!bucket_.empty()) el(r.body, "BucketName", bucket_);
        if (!key_.empty()) el(r.body, "Key", key_);
        el(r.body, "Resource", wire_path_);
        el(r.body, "RequestId", request_id_);
        r.body += extra_xml;
        r.body += "</Error>";
    }
    co_await send(std::move(r));
}

asio::awaitable<void> connection::send_error(unsigned status, std::string code, std::string message)
{
    header_list none;
    std::string no_xml;
    co_await send_error(status, std::move(code), std::move(message), std::move(none), std::move(no_xml));
}

asio::awaitable<void> connection::send_error_with_header(unsigned status, std::string code, std::string message,
                                                         std::string header_name, std::string header_value)
{
    header_list extra;
    extra.emplace_back(std::move(header_name), std::move(header_value));
    std::string no_xml;
    co_await send_error(status, std::move(code), std::move(message), std::move(extra), std::move(no_xml));
}

asio::awaitable<void> connection::send_body_error(body_error e)
{
    co_await send_error(e.status, std::move(e.code), std::move(e.message));
}

asio::awaitable<void> connection::send_no_such_bucket()
{
    co_await send_error(404, "NoSuchBucket", std::string(no_such_bucket_message));
}

asio::awaitable<void> connection::send_no_such_upload()
{
    co_await send_error(404, "NoSuchUpload", std::string(no_such_upload_message));
}

asio::awaitable<void> connection::send_malformed_xml()
{
    co_await send_error(400, "MalformedXML",
                        "The XML you provided was not well-formed or did not validate against our published schema.");
}

asio::awaitable<void> connection::send_method_not_allowed()
{
    co_await send_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.");
}

asio::awaitable<void> connection::send_xml(std::string xml, unsigned status)
{
    response r;
    r.status = status;
    r.header("Content-Type", "application/xml");
    r.body = std::move(xml);
    co_await send(std::move(r));
}

asio::awaitable<void> connection::send_status(unsigned status)
{
    // A named local, not a braced temporary in the co_await (GCC 12 destroys those twice).
    response r;
    r.status = status;
    co_await send(std::move(r));
}

asio::awaitable<void> connection::send_etag(std::string etag)
{
    response r;
    r.header("ETag", quoted(etag));
    co_await send(std::move(r));
}

}  // namespace s3sink
