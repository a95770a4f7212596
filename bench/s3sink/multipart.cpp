// Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload and AbortMultipartUpload. Complete
// checks the listed parts as S3 does (ascending order, each existing with its ETag, non-last parts at least
// --min-part-size) and makes the object by sharing the parts' memory, never copying it; its ETag is
// md5(part MD5s)-N. Parts not listed, and aborted uploads, are freed outside the store's lock.
// (ListParts and ListMultipartUploads are in listing.cpp.)

#include "connection.hpp"
#include "digest.hpp"
#include "text.hpp"
#include "xml.hpp"

#include <cachestep/sigv4/canonical.hpp>

#include <pugixml.hpp>

#include <cstdlib>
#include <mutex>
#include <utility>
#include <vector>

namespace s3sink {

namespace {
constexpr std::uint64_t max_object_size = std::uint64_t{5} << 40;  // S3: 5 TiB
}

std::map<std::string, upload>::iterator connection::find_upload(const std::string& id)
{
    auto it = srv_.st.uploads.find(id);
    if (it != srv_.st.uploads.end() && (it->second.bucket != bucket_ || it->second.key != key_))
        return srv_.st.uploads.end();
    return it;
}

asio::awaitable<void> connection::create_multipart()
{
    std::string body;
    if (has_body() && !co_await read_string_body(body, 1 << 20)) co_return;
    if (!co_await require_bucket()) co_return;
    upload u;
    u.bucket = bucket_;
    u.key = key_;
    u.id = random_id(16);
    u.initiated = clock_type::now();
    u.headers = stored_headers(req());
    const std::string id = u.id;
    {
        std::unique_lock lock(srv_.st.mutex);
        srv_.st.uploads.emplace(id, std::move(u));
    }
    std::string x = xml_head("InitiateMultipartUploadResult");
    el(x, "Bucket", bucket_);
    el(x, "Key", key_);
    el(x, "UploadId", id);
    x += "</InitiateMultipartUploadResult>";
    co_await send_xml(std::move(x));
}

asio::awaitable<void> connection::upload_part()
{
    const std::string id = param("uploadId"), pn = param("partNumber");
    char* end = nullptr;
    long number = std::strtol(pn.c_str(), &end, 10);
    if (pn.empty() || *end || number < 1 || number > 10000) {
        co_await send_error(400, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive");
        co_return;
    }
    bool known = false;
    {
        std::shared_lock lock(srv_.st.mutex);
        known = find_upload(id) != srv_.st.uploads.end();
    }
    if (!known) {
        co_await send_no_such_upload();
        co_return;
    }
    auto body = co_await read_tagged_body(true);
    if (!body) co_return;
    auto p = std::make_shared<part>(part{std::move(body->data), body->etag, clock_type::now()});
    part_ptr old;
    bool gone = false;
    {
        std::unique_lock lock(srv_.st.mutex);
        auto it = srv_.st.uploads.find(id);  // aborted meanwhile?
        if (it == srv_.st.uploads.end()) gone = true;
        else {
            auto& slot = it->second.parts[static_cast<int>(number)];
            old = std::move(slot);
            slot = std::move(p);
        }
    }
    old.reset();
    if (gone) co_await send_no_such_upload();
    else co_await send_etag(body->etag);
}

asio::awaitable<void> connection::complete_multipart()
{
    std::string body;
    if (!co_await read_string_body(body, 8 << 20)) co_return;
    const std::string id = param("uploadId");
    pugi::xml_document doc;
    if (!doc.load_buffer(body.data(), body.size()) || !doc.child("CompleteMultipartUpload")) {
        co_await send_malformed_xml();
        co_return;
    }
    std::vector<std::pair<long, std::string>> listed;
    for (auto p : doc.child("CompleteMultipartUpload").children("Part"))
        listed.emplace_back(std::strtol(p.child_value("PartNumber"), nullptr, 10), unquote(p.child_value("ETag")));
    if (listed.empty()) {
        co_await send_error(400, "MalformedXML", "You must specify at least one part");
        co_return;
    }
    for (std::size_t i = 1; i < listed.size(); ++i)
        if (listed[i].first <= listed[i - 1].first) {
            co_await send_error(400, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");
            co_return;
        }
    std::string code, message;
    unsigned status = 200;
    std::string final_etag;
    std::optional<upload> done;
    {
        std::unique_lock lock(srv_.st.mutex);
        auto uit = find_upload(id);
        if (uit == srv_.st.uploads.end()) {
            status = 404, code = "NoSuchUpload", message = no_such_upload_message;
        } else {
            auto& u = uit->second;
            auto obj = std::make_shared<object>();
            std::string md5s;
            std::vector<unsigned char> raw;
            for (std::size_t i = 0; i < listed.size() && status == 200; ++i) {
                auto pit = u.parts.find(static_cast<int>(listed[i].first));
                if (pit == u.parts.end() || pit->second->etag != listed[i].second) {
                    status = 400, code = "InvalidPart",
                    message = "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not have matched the part's entity tag.";
                    break;
                }
                if (i + 1 < listed.size() && pit->second->data.size < srv_.opt.min_part_size) {
                    status = 400, code = "EntityTooSmall", message = "Your proposed upload is smaller than the minimum allowed object size.";
                    break;
                }
                if (unhex(pit->second->etag, raw)) md5s.append(raw.begin(), raw.end());
                else md5s += pit->second->etag;
                obj->data.append(pit->second->data);
            }
            if (status == 200) {
                if (obj->data.size > max_object_size) {
                    status = 400, code = "EntityTooLarge", message = "Your proposed upload exceeds the maximum allowed size";
                } else {
                    bucket* b = find_bucket(bucket_);
                    if (!b) {
                        status = 404, code = "NoSuchBucket", message = no_such_bucket_message;
                    } else {
                        obj->etag = digest_hex(EVP_md5(), [&](auto feed) { feed(md5s.data(), md5s.size()); }) + "-" +
                                    std::to_string(listed.size());
                        obj->modified = clock_type::now();
                        obj->headers = u.headers;
                        obj->parts_count = static_cast<int>(listed.size());
                        final_etag = obj->etag;
                        b->objects[key_] = std::move(obj);
                        done.emplace(std::move(u));
                        srv_.st.uploads.erase(uit);
                    }
                }
            }
        }
    }
    done.reset();  // parts not listed are freed here, outside the lock
    if (status != 200) {
        co_await send_error(status, code, message);
        co_return;
    }
    std::string x = xml_head("CompleteMultipartUploadResult");
    el(x, "Location",
       "http://" + header("Host") + "/" + bucket_ + "/" + cachestep::sigv4::uri_encode(key_, true));
    el(x, "Bucket", bucket_);
    el(x, "Key", key_);
    el(x, "ETag", quoted(final_etag));
    x += "</CompleteMultipartUploadResult>";
    co_await send_xml(std::move(x));
}

asio::awaitable<void> connection::abort_multipart()
{
    std::optional<upload> gone;
    {
        std::unique_lock lock(srv_.st.mutex);
        auto it = find_upload(param("uploadId"));
        if (it != srv_.st.uploads.end()) {
            gone.emplace(std::move(it->second));
            srv_.st.uploads.erase(it);
        }
    }
    if (!gone) {
        co_await send_no_such_upload();
        co_return;
    }
    gone.reset();
    co_await send_status(204);
}

}  // namespace s3sink
