// ListObjectsV2, ListMultipartUploads, DeleteObject, DeleteObjects.
#include "s3_operations.hpp"

#include "digest.hpp"
#include "s3_xml.hpp"

#include <cachestep/sigv4/canonical.hpp>
#include <cachestep/sigv4/crypto.hpp>

namespace cachestep::engine::detail {
namespace {

void add_param(std::string& query, std::string_view name, std::string_view value)
{
    if (!query.empty()) query += "&";
    query.append(name).append("=");
    sigv4::uri_encode(value, false, query);
}

template <class T>
result<T> named(result<T> r, const std::string& operation)
{
    if (!r) {
        auto e = r.error();
        e.operation = operation;
        return e;
    }
    return r;
}

}  // namespace

asio::awaitable<result<list_objects_page>> s3_operations::list_objects_v2(const std::string& bucket,
                                                                          const std::string& prefix,
                                                                          const std::string& continuation_token,
                                                                          int max_keys)
{
    s3_request r;
    r.object = {bucket, ""};
    // Parameters in canonical order; encoding-type=url keeps keys with control characters legal in XML.
    if (!continuation_token.empty()) add_param(r.query, "continuation-token", continuation_token);
    add_param(r.query, "encoding-type", "url");
    add_param(r.query, "list-type", "2");
    if (max_keys > 0) add_param(r.query, "max-keys", std::to_string(max_keys));
    add_param(r.query, "prefix", prefix);
    r.operation = "ListObjectsV2 " + bucket + "/" + prefix;
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return named(parse_list_objects_v2(response->body), r.operation);
}

asio::awaitable<result<list_uploads_page>> s3_operations::list_multipart_uploads(const std::string& bucket,
                                                                                 const std::string& prefix,
                                                                                 const std::string& key_marker,
                                                                                 const std::string& upload_id_marker)
{
    s3_request r;
    r.object = {bucket, ""};
    add_param(r.query, "encoding-type", "url");
    if (!key_marker.empty()) add_param(r.query, "key-marker", key_marker);
    if (!prefix.empty()) add_param(r.query, "prefix", prefix);
    if (!upload_id_marker.empty()) add_param(r.query, "upload-id-marker", upload_id_marker);
    r.query = "uploads=&" + r.query;
    r.operation = "ListMultipartUploads " + bucket + "/" + prefix;
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return named(parse_list_multipart_uploads(response->body), r.operation);
}

asio::awaitable<result<void>> s3_operations::delete_object(const object_ref& obj)
{
    if (obj.key.empty()) co_return error_info(engine_errc::invalid_argument, "DeleteObject needs a key");
    s3_request r;
    r.method = http::verb::delete_;
    r.object = obj;
    r.operation = describe("DeleteObject", obj);
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return result<void>{};
}

asio::awaitable<result<delete_objects_result>> s3_operations::delete_objects(const std::string& bucket,
                                                                             const std::vector<std::string>& keys)
{
    if (keys.empty()) co_return delete_objects_result{};
    if (keys.size() > 1000) co_return error_info(engine_errc::invalid_argument, "DeleteObjects takes at most 1000 keys");
    auto body = build_delete_objects(keys, /*quiet=*/false);
    if (!body) co_return body.error();
    s3_request r;
    r.method = http::verb::post;
    r.object = {bucket, ""};
    r.query = "delete=";
    r.body = *body;
    r.payload_sha256 = sigv4::sha256_hex(*body);
    // S3 requires Content-MD5 (or a checksum) on DeleteObjects.
    r.headers.emplace_back("Content-MD5", content_md5(body->data(), body->size()));
    r.headers.emplace_back("Content-Type", "application/xml");
    r.operation = "DeleteObjects " + bucket + " (" + std::to_string(keys.size()) + " keys)";
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return named(parse_delete_objects(response->body), r.operation);
}

}  // namespace cachestep::engine::detail
