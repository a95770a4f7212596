// HeadObject, GetObject (ranged), PutObject.
#include "s3_operations.hpp"

#include "content_range.hpp"

#include <boost/beast/http/field.hpp>

#include <charconv>

namespace cachestep::engine::detail {
namespace {

std::optional<std::uint64_t> parse_u64(std::string_view s)
{
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

void add_checks(s3_request& r, const payload_checks& checks)
{
    if (!checks.crc32c.empty()) r.headers.emplace_back("x-amz-checksum-crc32c", checks.crc32c);
    if (!checks.md5.empty()) r.headers.emplace_back("Content-MD5", checks.md5);
    r.payload_sha256 = checks.sha256;
}

}  // namespace

void add_upload_headers(s3_request& r, const upload_options& options)
{
    r.headers.emplace_back("Content-Type", options.content_type.empty() ? "application/octet-stream" : options.content_type);
    for (const auto& [name, value] : options.metadata) r.headers.emplace_back("x-amz-meta-" + name, value);
    if (!options.acl.empty()) r.headers.emplace_back("x-amz-acl", options.acl);
    if (!options.server_side_encryption.empty())
        r.headers.emplace_back("x-amz-server-side-encryption", options.server_side_encryption);
}

std::string describe(std::string_view operation, const object_ref& obj)
{
    return std::string(operation) + " " + obj.bucket + "/" + obj.key;
}

asio::awaitable<result<object_info>> s3_operations::head_object(const object_ref& obj)
{
    if (obj.key.empty()) co_return error_info(engine_errc::invalid_argument, "HeadObject needs a key");
    s3_request r;
    r.method = http::verb::head;
    r.object = obj;
    r.response.mode = body_mode::none;
    r.operation = describe("HeadObject", obj);
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    object_info info;
    const auto length = parse_u64(header(response->headers, "Content-Length"));
    if (!length) co_return error_info(engine_errc::bad_response, r.operation + ": no Content-Length in the response");
    info.size = *length;
    info.etag = header(response->headers, "ETag");
    info.last_modified = header(response->headers, "Last-Modified");
    info.content_type = header(response->headers, "Content-Type");
    for (const auto& f : response->headers) {
        std::string name(f.name_string());
        std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
        if (name.rfind("x-amz-meta-", 0) == 0) info.metadata[name.substr(11)] = std::string(f.value());
    }
    co_return info;
}

asio::awaitable<result<range_read>> s3_operations::get_range(const object_ref& obj, std::uint64_t first,
                                                             std::uint64_t last, const std::string& if_match,
                                                             std::span<char> into)
{
    if (last < first || into.size() < last - first + 1)
        co_return error_info(engine_errc::invalid_argument, "get_range: buffer smaller than the range");
    s3_request r;
    r.object = obj;
    r.headers.emplace_back("Range", range_header(first, last));
    if (!if_match.empty()) r.headers.emplace_back("If-Match", if_match);
    r.response.mode = body_mode::into_buffer;
    r.response.buffer = into.first(last - first + 1);
    r.operation = describe("GetObject", obj) + " bytes " + std::to_string(first) + "-" + std::to_string(last);
    // A body that does not match its headers is a broken response: retry it (it is a fresh GET).
    r.validate = [first, last, op = r.operation](const http_response& resp) -> std::optional<error_info> {
        if (resp.status == 206) {
            const auto cr = parse_content_range(std::string_view(resp.headers[http::field::content_range]));
            if (!cr || cr->first != first || cr->last != std::min(last, cr->total - 1))
                return error_info(engine_errc::bad_response, op + ": Content-Range \"" +
                                                                 std::string(resp.headers[http::field::content_range]) +
                                                                 "\" does not match the range asked for");
            if (resp.buffer_bytes != cr->last - cr->first + 1)
                return error_info(engine_errc::bad_response, op + ": body shorter than its Content-Range");
        } else if (resp.status == 200) {
            if (first != 0) return error_info(engine_errc::bad_response, op + ": the server ignored the Range header");
        } else {
            return error_info(engine_errc::bad_response, op + ": unexpected HTTP " + std::to_string(resp.status));
        }
        if (resp.headers[http::field::etag].empty()) return error_info(engine_errc::bad_response, op + ": no ETag");
        return std::nullopt;
    };
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    range_read out;
    out.bytes = response->buffer_bytes;
    out.etag = header(response->headers, "ETag");
    if (response->status == 206) {
        out.object_size = parse_content_range(std::string_view(response->headers[http::field::content_range]))->total;
    } else {
        out.whole_object = true;
        out.object_size = response->buffer_bytes;
    }
    co_return out;
}

asio::awaitable<result<put_result>> s3_operations::put_object(const object_ref& obj, std::span<const char> body,
                                                              const payload_checks& checks,
                                                              const upload_options& options)
{
    if (obj.key.empty()) co_return error_info(engine_errc::invalid_argument, "PutObject needs a key");
    s3_request r;
    r.method = http::verb::put;
    r.object = obj;
    r.body = body;
    add_checks(r, checks);
    add_upload_headers(r, options);
    r.operation = describe("PutObject", obj);
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return put_result{header(response->headers, "ETag")};
}

}  // namespace cachestep::engine::detail
