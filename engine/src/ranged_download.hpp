#pragma once
// Downloads an object into an ordered sink with ranged GETs in parallel. The first range learns the size and
// the ETag; later ranges carry If-Match so a changed object is refused, never mixed. Ranges that arrive out
// of order wait in a bounded reorder window; a failed range is retried alone (inside get_range).

#include "transfer_backend.hpp"

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/io.hpp>

#include <boost/asio/any_io_executor.hpp>

namespace cachestep::engine::detail {

// Runs on the backend's strand; writes the sink on `worker` (one thread, in order).
boost::asio::awaitable<result<download_result>> download_object(transfer_backend& backend, const object_ref& obj,
                                                                byte_sink& sink, const transfer_config& cfg,
                                                                const boost::asio::any_io_executor& worker);

}  // namespace cachestep::engine::detail
