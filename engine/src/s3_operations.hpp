#pragma once
// Each S3 operation as a request built for s3_core::send and a parsed response.

#include "s3_core.hpp"
#include "transfer_backend.hpp"

namespace cachestep::engine::detail {

class s3_operations final : public transfer_backend {
public:
    explicit s3_operations(s3_core& core) : core_(core) {}

    // transfer_backend (s3_object_operations.cpp, s3_multipart_operations.cpp)
    asio::awaitable<result<put_result>> put_object(const object_ref& obj, std::span<const char> body,
                                                   const payload_checks& checks,
                                                   const upload_options& options) override;
    asio::awaitable<result<std::string>> create_multipart_upload(const object_ref& obj, const upload_options& options,
                                                                 bool use_crc32c) override;
    asio::awaitable<result<completed_part>> upload_part(const object_ref& obj, const std::string& upload_id,
                                                        int part_number, std::span<const char> body,
                                                        const payload_checks& checks) override;
    asio::awaitable<result<complete_result>> complete_multipart_upload(const object_ref& obj, const std::string& upload_id,
                                                                       const std::vector<completed_part>& parts) override;
    asio::awaitable<result<void>> abort_multipart_upload(const object_ref& obj, const std::string& upload_id) override;
    asio::awaitable<result<range_read>> get_range(const object_ref& obj, std::uint64_t first, std::uint64_t last,
                                                  const std::string& if_match, std::span<char> into) override;
    asio::awaitable<result<object_info>> head_object(const object_ref& obj) override;
    bool cancelled() const override { return core_.cancelled(); }

    // Listing and deleting (s3_bucket_operations.cpp).
    asio::awaitable<result<list_objects_page>> list_objects_v2(const std::string& bucket, const std::string& prefix,
                                                               const std::string& continuation_token, int max_keys);
    asio::awaitable<result<list_uploads_page>> list_multipart_uploads(const std::string& bucket,
                                                                      const std::string& prefix,
                                                                      const std::string& key_marker,
                                                                      const std::string& upload_id_marker);
    asio::awaitable<result<void>> delete_object(const object_ref& obj);
    asio::awaitable<result<delete_objects_result>> delete_objects(const std::string& bucket,
                                                                  const std::vector<std::string>& keys);

private:
    s3_core& core_;
};

// "PutObject bucket/key": how operations are named in errors.
std::string describe(std::string_view operation, const object_ref& obj);
// Content-Type, x-amz-meta-*, x-amz-acl and x-amz-server-side-encryption: what PutObject and
// CreateMultipartUpload send about the object they create.
void add_upload_headers(s3_request& r, const upload_options& options);

// A response header's value as a string ("" when absent).
inline std::string header(const http::fields& h, std::string_view name)
{
    const auto v = h[name];
    return std::string(v.data(), v.size());
}

}  // namespace cachestep::engine::detail
