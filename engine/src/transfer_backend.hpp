#pragma once
// The S3 operations a transfer needs, as an interface: the real one speaks HTTP (s3_operations), a fake one
// in the unit tests scripts failures at every step, so the multipart and ranged-download logic is tested
// without a socket. Calls happen on one strand.

#include <cachestep/engine/error.hpp>
#include <cachestep/engine/types.hpp>

#include <boost/asio/awaitable.hpp>

#include <span>
#include <string>
#include <vector>

namespace cachestep::engine::detail {

class transfer_backend {
public:
    virtual ~transfer_backend() = default;

    virtual boost::asio::awaitable<result<put_result>> put_object(const object_ref& obj, std::span<const char> body,
                                                                  const payload_checks& checks,
                                                                  const upload_options& options) = 0;
    // use_crc32c: the upload declares x-amz-checksum-algorithm CRC32C, so its parts carry CRC32C checksums.
    virtual boost::asio::awaitable<result<std::string>> create_multipart_upload(const object_ref& obj,
                                                                                const upload_options& options,
                                                                                bool use_crc32c) = 0;
    virtual boost::asio::awaitable<result<completed_part>> upload_part(const object_ref& obj,
                                                                       const std::string& upload_id, int part_number,
                                                                       std::span<const char> body,
                                                                       const payload_checks& checks) = 0;
    virtual boost::asio::awaitable<result<complete_result>> complete_multipart_upload(
        const object_ref& obj, const std::string& upload_id, const std::vector<completed_part>& parts) = 0;
    // Goes out even after cancel(): it is how a cancelled upload cleans up.
    virtual boost::asio::awaitable<result<void>> abort_multipart_upload(const object_ref& obj,
                                                                        const std::string& upload_id) = 0;
    // Bytes [first, last] into `into` (at least last - first + 1 bytes). With if_match, the server refuses
    // (precondition_failed) when the object's ETag differs.
    virtual boost::asio::awaitable<result<range_read>> get_range(const object_ref& obj, std::uint64_t first,
                                                                 std::uint64_t last, const std::string& if_match,
                                                                 std::span<char> into) = 0;
    virtual boost::asio::awaitable<result<object_info>> head_object(const object_ref& obj) = 0;

    virtual bool cancelled() const = 0;
};

}  // namespace cachestep::engine::detail
