// Object operations: PutObject, CopyObject (shares the bytes, x-amz-metadata-directive), GetObject and HeadObject
// (Range, If-Match, If-None-Match), DeleteObject (204 also for a missing key); and which request headers an object
// keeps. Bodies are received before and sent after the store's lock, which only guards the map operations.

#include "connection.hpp"
#include "text.hpp"
#include "xml.hpp"

#include <cachestep/sigv4/canonical.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace s3sink {

namespace {

// What a Range header asks of an object of this size: bytes=a-b, a- or -n, a single range. Malformed or several
// ranges: the whole object (S3 ignores such a header).
struct byte_range {
    std::uint64_t first{0}, last{0};
    bool ranged{false};
    bool unsatisfiable{false};
};

byte_range parse_range(std::string_view range, std::uint64_t size)
{
    byte_range r;
    r.last = size ? size - 1 : 0;
    if (!starts_with(range, "bytes=") || range.find(',') != std::string_view::npos) return r;
    std::string_view spec = range.substr(6);
    auto dash = spec.find('-');
    auto num = [](std::string_view s, std::uint64_t& v) {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos || s.size() > 19) return false;
        v = std::strtoull(std::string(s).c_str(), nullptr, 10);
        return true;
    };
    std::uint64_t a = 0, b = 0;
    bool valid = dash != std::string_view::npos;
    if (valid) {
        std::string_view sa = spec.substr(0, dash), sb = spec.substr(dash + 1);
        if (sa.empty()) {  // suffix: the last b bytes
            valid = num(sb, b);
            if (valid && (b == 0 || size == 0)) r.unsatisfiable = true;
            else if (valid) {
                r.first = b >= size ? 0 : size - b;
                r.last = size - 1;
            }
        } else {
            valid = num(sa, a) && (sb.empty() || (num(sb, b) && b >= a));
            if (valid && a >= size) r.unsatisfiable = true;
            else if (valid) {
                r.first = a;
                r.last = sb.empty() ? size - 1 : std::min(b, size - 1);
            }
        }
    }
    r.ranged = valid;
    return r;
}

// If-Match / If-None-Match: a comma-separated list of (weak or strong) quoted ETags, or *.
bool etag_matches(std::string_view list, const std::string& etag)
{
    return any_list_item(list, [&](std::string_view item) {
        std::string one = unquote(item);
        if (starts_with(one, "W/")) one = unquote(one.substr(2));
        return one == "*" || one == etag;
    });
}

}  // namespace

header_list stored_headers(const http::request_header<>& req)
{
    header_list out;
    for (const auto& f : req) {
        std::string name(sv(f.name_string()));
        std::string lower = name;
        for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value(sv(f.value()));
        if (lower == "content-encoding") {
            // aws-chunked is the transfer framing, not part of the object.
            std::string kept;
            any_list_item(value, [&](std::string_view t) {
                if (t.empty() || lower_eq(t, "aws-chunked")) return false;
                if (!kept.empty()) kept += ",";
                kept += t;
                return false;
            });
            if (!kept.empty()) out.emplace_back("Content-Encoding", kept);
        } else if (lower == "content-type") {
            out.emplace_back("Content-Type", value);
        } else if (lower == "content-disposition" || lower == "content-language" || lower == "cache-control" ||
                   lower == "expires" || starts_with(lower, "x-amz-meta-") || lower == "x-amz-storage-class" ||
                   lower == "x-amz-website-redirect-location") {
            out.emplace_back(lower, value);
        }
    }
    if (std::none_of(out.begin(), out.end(), [](auto& h) { return h.first == "Content-Type"; }))
        out.emplace_back("Content-Type", "binary/octet-stream");
    return out;
}

object_ptr take_object(bucket& b, const std::string& key)
{
    object_ptr old;
    if (auto it = b.objects.find(key); it != b.objects.end()) {
        old = std::move(it->second);
        b.objects.erase(it);
    }
    return old;
}

asio::awaitable<void> connection::put_object()
{
    if (!co_await require_bucket()) co_return;
    auto body = co_await read_tagged_body(false);
    if (!body) co_return;
    auto obj = std::make_shared<object>(object{std::move(body->data), body->etag, clock_type::now(),
                                               stored_headers(req())});
    object_ptr old;
    bool no_bucket = false;
    {
        std::unique_lock lock(srv_.st.mutex);
        if (bucket* b = find_bucket(bucket_)) {
            auto& slot = b->objects[key_];
            old = std::move(slot);
            slot = std::move(obj);
        } else {
            no_bucket = true;  // deleted while the body came in
        }
    }
    old.reset();
    if (no_bucket) co_await send_no_such_bucket();
    else co_await send_etag(body->etag);
}

asio::awaitable<void> connection::copy_object()
{
    std::string src = cachestep::sigv4::percent_decode(header("x-amz-copy-source"));
    if (auto q = src.find("?versionId="); q != std::string::npos) src.resize(q);
    if (!src.empty() && src.front() == '/') src.erase(0, 1);
    auto slash = src.find('/');
    if (slash == std::string::npos) {
        co_await send_error(400, "InvalidArgument", "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
        co_return;
    }
    const std::string sb = src.substr(0, slash), sk = src.substr(slash + 1);
    const bool replace = header("x-amz-metadata-directive") == "REPLACE";
    std::string etag;
    clock_type::time_point modified = clock_type::now();
    int status = 0;
    {
        std::unique_lock lock(srv_.st.mutex);
        auto sbit = srv_.st.buckets.find(sb);
        auto dbit = srv_.st.buckets.find(bucket_);
        if (sbit == srv_.st.buckets.end() || dbit == srv_.st.buckets.end()) {
            status = 1;
        } else if (auto sit = sbit->second.objects.find(sk); sit == sbit->second.objects.end()) {
            status = 2;
        } else {
            auto obj = std::make_shared<object>(*sit->second);  // shares the bytes
            obj->modified = modified;
            if (replace) obj->headers = stored_headers(req());
            etag = obj->etag;
            dbit->second.objects[key_] = std::move(obj);
        }
    }
    if (status == 1) co_await send_no_such_bucket();
    else if (status == 2) co_await send_error(404, "NoSuchKey", "The specified key does not exist.");
    else {
        std::string x = xml_head("CopyObjectResult");
        el(x, "LastModified", iso_date(modified));
        el(x, "ETag", quoted(etag));
        x += "</CopyObjectResult>";
        co_await send_xml(std::move(x));
    }
}

asio::awaitable<void> connection::get_object()
{
    object_ptr obj;
    bool no_bucket = false;
    {
        std::shared_lock lock(srv_.st.mutex);
        const bucket* b = find_bucket(bucket_);
        if (!b) no_bucket = true;
        else if (auto it = b->objects.find(key_); it != b->objects.end()) obj = it->second;
    }
    if (no_bucket) {
        co_await send_no_such_bucket();
        co_return;
    }
    if (!obj) {
        co_await send_error(404, "NoSuchKey", "The specified key does not exist.");
        co_return;
    }
    const std::string etag = quoted(obj->etag);
    const std::string if_match = header("If-Match"), if_none = header("If-None-Match");
    if (!if_match.empty() && !etag_matches(if_match, obj->etag)) {
        co_await send_error_with_header(412, "PreconditionFailed",
                                        "At least one of the pre-conditions you specified did not hold", "ETag", etag);
        co_return;
    }
    if (!if_none.empty() && etag_matches(if_none, obj->etag)) {
        response r;
        r.status = 304;
        r.header("ETag", etag);
        r.header("Last-Modified", http_date(obj->modified));
        co_await send(std::move(r));
        co_return;
    }
    const std::uint64_t size = obj->data.size;
    const byte_range range = parse_range(header("Range"), size);
    if (range.unsatisfiable) {
        co_await send_error_with_header(416, "InvalidRange", "The requested range is not satisfiable",
                                        "Content-Range", "bytes */" + std::to_string(size));
        co_return;
    }
    response r;
    r.status = range.ranged ? 206 : 200;
    r.header("ETag", etag);
    r.header("Last-Modified", http_date(obj->modified));
    r.header("Accept-Ranges", "bytes");
    for (const auto& h : obj->headers) r.header(h.first, h.second);
    if (range.ranged)
        r.header("Content-Range", "bytes " + std::to_string(range.first) + "-" + std::to_string(range.last) + "/" +
                                      std::to_string(size));
    const std::uint64_t length = size == 0 ? 0 : range.last - range.first + 1;
    co_await send(std::move(r), &obj->data, range.first, length);
}

asio::awaitable<void> connection::delete_object()
{
    object_ptr old;
    bool no_bucket = false;
    {
        std::unique_lock lock(srv_.st.mutex);
        if (bucket* b = find_bucket(bucket_)) old = take_object(*b, key_);
        else no_bucket = true;
    }
    old.reset();
    if (no_bucket) co_await send_no_such_bucket();
    else co_await send_status(204);
}

}  // namespace s3sink
