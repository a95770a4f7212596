// One keep-alive HTTP/1.1 connection: read a request header with Beast, work out bucket, key and query, check the
// SigV4 signature, and hand the request to its S3 operation (the operations, body reading and answers live in the
// files connection.hpp lists). Here is only what every request goes through, in the order it goes through it.

#include "connection.hpp"
#include "digest.hpp"
#include "text.hpp"
#include "xml.hpp"

#include <cachestep/sigv4/canonical.hpp>

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include <array>
#include <chrono>
#include <cinttypes>
#include <cstdio>

namespace s3sink {
namespace sigv4 = cachestep::sigv4;
using tcp = asio::ip::tcp;

asio::awaitable<void> connection::run()
{
    {
        boost::system::error_code ignored;
        stream_.socket().set_option(tcp::no_delay(true), ignored);
    }
    srv_.connections++;
    for (;;) {
        parser_.emplace();
        parser_->header_limit(64 * 1024);
        parser_->body_limit(boost::none);
        stream_.expires_after(srv_.opt.idle_timeout);
        auto [ec, n] = co_await http::async_read_header(stream_, buffer_, *parser_, tok);
        if (ec) {
            if (ec != http::error::end_of_stream && ec != asio::error::eof && ec != beast::error::timeout &&
                ec != asio::error::connection_reset && ec != asio::error::operation_aborted) {
                // A malformed request: say so once, then close.
                is_head_ = false;
                close_after_ = true;
                body_started_ = body_done_ = true;
                std::string body(xml_decl);
                body += "<Error><Code>BadRequest</Code><Message>" + ec.message() + "</Message></Error>";
                stream_.expires_after(std::chrono::seconds(5));
                std::string head = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/xml\r\n"
                                   "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
                std::array<asio::const_buffer, 2> b{asio::buffer(head), asio::buffer(body)};
                co_await asio::async_write(stream_, b, tok);
            }
            break;
        }
        stream_.expires_never();
        bool keep = co_await handle();
        if (!keep) break;
    }
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    srv_.connections--;
}

asio::awaitable<bool> connection::handle()
{
    const auto started = std::chrono::steady_clock::now();
    srv_.requests++;
    request_id_ = random_id(8);
    body_started_ = body_done_ = sent_continue_ = close_after_ = aws_chunked_ = false;
    chunk_signing_.reset();
    status_sent_ = 0;
    bytes_sent_ = 0;
    is_head_ = req().method() == http::verb::head;
    parse_target();

    if (!srv_.opt.no_auth) {
        auto a = check_sigv4(req(), wire_path_, wire_query_, srv_.auth, srv_.keys);
        if (a.ok) chunk_signing_ = chunk_signing{a.signature, a.amz_date, a.scope, a.key};
        if (!a.ok) {
            std::string extra;
            if (a.code == "SignatureDoesNotMatch") {
                el(extra, "AWSAccessKeyId", srv_.opt.access_key);
                el(extra, "StringToSign", a.string_to_sign);
                el(extra, "CanonicalRequest", a.canonical_request);
            }
            header_list none;
            co_await send_error(a.status, a.code, a.message, std::move(none), std::move(extra));
        }
    }
    if (status_sent_ == 0) co_await dispatch();
    if (status_sent_ == 0) co_await send_error(500, "InternalError", "no answer");

    if (srv_.opt.log) {
        auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
        std::fprintf(stderr, "%s %s %u %" PRIu64 " %.1fms%s\n", std::string(sv(req().method_string())).c_str(),
                     std::string(sv(req().target())).c_str(), status_sent_, bytes_sent_, ms,
                     aws_chunked_ ? " aws-chunked" : "");
    }
    co_return !close_after_ && parser_->keep_alive() && stream_.socket().is_open();
}

// Splits the target into wire path and query (kept as sent, for the signature) and the query parameters, and
// finds bucket and key: virtual-host style when Host is <bucket>.<vhost-domain>, else path style.
void connection::parse_target()
{
    params_.clear();
    bucket_.clear();
    key_.clear();
    std::string_view target = sv(req().target());
    auto q = target.find('?');
    wire_path_ = std::string(target.substr(0, q));
    wire_query_ = q == std::string_view::npos ? std::string{} : std::string(target.substr(q + 1));
    for (auto& p : sigv4::parse_query(wire_query_)) params_.emplace(std::move(p.name), std::move(p.value));

    std::string path = sigv4::percent_decode(wire_path_);
    std::string host = header("Host");
    if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos)
        host.resize(colon);
    const std::string suffix = "." + srv_.opt.vhost_domain;
    if (!srv_.opt.vhost_domain.empty() && host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
        bucket_ = host.substr(0, host.size() - suffix.size());
        key_ = path.size() > 1 ? path.substr(1) : std::string{};
    } else {
        std::string_view p = path;
        if (!p.empty() && p.front() == '/') p.remove_prefix(1);
        auto slash = p.find('/');
        bucket_ = std::string(p.substr(0, slash));
        key_ = slash == std::string_view::npos ? std::string{} : std::string(p.substr(slash + 1));
    }
}

asio::awaitable<void> connection::dispatch()
{
    static const char* unsupported[] = {
        "acl", "tagging", "versioning", "policy", "lifecycle", "cors", "website", "logging", "notification",
        "replication", "encryption", "object-lock", "retention", "legal-hold", "torrent", "versions", "accelerate",
        "requestPayment", "ownershipControls", "publicAccessBlock", "analytics", "inventory", "metrics",
        "intelligent-tiering", "attributes", "restore", "select", "policyStatus", "versionId"};
    for (const char* u : unsupported)
        if (has(u)) {
            co_await send_error(501, "NotImplemented", std::string("this sink does not implement ?") + u);
            co_return;
        }
    const auto m = req().method();
    if (bucket_.empty()) {
        if (m == http::verb::get) co_await list_buckets();
        else co_await send_method_not_allowed();
        co_return;
    }
    if (key_.empty()) {
        switch (m) {
        case http::verb::get:
            if (has("uploads")) co_await list_multipart_uploads();
            else if (has("location")) co_await bucket_location();
            else co_await list_objects(param("list-type") == "2" ? 2 : 1);
            co_return;
        case http::verb::head: co_await head_bucket(); co_return;
        case http::verb::put: co_await create_bucket(); co_return;
        case http::verb::delete_: co_await delete_bucket(); co_return;
        case http::verb::post:
            if (has("delete")) co_await delete_objects();
            else co_await send_method_not_allowed();
            co_return;
        default: break;
        }
    } else {
        if (key_.size() > 1024) {
            co_await send_error(400, "KeyTooLongError", "Your key is too long");
            co_return;
        }
        switch (m) {
        case http::verb::get:
            if (has("uploadId")) co_await list_parts();
            else co_await get_object();
            co_return;
        case http::verb::head: co_await get_object(); co_return;
        case http::verb::put:
            if (has("partNumber") || has("uploadId")) {
                if (!header("x-amz-copy-source").empty())
                    co_await send_error(501, "NotImplemented", "UploadPartCopy is not implemented by this sink");
                else co_await upload_part();
            } else if (!header("x-amz-copy-source").empty()) {
                co_await copy_object();
            } else {
                co_await put_object();
            }
            co_return;
        case http::verb::post:
            if (has("uploads")) co_await create_multipart();
            else if (has("uploadId")) co_await complete_multipart();
            else co_await send_method_not_allowed();
            co_return;
        case http::verb::delete_:
            if (has("uploadId")) co_await abort_multipart();
            else co_await delete_object();
            co_return;
        default: break;
        }
    }
    co_await send_method_not_allowed();
}

asio::awaitable<void> serve_connection(server& srv, tcp::socket socket)
{
    connection c(srv, std::move(socket));
    co_await c.run();
}

}  // namespace s3sink
