#pragma once
// Uploads a byte stream of unknown length: one PutObject when it fits one part, else a multipart upload with
// parts in flight at once. Memory is bounded by the part buffers the transfer may hold (memory_limit), never by
// the size of the stream. On failure or cancellation exactly one AbortMultipartUpload is sent.

#include "transfer_backend.hpp"

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/io.hpp>

#include <boost/asio/any_io_executor.hpp>

namespace cachestep::engine::detail {

struct upload_plan {
    transfer_config transfer;
    bool over_tls{true};  // decides payload signing in automatic mode
};

// Which checks each part carries, from the settings: CRC32C or MD5 header, SHA-256 when the payload is signed.
struct check_kinds {
    bool crc32c{false};
    bool md5{false};
    bool sha256{false};
};
check_kinds checks_for(const upload_plan& plan);

// The checks of one body (CPU work: call it off the network strand for large bodies).
payload_checks compute_checks(std::span<const char> body, check_kinds kinds);

// Runs on the backend's strand; reads the source and hashes parts on `worker` (one thread, in order).
boost::asio::awaitable<result<upload_result>> upload_stream(transfer_backend& backend, const object_ref& obj,
                                                            byte_source& source, const upload_options& options,
                                                            const upload_plan& plan,
                                                            const boost::asio::any_io_executor& worker);

}  // namespace cachestep::engine::detail
