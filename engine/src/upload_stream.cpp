#include "upload_stream.hpp"

#include "completion_queue.hpp"
#include "crc32c.hpp"
#include "digest.hpp"
#include "part_buffer.hpp"
#include "part_plan.hpp"
#include "run_blocking.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <map>
#include <optional>

namespace cachestep::engine::detail {
namespace {

// One part as read from the source, with its checks, ready to send.
struct filled_part {
    int number{0};
    part_buffer buffer;
    std::size_t size{0};
    bool source_ended{false};  // the source reported its end while filling this part
    payload_checks checks;
    std::optional<error_info> error;
};

// Runs on the worker: blocking reads until the part is full or the source ends, then the checks.
filled_part fill_part(byte_source& source, int number, part_buffer buffer, std::size_t size, check_kinds kinds)
{
    filled_part p;
    p.number = number;
    p.buffer = std::move(buffer);
    auto span = p.buffer.first(size);
    while (p.size < size) {
        auto n = source.read(span.subspan(p.size));
        if (!n) {
            p.error = n.error();
            if (p.error->code != engine_errc::source_failed) p.error->code = engine_errc::source_failed;
            return p;
        }
        if (*n == 0) {
            p.source_ended = true;
            break;
        }
        p.size += *n;
    }
    p.checks = compute_checks({p.buffer.data.get(), p.size}, kinds);
    return p;
}

struct part_outcome {
    int number{0};
    part_buffer buffer;
    result<completed_part> uploaded{error_info(engine_errc::cancelled)};
};

}  // namespace

payload_checks compute_checks(std::span<const char> body, check_kinds kinds)
{
    payload_checks c;
    if (kinds.crc32c) c.crc32c = crc32c_base64(crc32c_update(0, body.data(), body.size()));
    if (kinds.md5) c.md5 = content_md5(body.data(), body.size());
    if (kinds.sha256) {
        sha256_hasher h;
        h.update(body.data(), body.size());
        c.sha256 = h.finish_hex();
    }
    return c;
}

check_kinds checks_for(const upload_plan& plan)
{
    check_kinds k;
    k.crc32c = plan.transfer.checksum == payload_checksum::crc32c;
    k.md5 = plan.transfer.checksum == payload_checksum::md5;
    // Automatic: every body carries one check the server can verify. The checksum is that check (CRC32C costs
    // ~0.05 CPU-s/GB against ~0.5 for SHA-256); only without one, on a plain-HTTP link, is the payload signed.
    k.sha256 = plan.transfer.signing == payload_signing::always ||
               (plan.transfer.signing == payload_signing::automatic && !plan.over_tls &&
                plan.transfer.checksum == payload_checksum::none);
    return k;
}

boost::asio::awaitable<result<upload_result>> upload_stream(transfer_backend& backend, const object_ref& obj,
                                                            byte_source& source, const upload_options& options,
                                                            const upload_plan& plan,
                                                            const boost::asio::any_io_executor& worker)
{
    namespace asio = boost::asio;
    if (auto valid = validate_transfer(plan.transfer); !valid) co_return valid.error();
    const auto& cfg = plan.transfer;
    const check_kinds kinds = checks_for(plan);
    buffer_pool buffers;
    auto read_part = [&](int number) -> asio::awaitable<filled_part> {
        const auto size = static_cast<std::size_t>(part_size_for(number, cfg.part_size));
        auto fill = [&source, number, b = buffers.take(size), size, kinds]() mutable {
            return fill_part(source, number, std::move(b), size, kinds);
        };
        co_return co_await run_blocking(worker, fill);  // fill lives across the co_await: see run_blocking.hpp
    };

    // The first two parts decide: a stream that fits one part is one PutObject (also at exactly one part's
    // size, which is why the second part is read before deciding).
    filled_part first = co_await read_part(1);
    if (first.error) co_return *first.error;
    std::optional<filled_part> second;
    if (!first.source_ended) {
        second = co_await read_part(2);
        if (second->error) co_return *second->error;
        if (second->size == 0) second.reset();
    }
    if (!second) {
        if (backend.cancelled()) co_return error_info(engine_errc::cancelled, "upload cancelled");
        auto put = co_await backend.put_object(obj, {first.buffer.data.get(), first.size}, first.checks, options);
        if (!put) co_return put.error();
        co_return upload_result{put->etag, first.size, 0};
    }

    if (backend.cancelled()) co_return error_info(engine_errc::cancelled, "upload cancelled");
    auto upload_id = co_await backend.create_multipart_upload(obj, options, kinds.crc32c);
    if (!upload_id) co_return upload_id.error();

    auto ex = co_await asio::this_coro::executor;
    completion_queue<part_outcome> done(ex);
    int in_flight = 0;
    std::uint64_t total = 0;
    std::map<int, completed_part> parts;
    std::optional<error_info> failure;

    auto start_upload = [&](filled_part p) {
        total += p.size;
        ++in_flight;
        asio::co_spawn(
            ex,
            [&backend, &obj, &done, id = *upload_id, p = std::move(p)]() mutable -> asio::awaitable<void> {
                part_outcome out;
                out.number = p.number;
                out.uploaded = co_await backend.upload_part(obj, id, p.number, {p.buffer.data.get(), p.size}, p.checks);
                out.buffer = std::move(p.buffer);
                done.push(std::move(out));
            },
            asio::detached);
    };

    // Parts 1 and 2 are read; from here on: at most `concurrency` parts in flight, and at most
    // buffers_for(size) buffers held (in flight + the one read ahead), so memory stays bounded.
    bool source_ended = first.source_ended || second->source_ended;
    std::optional<filled_part> ready = std::move(second);  // read, waiting for a free request
    start_upload(std::move(first));
    int next_number = 3;

    for (;;) {
        if (ready && in_flight < cfg.concurrency && !failure && !backend.cancelled()) {
            start_upload(std::move(*ready));
            ready.reset();
            continue;
        }
        const std::uint64_t size = part_size_for(next_number, cfg.part_size);
        if (!ready && !source_ended && !failure && !backend.cancelled() &&
            in_flight + 1 <= buffers_for(size, cfg)) {
            if (next_number > max_part_count) {
                failure = error_info(engine_errc::object_too_large,
                                     "the stream is longer than 10,000 parts can hold (" + std::to_string(total) +
                                         " bytes sent)");
                continue;
            }
            filled_part p = co_await read_part(next_number);
            if (p.error) {
                failure = *p.error;
                buffers.give_back(std::move(p.buffer));
                continue;
            }
            source_ended = p.source_ended;
            if (p.size == 0) {
                buffers.give_back(std::move(p.buffer));
                continue;
            }
            ++next_number;
            ready = std::move(p);
            continue;
        }
        if (in_flight == 0) break;
        part_outcome out = co_await done.pop();
        --in_flight;
        buffers.give_back(std::move(out.buffer));
        if (!out.uploaded) {
            if (!failure) failure = out.uploaded.error();
        } else {
            parts[out.number] = std::move(*out.uploaded);
        }
    }
    if (ready) buffers.give_back(std::move(ready->buffer));  // read but never sent (a failure came first)

    if (!failure && backend.cancelled()) failure = error_info(engine_errc::cancelled, "upload cancelled");
    if (!failure) {
        std::vector<completed_part> list;
        list.reserve(parts.size());
        for (auto& [n, part] : parts) list.push_back(std::move(part));
        auto completed = co_await backend.complete_multipart_upload(obj, *upload_id, list);
        if (completed) co_return upload_result{completed->etag, total, static_cast<int>(list.size())};
        failure = completed.error();
    }

    // Every part has finished: one abort leaves nothing behind on the server.
    auto aborted = co_await backend.abort_multipart_upload(obj, *upload_id);
    if (!aborted) {
        if (!failure->message.empty()) failure->message += "; ";
        failure->message += "AbortMultipartUpload of upload " + *upload_id + " also failed (" +
                            aborted.error().to_string() + "): the upload may remain on the server";
    }
    co_return *failure;
}

}  // namespace cachestep::engine::detail
