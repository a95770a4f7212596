#include "ranged_download.hpp"

#include "completion_queue.hpp"
#include "part_buffer.hpp"
#include "part_plan.hpp"
#include "run_blocking.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <map>
#include <optional>

namespace cachestep::engine::detail {
namespace {

struct fetched_range {
    std::uint64_t index{0};
    part_buffer buffer;
    result<range_read> read{error_info(engine_errc::cancelled)};
};

error_info changed(const object_ref& obj, const std::string& why)
{
    return error_info(engine_errc::object_changed,
                      obj.bucket + "/" + obj.key + " changed during the download (" + why + "); nothing was mixed");
}

}  // namespace

boost::asio::awaitable<result<download_result>> download_object(transfer_backend& backend, const object_ref& obj,
                                                                byte_sink& sink, const transfer_config& cfg,
                                                                const boost::asio::any_io_executor& worker)
{
    namespace asio = boost::asio;
    if (auto valid = validate_transfer(cfg); !valid) co_return valid.error();
    // Every buffer is taken at range_size, so the pool reuses them all whatever range of the ramp they hold.
    const std::uint64_t range_size = cfg.range_size;
    const auto range_start = [&cfg](std::uint64_t index) { return download_range_start(index, cfg); };
    buffer_pool buffers;

    // The first range: size, ETag, and the first bytes.
    part_buffer first_buffer = buffers.take(range_size);
    const std::string no_etag_yet;
    const std::uint64_t first_size = range_start(1);
    auto first = co_await backend.get_range(obj, 0, first_size - 1, no_etag_yet, first_buffer.first(first_size));
    if (!first) {
        // A Range on an empty object cannot be satisfied: S3 answers 416, some servers a malformed 206 (s3rver:
        // "Content-Range: bytes 0-0/0" with a body that never comes). Unless the failure already says the
        // object is missing or forbidden, ask HEAD: an empty object is still a valid download.
        const boost::system::error_code ec = first.error().code;  // a copy: it must outlive the co_await below
        if (ec == s3_errc::no_such_key || ec == s3_errc::no_such_bucket || ec == s3_errc::access_denied ||
            ec == s3_errc::signature_does_not_match || ec == s3_errc::invalid_access_key_id ||
            ec == engine_errc::cancelled)
            co_return first.error();
        auto head = co_await backend.head_object(obj);
        if (!head || head->size != 0) co_return first.error();
        co_return download_result{0, head->etag, 1};
    }
    const std::uint64_t size = first->object_size;
    const std::string etag = first->etag;
    const std::uint64_t range_count = first->whole_object ? 1 : download_range_count(size, cfg);

    // `size_hint`: the object's size with the first write (a file sink reserves its space), else 0.
    auto write = [&](part_buffer& b, std::size_t n, std::uint64_t size_hint) -> asio::awaitable<result<void>> {
        auto write_in_order = [&sink, data = b.data.get(), n, hint = size_hint]() {
            if (hint) sink.expect_size(hint);
            auto r = sink.write({data, n});
            if (!r && r.error().code != engine_errc::sink_failed) {
                auto e = r.error();
                e.code = engine_errc::sink_failed;
                return result<void>(e);
            }
            return r;
        };
        co_return co_await run_blocking(worker, write_in_order);
    };

    auto ex = co_await asio::this_coro::executor;
    completion_queue<fetched_range> done(ex);
    std::map<std::uint64_t, fetched_range> ready;  // the reorder window: ranges waiting for their turn
    ready.emplace(0, fetched_range{0, std::move(first_buffer), std::move(first)});
    std::uint64_t next_fetch = 1, next_write = 0;
    int in_flight = 0;
    std::optional<error_info> failure;
    const auto buffers_allowed = static_cast<std::uint64_t>(buffers_for(range_size, cfg));

    for (;;) {
        // Fetch ahead while requests and buffers (in flight + waiting in the window) allow.
        while (!failure && !backend.cancelled() && next_fetch < range_count && in_flight < cfg.concurrency &&
               static_cast<std::uint64_t>(in_flight) + ready.size() < buffers_allowed) {
            const std::uint64_t index = next_fetch++;
            const std::uint64_t begin = range_start(index);
            const std::uint64_t end = std::min(size, range_start(index + 1)) - 1;
            ++in_flight;
            asio::co_spawn(
                ex,
                [&backend, &obj, &done, &etag, index, begin, end,
                 b = buffers.take(range_size)]() mutable -> asio::awaitable<void> {
                    fetched_range out;
                    out.index = index;
                    out.read = co_await backend.get_range(obj, begin, end, etag, b.first(end - begin + 1));
                    out.buffer = std::move(b);
                    done.push(std::move(out));
                },
                asio::detached);
        }
        // Write whatever is next in order.
        if (!failure) {
            auto it = ready.find(next_write);
            if (it != ready.end()) {
                auto written = co_await write(it->second.buffer, it->second.read->bytes, next_write == 0 ? size : 0);
                buffers.give_back(std::move(it->second.buffer));
                ready.erase(it);
                if (!written) {
                    failure = written.error();
                } else {
                    ++next_write;
                }
                continue;
            }
        }
        if (next_write == range_count || in_flight == 0) break;

        fetched_range got = co_await done.pop();
        --in_flight;
        if (failure) {
            buffers.give_back(std::move(got.buffer));
            continue;
        }
        if (!got.read) {
            failure = got.read.error();
            // If-Match refused: the object was replaced after the first range.
            if (failure->code == s3_errc::precondition_failed) failure = changed(obj, "If-Match " + etag + " failed");
        } else if (got.read->etag != etag) {
            failure = changed(obj, "ETag " + etag + " became " + got.read->etag);
        } else if (got.read->object_size != size) {
            failure = changed(obj, "size " + std::to_string(size) + " became " + std::to_string(got.read->object_size));
        } else {
            ready.emplace(got.index, std::move(got));
            continue;
        }
        buffers.give_back(std::move(got.buffer));
    }

    // Cancelled after the last byte reached the sink: the download is complete, as an upload cancelled
    // after CompleteMultipartUpload is.
    if (!failure && backend.cancelled() && next_write != range_count)
        failure = error_info(engine_errc::cancelled, "download cancelled");
    if (!failure && next_write != range_count)  // cannot happen: every range is fetched in order; guard anyway
        failure = error_info(engine_errc::bad_response, "download stopped before its last range");
    if (failure) co_return *failure;
    co_return download_result{size, etag, static_cast<int>(range_count)};
}

}  // namespace cachestep::engine::detail
