#pragma once
// The per-connection state of the sink and the S3 operations it runs, declared once and defined by responsibility:
//   connection.cpp    the keep-alive loop, request parsing (bucket/key/query), SigV4 check, dispatch to operations
//   request_body.cpp  receiving bodies straight into object memory (Content-Length, chunked, aws-chunked), ETags
//   response.cpp      writing answers (headers, strings, object bodies as gathered writes) and S3 error XML
//   buckets.cpp       ListBuckets, Create/Head/DeleteBucket, GetBucketLocation, DeleteObjects
//   listing.cpp       ListObjects v1/v2, ListParts, ListMultipartUploads
//   objects.cpp       PutObject, CopyObject, GetObject/HeadObject (Range, If-Match), DeleteObject
//   multipart.cpp     CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload
// Internal to the sink: main.cpp sees only serve_connection() in server.hpp.

#include "body.hpp"
#include "server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>

namespace s3sink {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

inline constexpr auto tok = asio::as_tuple(asio::use_awaitable);

inline constexpr std::string_view no_such_bucket_message = "The specified bucket does not exist";
inline constexpr std::string_view no_such_upload_message =
    "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or "
    "completed.";

// An answer without an object body: status, headers beyond the ones every answer has, and a string body.
struct response {
    unsigned status{200};
    header_list headers;
    std::string body;
    void header(std::string name, std::string value) { headers.emplace_back(std::move(name), std::move(value)); }
};

// A received PutObject or UploadPart body and its ETag (unquoted).
struct tagged_body {
    blob data;
    std::string etag;
};

// objects.cpp
header_list stored_headers(const http::request_header<>& req);  // the headers an object keeps
object_ptr take_object(bucket& b, const std::string& key);       // with the lock held: removed, or null when none

class connection {
public:
    connection(server& srv, asio::ip::tcp::socket socket) : srv_(srv), stream_(std::move(socket)) {}
    asio::awaitable<void> run();

private:
    server& srv_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::buffer_body>> parser_;
    int low_water_{1};

    // per request
    std::string request_id_;
    std::string wire_path_, wire_query_;
    std::string bucket_, key_;
    std::map<std::string, std::string> params_;
    bool body_started_{false};
    bool body_done_{false};
    bool sent_continue_{false};
    bool close_after_{false};
    bool is_head_{false};
    bool aws_chunked_{false};
    std::optional<chunk_signing> chunk_signing_;  // from the request's Authorization, when checked
    unsigned status_sent_{0};
    std::uint64_t bytes_sent_{0};

    const http::request_header<>& req() const { return parser_->get().base(); }
    bool has(std::string_view name) const { return params_.count(std::string(name)) > 0; }
    std::string param(std::string_view name) const
    {
        auto it = params_.find(std::string(name));
        return it == params_.end() ? std::string{} : it->second;
    }
    std::string header(std::string_view name) const
    {
        auto it = req().find(beast::string_view(name.data(), name.size()));
        return it == req().end() ? std::string{} : std::string(it->value().data(), it->value().size());
    }
    bool has_body() const { return parser_->chunked() || parser_->content_length().value_or(0) > 0; }

    // connection.cpp
    asio::awaitable<bool> handle();
    void parse_target();
    asio::awaitable<void> dispatch();

    // request_body.cpp. On failure the read_* functions have answered (or marked the connection to close).
    void set_low_water(std::size_t n);
    bool fail_body();  // marks the connection to close; false
    asio::awaitable<bool> read_body(body_sink& sink);
    asio::awaitable<bool> read_string_body(std::string& out, std::size_t max);
    asio::awaitable<std::optional<blob>> read_object_body();  // aws-chunked decoded
    asio::awaitable<std::optional<tagged_body>> read_tagged_body(bool is_part);  // + ETag, Content-MD5 checked
    std::optional<std::string> check_payload(const blob& b);  // --verify-payload: error message or nothing
    std::string etag_for(const blob& b, bool is_part);

    // response.cpp
    asio::awaitable<void> send(response r, const blob* body = nullptr, std::uint64_t offset = 0,
                               std::uint64_t length = 0);
    // Strings by value: no reference into a temporary outlives a suspension (GCC 12 coroutines are fragile there).
    asio::awaitable<void> send_error(unsigned status, std::string code, std::string message, header_list extra,
                                     std::string extra_xml);
    asio::awaitable<void> send_error(unsigned status, std::string code, std::string message);
    asio::awaitable<void> send_error_with_header(unsigned status, std::string code, std::string message,
                                                 std::string header_name, std::string header_value);
    asio::awaitable<void> send_body_error(body_error e);
    asio::awaitable<void> send_no_such_bucket();
    asio::awaitable<void> send_no_such_upload();
    asio::awaitable<void> send_malformed_xml();
    asio::awaitable<void> send_method_not_allowed();
    asio::awaitable<void> send_xml(std::string xml, unsigned status = 200);
    asio::awaitable<void> send_status(unsigned status);
    asio::awaitable<void> send_etag(std::string etag);  // 200 with an ETag header (PutObject, UploadPart)

    // buckets.cpp
    asio::awaitable<void> list_buckets();
    asio::awaitable<void> create_bucket();
    asio::awaitable<void> head_bucket();
    asio::awaitable<void> delete_bucket();
    asio::awaitable<void> bucket_location();
    asio::awaitable<void> delete_objects();
    bool bucket_exists(std::string_view b)
    {
        std::shared_lock lock(srv_.st.mutex);
        return srv_.st.buckets.count(std::string(b)) > 0;
    }
    asio::awaitable<bool> require_bucket();  // false (NoSuchBucket answered) when bucket_ does not exist
    // With srv_.st.mutex held: the bucket of that name, or null.
    bucket* find_bucket(const std::string& name)
    {
        auto it = srv_.st.buckets.find(name);
        return it == srv_.st.buckets.end() ? nullptr : &it->second;
    }

    // listing.cpp
    asio::awaitable<void> list_objects(int version);
    asio::awaitable<void> list_parts();
    asio::awaitable<void> list_multipart_uploads();
    long page_size(std::string_view name) const;  // max-parts, max-uploads: 1000 when absent, clamped to 0..1000

    // objects.cpp
    asio::awaitable<void> put_object();
    asio::awaitable<void> copy_object();
    asio::awaitable<void> get_object();
    asio::awaitable<void> delete_object();

    // multipart.cpp
    asio::awaitable<void> create_multipart();
    asio::awaitable<void> upload_part();
    asio::awaitable<void> complete_multipart();
    asio::awaitable<void> abort_multipart();
    // With srv_.st.mutex held: the upload with this id when it is bucket_/key_'s, else srv_.st.uploads.end().
    std::map<std::string, upload>::iterator find_upload(const std::string& id);
};

}  // namespace s3sink
