// Bucket operations: ListBuckets, CreateBucket (200 also when it exists, as us-east-1), HeadBucket, DeleteBucket
// (BucketNotEmpty), GetBucketLocation, and DeleteObjects (a POST on the bucket). Each takes the store's lock only
// for its map operations; objects removed are freed after the lock is released.

#include "connection.hpp"
#include "text.hpp"
#include "xml.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <mutex>
#include <vector>

namespace s3sink {

namespace {

bool valid_bucket_name(std::string_view b)
{
    if (b.size() < 3 || b.size() > 63) return false;
    return std::all_of(b.begin(), b.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    });
}

}  // namespace

asio::awaitable<bool> connection::require_bucket()
{
    if (bucket_exists(bucket_)) co_return true;
    co_await send_no_such_bucket();
    co_return false;
}

asio::awaitable<void> connection::list_buckets()
{
    std::string x = xml_head("ListAllMyBucketsResult");
    x.append(owner_xml).append("<Buckets>");
    {
        std::shared_lock lock(srv_.st.mutex);
        for (auto& [name, b] : srv_.st.buckets) {
            x += "<Bucket>";
            el(x, "Name", name);
            el(x, "CreationDate", iso_date(b.created));
            x += "</Bucket>";
        }
    }
    x += "</Buckets></ListAllMyBucketsResult>";
    co_await send_xml(std::move(x));
}

asio::awaitable<void> connection::create_bucket()
{
    std::string body;
    if (has_body() && !co_await read_string_body(body, 1 << 20)) co_return;
    if (!valid_bucket_name(bucket_)) {
        co_await send_error(400, "InvalidBucketName", "The specified bucket is not valid.");
        co_return;
    }
    {
        std::unique_lock lock(srv_.st.mutex);
        srv_.st.buckets.try_emplace(bucket_, bucket{clock_type::now(), {}});
    }
    response r;
    r.header("Location", "/" + bucket_);
    co_await send(std::move(r));  // us-east-1: 200 also when the bucket is already ours
}

asio::awaitable<void> connection::head_bucket()
{
    if (!co_await require_bucket()) co_return;
    response r;
    r.header("x-amz-bucket-region", srv_.opt.region);
    co_await send(std::move(r));
}

asio::awaitable<void> connection::delete_bucket()
{
    unsigned status = 204;
    {
        std::unique_lock lock(srv_.st.mutex);
        auto it = srv_.st.buckets.find(bucket_);
        if (it == srv_.st.buckets.end()) status = 404;
        else if (!it->second.objects.empty()) status = 409;
        else srv_.st.buckets.erase(it);
    }
    if (status == 404) co_await send_no_such_bucket();
    else if (status == 409) co_await send_error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
    else co_await send_status(204);
}

asio::awaitable<void> connection::bucket_location()
{
    if (!co_await require_bucket()) co_return;
    std::string x = xml_head("LocationConstraint");
    if (srv_.opt.region != "us-east-1") xml_escape(srv_.opt.region, x);
    x += "</LocationConstraint>";
    co_await send_xml(std::move(x));
}

asio::awaitable<void> connection::delete_objects()
{
    std::string body;
    if (!co_await read_string_body(body, 8 << 20)) co_return;
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size())) {
        co_await send_malformed_xml();
        co_return;
    }
    auto del = doc.child("Delete");
    const bool quiet = std::string_view(del.child_value("Quiet")) == "true";
    std::vector<std::string> keys;
    for (auto o : del.children("Object")) keys.emplace_back(o.child_value("Key"));
    if (keys.size() > 1000) {
        co_await send_error(400, "MalformedXML", "more than 1000 keys");
        co_return;
    }
    std::vector<object_ptr> doomed;  // freed outside the lock
    bool no_bucket = false;
    {
        std::unique_lock lock(srv_.st.mutex);
        if (bucket* b = find_bucket(bucket_)) {
            for (const auto& k : keys)
                if (auto old = take_object(*b, k)) doomed.push_back(std::move(old));
        } else {
            no_bucket = true;
        }
    }
    doomed.clear();
    if (no_bucket) {
        co_await send_no_such_bucket();
        co_return;
    }
    std::string x = xml_head("DeleteResult");
    if (!quiet)
        for (const auto& k : keys) {
            x += "<Deleted>";
            el(x, "Key", k);
            x += "</Deleted>";
        }
    x += "</DeleteResult>";
    co_await send_xml(std::move(x));
}

}  // namespace s3sink
