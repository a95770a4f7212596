#pragma once
// An in-memory S3 behind detail::transfer_backend, for socket-free tests of the two transfer algorithms
// (upload_stream, download_object), plus the harness that drives them. Header-only: it is not a *_test.cpp,
// so the engine_tests glob does not compile it on its own.
//
// What it models, after S3's documented behaviour:
// - objects with an ETag (opaque: a CRC32C of the content and its size here, not S3's MD5, so that hashing
//   every 5 MiB part stays cheap under ASan; the algorithms only compare ETags);
// - multipart uploads: UploadPart to an unknown upload -> NoSuchUpload; CompleteMultipartUpload refuses an
//   empty list (MalformedXML), part numbers not ascending (InvalidPartOrder), an unknown part or a wrong ETag
//   or CRC32C (InvalidPart), a part under 5 MiB that is not the last (EntityTooSmall); Abort removes the
//   upload (and, like s3_operations, answers success for one already gone);
// - the checks a body carries: x-amz-checksum-crc32c, Content-MD5 and the signed SHA-256 are recomputed over
//   the bytes received, a mismatch is BadDigest; an upload created with CRC32C refuses a part without one;
// - ranged GETs: If-Match that no longer holds -> PreconditionFailed (412, checked first, as S3 does), a range
//   starting at or beyond the end (so any range of an empty object) -> InvalidRange (416), else 206 with the
//   bytes [first, min(last, size - 1)].
// What it scripts: fail call #n of one operation (or #n of all calls) with an error; run an action right after
// call #n is served (replace an object, cancel); make call #n return only after call #m (completions out of
// order), hold calls until a number of them are in flight at once (is the window used?), or delay a call.
//
// Each call is served when it arrives (state changes, bytes copied), then waits its scripted delay or at least
// one turn of the executor before it returns, so the calls of a transfer overlap as they do on a network and
// the fake can count how many are in flight at once. cancelled() is what s3_core::cancel() gives the real
// backend: every later call but AbortMultipartUpload fails with engine_errc::cancelled. The real retries live
// in s3_core, below the transfer_backend interface, so here a scripted error is the final answer of a call.

#include "crc32c.hpp"
#include "digest.hpp"
#include "transfer_backend.hpp"

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>
#include <cachestep/engine/types.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace cachestep::engine::test {

namespace asio = boost::asio;

inline constexpr std::uint64_t mib = 1ull << 20;

enum class op : int {
    put_object,
    create_multipart_upload,
    upload_part,
    complete_multipart_upload,
    abort_multipart_upload,
    get_range,
    head_object,
};
inline constexpr int op_count = 7;

inline const char* op_name(op o)
{
    static constexpr std::array<const char*, op_count> names{
        "PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
        "AbortMultipartUpload", "GetObject", "HeadObject"};
    return names[static_cast<int>(o)];
}

// An error as a server would send it, for a script: the code, and the HTTP status of an S3 error.
inline error_info injected(boost::system::error_code code, unsigned http_status = 0)
{
    error_info e(code, "scripted fault");
    e.http_status = http_status;
    return e;
}

// Deterministic, position-dependent bytes (xorshift), so any slice of a test stream is known and no two
// parts are alike: a part written at the wrong offset cannot go unnoticed.
inline const std::vector<char>& pattern_bytes()
{
    static const std::vector<char> bytes = [] {
        std::vector<char> v(21 * mib + 4096);
        std::uint64_t x = 0x9E3779B97F4A7C15ull;
        for (std::size_t i = 0; i < v.size(); i += 8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            std::memcpy(v.data() + i, &x, std::min<std::size_t>(8, v.size() - i));
        }
        return v;
    }();
    return bytes;
}
inline std::span<const char> pattern(std::size_t n)
{
    const auto& p = pattern_bytes();
    if (n > p.size()) throw std::logic_error("test stream longer than the pattern");
    return {p.data(), n};
}

inline std::string hex32(std::uint32_t v)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) s[static_cast<std::size_t>(i)] = digits[v & 0xF];
    return s;
}

inline transfer_config small_parts(int concurrency, std::uint64_t memory_parts)
{
    transfer_config cfg;
    cfg.part_size = 5 * mib;  // the least validate_transfer allows
    cfg.range_size = cfg.part_size;  // downloads: every range alike (the ramp has its own test)
    cfg.first_range_size = cfg.range_size;
    cfg.concurrency = concurrency;
    cfg.memory_limit = memory_parts * cfg.part_size;
    return cfg;
}

// What one call asked for and how it went, in arrival order.
struct call_record {
    op what{};
    int number{0};   // 1-based among the calls of this operation
    int overall{0};  // 1-based among all calls
    std::string key;
    int part_number{0};                  // UploadPart
    std::vector<int> listed_parts;       // CompleteMultipartUpload: the part numbers in the list, as sent
    bool use_crc32c{false};              // CreateMultipartUpload
    std::uint64_t first{0}, last{0};     // GetObject
    std::string if_match;                // GetObject
    payload_checks checks;               // PutObject, UploadPart
    std::size_t body_size{0};            // PutObject, UploadPart
    const char* buffer{nullptr};         // the caller's buffer (body or destination)
    std::optional<boost::system::error_code> failed;  // the error it answered, if any
};

// A run of an object's bytes: owned (what an upload sent) or a view of bytes that outlive the fake (a test's
// pattern, so that seeding a 15 MiB object copies nothing).
struct chunk {
    std::shared_ptr<const std::vector<char>> owner;  // null for a view
    std::span<const char> bytes;
};

struct stored_object {
    std::vector<chunk> chunks;  // the content, in order (a part per chunk); empty views when bytes are not kept
    std::uint64_t size{0};
    std::string etag;
    int parts{0};  // 0: written by PutObject (or seeded)
    std::string content_type;
    std::map<std::string, std::string> metadata;

    // Copies [first, first + n) into `out`.
    void copy_out(std::uint64_t first, std::size_t n, char* out) const
    {
        std::uint64_t offset = 0;
        for (const auto& c : chunks) {
            const std::uint64_t end = offset + c.bytes.size();
            if (n > 0 && first < end) {
                const auto from = static_cast<std::size_t>(first - offset);
                const std::size_t take = std::min<std::size_t>(n, c.bytes.size() - from);
                std::memcpy(out, c.bytes.data() + from, take);
                out += take;
                first += take;
                n -= take;
            }
            offset = end;
        }
    }
    bool content_equals(std::span<const char> expected) const
    {
        if (expected.size() != size) return false;
        std::size_t offset = 0;
        for (const auto& c : chunks) {
            if (offset + c.bytes.size() > expected.size()) return false;
            if (!std::equal(c.bytes.begin(), c.bytes.end(), expected.begin() + static_cast<std::ptrdiff_t>(offset)))
                return false;
            offset += c.bytes.size();
        }
        return offset == expected.size();
    }
};

class fake_backend final : public detail::transfer_backend {
public:
    explicit fake_backend(asio::any_io_executor ex) : ex_(std::move(ex)) {}

    // --- the script --------------------------------------------------------------------------------------
    // Call #n (1-based) of `what` answers `error` instead of being served.
    void fail(op what, int n, error_info error) { faults_[{static_cast<int>(what), n}] = std::move(error); }
    // Call #n of all calls, whatever its operation.
    void fail_overall(int n, error_info error) { faults_[{any_op, n}] = std::move(error); }
    // Runs `action` right after call #n of `what` (or of all calls) is served, before it returns.
    void after(op what, int n, std::function<void()> action)
    {
        actions_[{static_cast<int>(what), n}].push_back(std::move(action));
    }
    void after_overall(int n, std::function<void()> action)
    {
        actions_[{any_op, n}].push_back(std::move(action));
    }
    // cancelled() turns true after call #n of all calls has been served (n = 0: now).
    void cancel_after_overall(int n)
    {
        if (n == 0) cancel();
        else after_overall(n, [this] { cancel(); });
    }
    void cancel() { cancelled_ = true; }
    // Call #n of `what` takes `d` before it returns; every call of `what` when n == 0 (a specific n wins).
    void delay(op what, int n, std::chrono::milliseconds d) { delays_[{static_cast<int>(what), n}] = d; }
    // Call #n of `what` returns only after call #m of `what` has returned: completions out of order without
    // relying on timing. (A transfer that never makes call #m releases it after a 10 s fallback.)
    void return_after(op what, int n, int m) { return_after_[{static_cast<int>(what), n}] = m; }
    // Calls of `what` from call #from on are held until `in_flight` of them are in flight at once, then all go
    // on (and later ones are no longer held): shows that a transfer fills its window without relying on
    // timing. A transfer that never gets there is released after a 10 s fallback (and then sees fewer).
    void hold_until_in_flight(op what, int in_flight, int from = 1)
    {
        hold_ = hold{what, in_flight, from, false};
        hold_gate_ = std::make_unique<asio::steady_timer>(ex_, fallback);
    }
    // Off: GetObject ignores If-Match, as a server without conditional reads would.
    void honour_if_match(bool on) { honour_if_match_ = on; }
    // Off: parts and objects keep their size, ETag and checks but not their bytes (to save memory in tests
    // that look only at errors and counters).
    void keep_bytes(bool on) { keep_bytes_ = on; }

    // --- the store -----------------------------------------------------------------------------------------
    // Stores (or replaces) an object with `content`, which the fake refers to: it must outlive the fake.
    void place_object(const object_ref& obj, std::span<const char> content)
    {
        stored_object o;
        o.size = content.size();
        o.etag = etag_of(content);
        o.chunks.push_back(chunk{nullptr, content});
        objects_[path(obj)] = std::move(o);
    }
    const stored_object* object(const object_ref& obj) const
    {
        auto it = objects_.find(path(obj));
        return it == objects_.end() ? nullptr : &it->second;
    }
    std::size_t object_count() const { return objects_.size(); }
    std::vector<std::string> live_uploads() const
    {
        std::vector<std::string> ids;
        for (const auto& [id, u] : uploads_) ids.push_back(id);
        return ids;
    }

    // --- what happened -------------------------------------------------------------------------------------
    int calls(op what) const { return counts_[static_cast<int>(what)]; }
    int total_calls() const { return overall_; }
    int max_in_flight(op what) const { return max_active_[static_cast<int>(what)]; }
    int aborts_of_unknown_uploads() const { return aborts_of_unknown_; }
    const std::vector<call_record>& records() const { return records_; }
    std::vector<call_record> records_of(op what) const
    {
        std::vector<call_record> out;
        for (const auto& r : records_)
            if (r.what == what) out.push_back(r);
        return out;
    }
    // The order in which calls returned, as (operation, call number of that operation).
    const std::vector<std::pair<op, int>>& returned() const { return returned_; }
    // The distinct buffers the transfer handed to this operation (a body or a destination).
    std::size_t distinct_buffers(op what) const
    {
        std::set<const char*> seen;
        for (const auto& r : records_)
            if (r.what == what && r.buffer) seen.insert(r.buffer);
        return seen.size();
    }

    // --- transfer_backend ----------------------------------------------------------------------------------
    asio::awaitable<result<put_result>> put_object(const object_ref& obj, std::span<const char> body,
                                                   const payload_checks& checks,
                                                   const upload_options& options) override
    {
        const std::size_t index = arrive(op::put_object);
        records_[index].key = obj.key;
        records_[index].checks = checks;
        records_[index].body_size = body.size();
        records_[index].buffer = body.data();
        result<put_result> r = error_info(engine_errc::cancelled, "fake: cancelled");
        if (auto refused = refusal(index)) {
            r = *refused;
        } else if (auto bad = check_body(body, checks)) {
            r = *bad;
        } else {
            stored_object o;
            o.size = body.size();
            o.etag = etag_of(body);
            o.chunks.push_back(keep(body));
            o.content_type = options.content_type;
            o.metadata = options.metadata;
            r = put_result{o.etag};
            objects_[path(obj)] = std::move(o);
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<std::string>> create_multipart_upload(const object_ref& obj, const upload_options& options,
                                                                 bool use_crc32c) override
    {
        const std::size_t index = arrive(op::create_multipart_upload);
        records_[index].key = obj.key;
        records_[index].use_crc32c = use_crc32c;
        result<std::string> r = error_info(engine_errc::cancelled, "fake: cancelled");
        if (auto refused = refusal(index)) {
            r = *refused;
        } else {
            const std::string id = "upload-" + std::to_string(++upload_counter_);
            upload u;
            u.obj = obj;
            u.crc32c = use_crc32c;
            u.options = options;
            uploads_[id] = std::move(u);
            r = id;
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<completed_part>> upload_part(const object_ref& obj, const std::string& upload_id,
                                                        int part_number, std::span<const char> body,
                                                        const payload_checks& checks) override
    {
        const std::size_t index = arrive(op::upload_part);
        records_[index].key = obj.key;
        records_[index].part_number = part_number;
        records_[index].checks = checks;
        records_[index].body_size = body.size();
        records_[index].buffer = body.data();
        result<completed_part> r = error_info(engine_errc::cancelled, "fake: cancelled");
        auto it = uploads_.find(upload_id);
        if (auto refused = refusal(index)) {
            r = *refused;
        } else if (it == uploads_.end() || path(it->second.obj) != path(obj)) {
            r = s3_error(s3_errc::no_such_upload, 404, "no upload " + upload_id + " for " + obj.key);
        } else if (part_number < 1 || part_number > max_part_count) {
            r = s3_error(s3_errc::invalid_argument, 400, "part number " + std::to_string(part_number));
        } else if (auto bad = check_body(body, checks)) {
            r = *bad;
        } else if (it->second.crc32c && checks.crc32c.empty()) {
            r = s3_error(s3_errc::invalid_request, 400, "upload declared CRC32C; part without x-amz-checksum-crc32c");
        } else {
            stored_part p;
            p.bytes = keep(body);
            p.size = body.size();
            p.etag = etag_of(body);
            p.crc32c = checks.crc32c;
            r = completed_part{part_number, p.etag, checks.crc32c};
            it->second.parts[part_number] = std::move(p);
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<complete_result>> complete_multipart_upload(
        const object_ref& obj, const std::string& upload_id, const std::vector<completed_part>& parts) override
    {
        const std::size_t index = arrive(op::complete_multipart_upload);
        records_[index].key = obj.key;
        for (const auto& p : parts) records_[index].listed_parts.push_back(p.part_number);
        result<complete_result> r = error_info(engine_errc::cancelled, "fake: cancelled");
        auto it = uploads_.find(upload_id);
        if (auto refused = refusal(index)) {
            r = *refused;
        } else if (it == uploads_.end() || path(it->second.obj) != path(obj)) {
            r = s3_error(s3_errc::no_such_upload, 404, "no upload " + upload_id);
        } else if (auto bad = check_part_list(it->second, parts)) {
            r = *bad;
        } else {
            stored_object o;
            std::string etags;
            for (const auto& listed : parts) {
                const stored_part& p = it->second.parts.at(listed.part_number);
                o.chunks.push_back(p.bytes);
                o.size += p.size;
                etags += p.etag;
            }
            o.parts = static_cast<int>(parts.size());
            o.etag = "\"" + hex32(detail::crc32c_update(0, etags.data(), etags.size())) + "-" +
                     std::to_string(parts.size()) + "\"";
            o.content_type = it->second.options.content_type;
            o.metadata = it->second.options.metadata;
            r = complete_result{o.etag, "/" + obj.bucket + "/" + obj.key};
            objects_[path(obj)] = std::move(o);
            uploads_.erase(it);
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<void>> abort_multipart_upload(const object_ref& obj, const std::string& upload_id) override
    {
        const std::size_t index = arrive(op::abort_multipart_upload);
        records_[index].key = obj.key;
        result<void> r;
        if (auto refused = refusal(index)) {  // never refused for cancellation: the abort survives cancel()
            r = *refused;
        } else if (auto it = uploads_.find(upload_id); it != uploads_.end() && path(it->second.obj) == path(obj)) {
            uploads_.erase(it);
        } else {
            ++aborts_of_unknown_;  // answered as s3_operations does: already gone is success
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<range_read>> get_range(const object_ref& obj, std::uint64_t first, std::uint64_t last,
                                                  const std::string& if_match, std::span<char> into) override
    {
        const std::size_t index = arrive(op::get_range);
        records_[index].key = obj.key;
        records_[index].first = first;
        records_[index].last = last;
        records_[index].if_match = if_match;
        records_[index].buffer = into.data();
        result<range_read> r = error_info(engine_errc::cancelled, "fake: cancelled");
        auto it = objects_.find(path(obj));
        if (auto refused = refusal(index)) {
            r = *refused;
        } else if (last < first || into.size() < last - first + 1) {
            r = error_info(engine_errc::invalid_argument, "get_range: buffer smaller than the range");
        } else if (it == objects_.end()) {
            r = s3_error(s3_errc::no_such_key, 404, obj.key);
        } else if (honour_if_match_ && !if_match.empty() && if_match != it->second.etag) {
            r = s3_error(s3_errc::precondition_failed, 412, "If-Match " + if_match + " vs " + it->second.etag);
        } else if (first >= it->second.size) {
            r = s3_error(s3_errc::invalid_range, 416, "bytes=" + std::to_string(first) + "-" + std::to_string(last));
        } else {
            const std::uint64_t end = std::min(last, it->second.size - 1);
            const auto n = static_cast<std::size_t>(end - first + 1);
            it->second.copy_out(first, n, into.data());
            r = range_read{n, it->second.size, it->second.etag, false};
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    asio::awaitable<result<object_info>> head_object(const object_ref& obj) override
    {
        const std::size_t index = arrive(op::head_object);
        records_[index].key = obj.key;
        result<object_info> r = error_info(engine_errc::cancelled, "fake: cancelled");
        auto it = objects_.find(path(obj));
        if (auto refused = refusal(index)) {
            r = *refused;
        } else if (it == objects_.end()) {
            r = s3_error(s3_errc::no_such_key, 404, obj.key);
        } else {
            object_info info;
            info.size = it->second.size;
            info.etag = it->second.etag;
            info.content_type = it->second.content_type;
            info.metadata = it->second.metadata;
            r = std::move(info);
        }
        note(index, r);
        co_await settle(index);
        co_return r;
    }

    bool cancelled() const override { return cancelled_; }

private:
    static constexpr int any_op = -1;

    struct stored_part {
        chunk bytes;
        std::uint64_t size{0};
        std::string etag;
        std::string crc32c;
    };
    struct upload {
        object_ref obj;
        bool crc32c{false};
        upload_options options;
        std::map<int, stored_part> parts;
    };

    static std::string path(const object_ref& obj) { return obj.bucket + "/" + obj.key; }
    static std::string etag_of(std::span<const char> body)
    {
        return "\"" + hex32(detail::crc32c_update(0, body.data(), body.size())) + "-" + std::to_string(body.size()) +
               "\"";
    }
    static error_info s3_error(s3_errc code, unsigned status, std::string message)
    {
        error_info e(code, "fake: " + std::move(message));
        e.http_status = status;
        return e;
    }

    chunk keep(std::span<const char> body) const
    {
        if (!keep_bytes_) return chunk{};
        auto owner = std::make_shared<const std::vector<char>>(body.begin(), body.end());
        std::span<const char> view(owner->data(), owner->size());
        return chunk{std::move(owner), view};
    }

    // Records the arrival; returns the index of its record.
    std::size_t arrive(op what)
    {
        const int w = static_cast<int>(what);
        call_record rec;
        rec.what = what;
        rec.number = ++counts_[w];
        rec.overall = ++overall_;
        records_.push_back(std::move(rec));
        ++active_[w];
        max_active_[w] = std::max(max_active_[w], active_[w]);
        return records_.size() - 1;
    }

    // A scripted fault for this call, else cancellation, else nothing (serve it).
    std::optional<error_info> refusal(std::size_t index) const
    {
        const call_record& rec = records_[index];
        if (auto f = faults_.find({static_cast<int>(rec.what), rec.number}); f != faults_.end()) return f->second;
        if (auto f = faults_.find({any_op, rec.overall}); f != faults_.end()) return f->second;
        if (cancelled_ && rec.what != op::abort_multipart_upload)
            return error_info(engine_errc::cancelled, "fake: cancelled");
        return std::nullopt;
    }

    // What S3 answers when a body's checks do not match the bytes that arrived.
    static std::optional<error_info> check_body(std::span<const char> body, const payload_checks& checks)
    {
        if (!checks.crc32c.empty() &&
            checks.crc32c != detail::crc32c_base64(detail::crc32c_update(0, body.data(), body.size())))
            return s3_error(s3_errc::bad_digest, 400, "x-amz-checksum-crc32c " + checks.crc32c + " does not match");
        if (!checks.md5.empty() && checks.md5 != detail::content_md5(body.data(), body.size()))
            return s3_error(s3_errc::bad_digest, 400, "Content-MD5 " + checks.md5 + " does not match");
        if (!checks.sha256.empty()) {
            detail::sha256_hasher h;
            h.update(body.data(), body.size());
            if (checks.sha256 != h.finish_hex())
                return s3_error(s3_errc::bad_digest, 400, "x-amz-content-sha256 " + checks.sha256 + " does not match");
        }
        return std::nullopt;
    }

    static std::optional<error_info> check_part_list(const upload& u, const std::vector<completed_part>& parts)
    {
        if (parts.empty()) return s3_error(s3_errc::malformed_xml, 400, "no parts listed");
        for (std::size_t i = 0; i < parts.size(); ++i) {
            const completed_part& listed = parts[i];
            if (i > 0 && listed.part_number <= parts[i - 1].part_number)
                return s3_error(s3_errc::invalid_part_order, 400, "part " + std::to_string(listed.part_number));
            auto p = u.parts.find(listed.part_number);
            if (p == u.parts.end() || p->second.etag != listed.etag)
                return s3_error(s3_errc::invalid_part, 400, "part " + std::to_string(listed.part_number));
            if (u.crc32c && listed.checksum_crc32c != p->second.crc32c)
                return s3_error(s3_errc::invalid_part, 400, "checksum of part " + std::to_string(listed.part_number));
            if (i + 1 < parts.size() && p->second.size < min_part_size)
                return s3_error(s3_errc::entity_too_small, 400, "part " + std::to_string(listed.part_number));
        }
        return std::nullopt;
    }

    // Keeps what the call answered in its record.
    template <class R>
    void note(std::size_t index, const R& r)
    {
        if (!r) records_[index].failed = r.error().code;
    }

    // Runs the actions scripted after this call, waits its delay (or one turn of the executor), leaves.
    // Takes only an index: a coroutine given an owning value by copy is what g++ 12 miscompiles
    // (DEVELOPERS.md, "Compiler pitfalls"), so each call keeps its answer in its own frame.
    asio::awaitable<void> settle(std::size_t index)
    {
        const op what = records_[index].what;
        const int number = records_[index].number;
        run_actions(what, number, records_[index].overall);
        co_await pause(what, number);
        --active_[static_cast<int>(what)];
        returned_.emplace_back(what, number);
        if (auto waiting = gates_.find({static_cast<int>(what), number}); waiting != gates_.end()) {
            for (auto& gate : waiting->second) gate->cancel();
            gates_.erase(waiting);
        }
    }

    void run_actions(op what, int number, int overall)
    {
        for (const auto& key : {std::pair{static_cast<int>(what), number}, std::pair{any_op, overall}}) {
            auto it = actions_.find(key);
            if (it == actions_.end()) continue;
            auto actions = std::move(it->second);
            actions_.erase(it);
            for (auto& a : actions) a();
        }
    }

    asio::awaitable<void> pause(op what, int n)
    {
        const int w = static_cast<int>(what);
        if (hold_ && hold_->what == what && n >= hold_->from && !hold_->released) {
            if (active_[w] >= hold_->in_flight) {
                hold_->released = true;
                hold_gate_->cancel();
            } else {
                co_await hold_gate_->async_wait(asio::as_tuple(asio::use_awaitable));
                hold_->released = true;
                co_return;
            }
        }
        if (auto after = return_after_.find({w, n}); after != return_after_.end()) {
            const std::pair<int, int> awaited{w, after->second};
            if (std::find(returned_.begin(), returned_.end(), std::pair{what, after->second}) == returned_.end()) {
                auto gate = std::make_shared<asio::steady_timer>(ex_, fallback);
                gates_[awaited].push_back(gate);
                co_await gate->async_wait(asio::as_tuple(asio::use_awaitable));
                co_return;
            }
        }
        std::chrono::milliseconds d{0};
        if (auto it = delays_.find({static_cast<int>(what), n}); it != delays_.end()) d = it->second;
        else if (auto all = delays_.find({static_cast<int>(what), 0}); all != delays_.end()) d = all->second;
        if (d.count() > 0) {
            asio::steady_timer timer(ex_, d);
            co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        } else {
            co_await asio::post(ex_, asio::use_awaitable);
        }
    }

    static constexpr std::chrono::seconds fallback{10};
    struct hold {
        op what;
        int in_flight;
        int from;
        bool released;
    };

    asio::any_io_executor ex_;
    std::map<std::pair<int, int>, error_info> faults_;
    std::map<std::pair<int, int>, int> return_after_;
    std::map<std::pair<int, int>, std::vector<std::shared_ptr<asio::steady_timer>>> gates_;  // by awaited call
    std::optional<hold> hold_;
    std::unique_ptr<asio::steady_timer> hold_gate_;
    std::map<std::pair<int, int>, std::vector<std::function<void()>>> actions_;
    std::map<std::pair<int, int>, std::chrono::milliseconds> delays_;
    bool honour_if_match_{true};
    bool keep_bytes_{true};
    std::atomic<bool> cancelled_{false};

    std::map<std::string, stored_object> objects_;
    std::map<std::string, upload> uploads_;
    int upload_counter_{0};

    std::array<int, op_count> counts_{};
    std::array<int, op_count> active_{};
    std::array<int, op_count> max_active_{};
    int overall_{0};
    int aborts_of_unknown_{0};
    std::vector<call_record> records_;
    std::vector<std::pair<op, int>> returned_;
};

// One transfer's world: the network thread's io_context (run by the test thread), the worker thread the
// transfer reads its source / writes its sink on, and the fake S3.
struct transfer_harness {
    asio::io_context io;
    asio::thread_pool worker{1};
    asio::any_io_executor worker_executor{worker.get_executor()};
    fake_backend backend{io.get_executor()};

    // Runs `work` to its end on the io_context. A transfer that never ends fails the test instead of hanging
    // the suite (a generous bound, not a timing assertion).
    template <class T>
    T run(asio::awaitable<T> work)
    {
        io.restart();  // a harness may run several pieces of work one after the other
        auto done = asio::co_spawn(io, std::move(work), asio::use_future);
        io.run_for(std::chrono::seconds(60));
        if (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
            throw std::runtime_error("the transfer did not finish: it waits for something that never comes");
        return done.get();
    }
};

inline std::ostream& boost_test_print_type(std::ostream& os, op o) { return os << op_name(o); }

}  // namespace cachestep::engine::test

namespace cachestep::engine {
// So that BOOST_TEST(e.code == s3_errc::...) can print both sides when it fails.
inline std::ostream& boost_test_print_type(std::ostream& os, s3_errc e) { return os << make_error_code(e); }
inline std::ostream& boost_test_print_type(std::ostream& os, engine_errc e) { return os << make_error_code(e); }
}  // namespace cachestep::engine
