// Upload of a stream of unknown length (engine/src/upload_stream.cpp), driven through the in-memory S3 of
// fake_backend.hpp: the PutObject / multipart decision at every size around one part, bytes stored equal
// bytes given, parts completed in order whatever order they finish in, the window (requests in flight, part
// buffers held), short reads, a failing source, every backend call failed in turn and cancellation at every
// step (one AbortMultipartUpload, no live upload, never a partial object under the key), and the checks each
// part carries.
#include "fake_backend.hpp"
#include "upload_stream.hpp"

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

using namespace cachestep::engine;
using namespace cachestep::engine::test;
using cachestep::engine::detail::upload_plan;

namespace {

constexpr std::uint64_t part = 5 * mib;

const object_ref target{"bucket", "cache/npm.tar.lz4"};
const std::string previous_content = "the cache saved by an earlier run";

// A byte_source over a span, read on the transfer's worker thread. It can hand out short reads and fail at an
// offset, and it notes the buffers the parts are filled into: a part starts at every multiple of the part
// size (all parts of these small streams have the base size), and the buffer_pool allocates a buffer only
// when none is free, so the distinct buffers seen there are the most part buffers the transfer held at once.
class scripted_source final : public byte_source {
public:
    explicit scripted_source(std::span<const char> data) : data_(data) {}

    std::function<std::size_t(std::uint64_t position)> max_read;  // null: as much as asked
    std::optional<std::uint64_t> fail_at;                           // the read at this offset fails

    result<std::size_t> read(std::span<char> buffer) override
    {
        std::lock_guard lock(mutex_);  // the worker writes, the test thread reads afterwards
        ++reads_;
        if (failed_ || ended_) ++reads_after_the_end_;
        if (position_ % part == 0) part_buffers_.insert(buffer.data());
        if (fail_at && position_ >= *fail_at) {
            failed_ = true;
            return error_info(make_error_code(boost::system::errc::io_error), "reading the archive pipe: I/O error");
        }
        std::size_t n = std::min<std::size_t>(buffer.size(), data_.size() - position_);
        if (max_read) n = std::min(n, std::max<std::size_t>(1, max_read(position_)));
        if (fail_at) n = std::min<std::size_t>(n, *fail_at - position_);
        std::memcpy(buffer.data(), data_.data() + position_, n);
        position_ += n;
        if (n == 0) ended_ = true;
        return n;
    }

    std::size_t part_buffers() const
    {
        std::lock_guard lock(mutex_);
        return part_buffers_.size();
    }
    int reads_after_the_end() const
    {
        std::lock_guard lock(mutex_);
        return reads_after_the_end_;
    }
    int reads() const
    {
        std::lock_guard lock(mutex_);
        return reads_;
    }

private:
    std::span<const char> data_;
    mutable std::mutex mutex_;
    std::uint64_t position_{0};
    int reads_{0};
    int reads_after_the_end_{0};  // reads after it answered 0 or failed
    bool ended_{false};
    bool failed_{false};
    std::set<const char*> part_buffers_;
};

upload_plan plan_for(transfer_config cfg, bool over_tls = true)
{
    upload_plan plan;
    plan.transfer = cfg;
    plan.over_tls = over_tls;
    return plan;
}

result<upload_result> upload(transfer_harness& h, byte_source& source, const upload_plan& plan)
{
    const upload_options options;
    return h.run(detail::upload_stream(h.backend, target, source, options, plan, h.worker_executor));
}

std::vector<std::uint64_t> part_sizes(const fake_backend& b)
{
    std::vector<std::uint64_t> sizes;
    for (const auto& r : b.records_of(op::upload_part)) sizes.push_back(r.body_size);
    return sizes;
}

std::vector<op> call_sequence(const fake_backend& b)
{
    std::vector<op> ops;
    for (const auto& r : b.records()) ops.push_back(r.what);
    return ops;
}

// After a failed upload: nothing left on the server and the key still holds what it held before.
void expect_nothing_left_behind(const fake_backend& b)
{
    BOOST_TEST(b.live_uploads().empty());
    BOOST_TEST(b.object_count() == 1u);
    const stored_object* o = b.object(target);
    BOOST_TEST_REQUIRE(o != nullptr);
    BOOST_TEST(o->content_equals(previous_content));
}

// Errors a backend call can end with, used in turn: S3 errors (retryable or not: retries live in s3_core,
// below this interface, so here each is final) and a transport error.
const std::vector<error_info>& backend_errors()
{
    static const std::vector<error_info> errors{
        injected(s3_errc::internal_error, 500),
        injected(s3_errc::access_denied, 403),
        injected(boost::asio::error::connection_reset),
        injected(s3_errc::no_such_upload, 404),
        injected(engine_errc::timeout),
        injected(s3_errc::slow_down, 503),
    };
    return errors;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_upload_stream)

BOOST_AUTO_TEST_CASE(a_stream_that_fits_one_part_is_one_put_object_else_a_multipart_upload)
{
    struct expectation {
        std::uint64_t size;
        bool multipart;
        std::vector<std::uint64_t> parts;
    };
    const std::vector<expectation> cases{
        {0, false, {}},
        {1, false, {}},
        {part - 1, false, {}},
        {part, false, {}},  // exactly one part: the empty second part is read before deciding
        {part + 1, true, {part, 1}},
        {2 * part, true, {part, part}},  // ends on a part boundary: the empty third part is read, not sent
    };
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT("stream of " << c.size << " bytes")
        {
            transfer_harness h;
            scripted_source source(pattern(c.size));
            auto r = upload(h, source, plan_for(small_parts(4, 8)));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(r->size == c.size);
            BOOST_TEST(r->parts == static_cast<int>(c.parts.size()));
            BOOST_TEST(h.backend.calls(op::put_object) == (c.multipart ? 0 : 1));
            BOOST_TEST(h.backend.calls(op::create_multipart_upload) == (c.multipart ? 1 : 0));
            BOOST_TEST(h.backend.calls(op::complete_multipart_upload) == (c.multipart ? 1 : 0));
            BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == 0);
            BOOST_TEST(part_sizes(h.backend) == c.parts);
            const stored_object* o = h.backend.object(target);
            BOOST_TEST_REQUIRE(o != nullptr);
            BOOST_TEST(o->content_equals(pattern(c.size)));
            BOOST_TEST(o->etag == r->etag);
            BOOST_TEST(h.backend.live_uploads().empty());
            BOOST_TEST(source.reads_after_the_end() == 0);
            if (c.size == part) BOOST_TEST(source.part_buffers() == 2u);  // the second part was read
        }
    }
}

BOOST_AUTO_TEST_CASE(parts_finishing_out_of_order_are_completed_in_order)
{
    transfer_harness h;
    const std::size_t size = 3 * part + 777;  // three parts and a tail
    h.backend.return_after(op::upload_part, 1, 3);
    h.backend.return_after(op::upload_part, 2, 4);
    scripted_source source(pattern(size));
    auto r = upload(h, source, plan_for(small_parts(4, 8)));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
    BOOST_TEST(r->parts == 4);
    BOOST_TEST(r->size == size);

    // The scenario happened: part 1 came back after part 3, part 2 after part 4.
    const auto& returned = h.backend.returned();
    const auto at = [&](int n) {
        return std::find(returned.begin(), returned.end(), std::pair{op::upload_part, n}) - returned.begin();
    };
    BOOST_TEST(at(1) > at(3));
    BOOST_TEST(at(2) > at(4));

    const auto complete = h.backend.records_of(op::complete_multipart_upload);
    BOOST_TEST_REQUIRE(complete.size() == 1u);
    BOOST_TEST(complete[0].listed_parts == (std::vector<int>{1, 2, 3, 4}));
    BOOST_TEST(part_sizes(h.backend) == (std::vector<std::uint64_t>{part, part, part, 777}));
    const stored_object* o = h.backend.object(target);
    BOOST_TEST_REQUIRE(o != nullptr);
    BOOST_TEST(o->content_equals(pattern(size)));
    BOOST_TEST(o->parts == 4);
    BOOST_TEST(o->etag == r->etag);
}

// Requests in flight never exceed the concurrency; part buffers held at once never exceed
// memory_limit / part_size (at least 2, which validate_transfer demands), the part being read included.
BOOST_AUTO_TEST_CASE(the_window_stays_within_concurrency_and_memory)
{
    struct window {
        int concurrency;
        std::uint64_t memory_parts;
    };
    for (const auto w : {window{1, 8}, window{3, 3}, window{8, 3}, window{8, 2}}) {
        BOOST_TEST_CONTEXT("concurrency " << w.concurrency << ", memory for " << w.memory_parts << " parts")
        {
            transfer_harness h;
            h.backend.keep_bytes(false);
            h.backend.delay(op::upload_part, 0, std::chrono::milliseconds(15));  // let requests pile up
            scripted_source source(pattern(4 * part + 10));
            auto r = upload(h, source, plan_for(small_parts(w.concurrency, w.memory_parts)));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(r->parts == 5);
            BOOST_TEST(h.backend.max_in_flight(op::upload_part) <= w.concurrency);
            BOOST_TEST(source.part_buffers() <= w.memory_parts);
        }
    }
}

// The window is there to be used: while no upload returns, as many parts go in flight as the concurrency and
// the memory allow together (a part being read needs a buffer, a part in flight keeps its own).
BOOST_AUTO_TEST_CASE(the_window_is_used_in_full)
{
    struct window {
        int concurrency;
        std::uint64_t memory_parts;
        int in_flight;
    };
    for (const auto w : {window{3, 8, 3}, window{8, 4, 4}}) {
        BOOST_TEST_CONTEXT("concurrency " << w.concurrency << ", memory for " << w.memory_parts << " parts")
        {
            transfer_harness h;
            h.backend.keep_bytes(false);
            h.backend.hold_until_in_flight(op::upload_part, w.in_flight);
            scripted_source source(pattern(4 * part + 10));
            auto r = upload(h, source, plan_for(small_parts(w.concurrency, w.memory_parts)));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(h.backend.max_in_flight(op::upload_part) == w.in_flight);
            BOOST_TEST(source.part_buffers() <= w.memory_parts);
        }
    }
}

// A transfer needs a part on the wire while the next is read: memory for fewer than two parts is refused
// before the source is read or a request goes out.
BOOST_AUTO_TEST_CASE(memory_for_fewer_than_two_parts_is_refused_up_front)
{
    transfer_config cfg = small_parts(8, 2);
    cfg.memory_limit -= 1;
    transfer_harness h;
    scripted_source source(pattern(100));
    auto r = upload(h, source, plan_for(cfg));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == engine_errc::invalid_argument);
    BOOST_TEST(source.reads() == 0);
    BOOST_TEST(h.backend.total_calls() == 0);
}

BOOST_AUTO_TEST_CASE(short_reads_still_fill_whole_parts)
{
    transfer_harness h;
    const std::size_t size = 2 * part + 3;
    scripted_source source(pattern(size));
    // One byte at a time at the start and around each part boundary, an odd size elsewhere.
    source.max_read = [](std::uint64_t position) -> std::size_t {
        const std::uint64_t into_part = position % part;
        if (position < 64 * 1024 || into_part < 100 || into_part > part - 100) return 1;
        return 7919;
    };
    auto r = upload(h, source, plan_for(small_parts(2, 4)));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
    BOOST_TEST(source.reads() > 64 * 1024);
    BOOST_TEST(part_sizes(h.backend) == (std::vector<std::uint64_t>{part, part, 3}));
    const stored_object* o = h.backend.object(target);
    BOOST_TEST_REQUIRE(o != nullptr);
    BOOST_TEST(o->content_equals(pattern(size)));
}

BOOST_AUTO_TEST_CASE(a_failing_source_fails_the_upload_and_leaves_nothing_behind)
{
    struct failure_point {
        std::uint64_t offset;
        bool upload_created;  // the first two parts are read before CreateMultipartUpload
    };
    for (const auto f : {failure_point{0, false}, failure_point{100, false}, failure_point{part + 100, false},
                         failure_point{2 * part + 100, true}, failure_point{3 * part, true}}) {
        BOOST_TEST_CONTEXT("the source fails at byte " << f.offset)
        {
            transfer_harness h;
            h.backend.keep_bytes(false);
            h.backend.place_object(target, previous_content);
            scripted_source source(pattern(3 * part + 500));
            source.fail_at = f.offset;
            auto r = upload(h, source, plan_for(small_parts(2, 2)));
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == engine_errc::source_failed);
            BOOST_TEST(r.error().message.find("I/O error") != std::string::npos);
            BOOST_TEST(h.backend.calls(op::create_multipart_upload) == (f.upload_created ? 1 : 0));
            BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == (f.upload_created ? 1 : 0));
            BOOST_TEST(h.backend.calls(op::complete_multipart_upload) == 0);
            BOOST_TEST(h.backend.calls(op::put_object) == 0);
            BOOST_TEST(source.reads_after_the_end() == 0);
            expect_nothing_left_behind(h.backend);
        }
    }
}

// The fault matrix: fail the 1st, 2nd, ... backend call of a three-part upload in turn.
BOOST_AUTO_TEST_CASE(each_failed_backend_call_fails_the_upload_with_one_abort)
{
    const std::size_t size = 2 * part + 1;
    const auto plan = plan_for(small_parts(2, 2));
    int calls = 0;
    {
        transfer_harness h;
        h.backend.keep_bytes(false);
        scripted_source source(pattern(size));
        auto r = upload(h, source, plan);
        BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
        const std::vector<op> expected{op::create_multipart_upload, op::upload_part, op::upload_part,
                                       op::upload_part, op::complete_multipart_upload};
        BOOST_TEST_REQUIRE(call_sequence(h.backend) == expected, "the matrix below assumes this sequence");
        calls = h.backend.total_calls();
    }
    for (int k = 1; k <= calls; ++k) {
        const error_info& e = backend_errors()[static_cast<std::size_t>(k - 1) % backend_errors().size()];
        BOOST_TEST_CONTEXT("call " << k << " fails with " << e.code.message())
        {
            transfer_harness h;
            h.backend.keep_bytes(false);
            h.backend.place_object(target, previous_content);
            h.backend.fail_overall(k, e);
            scripted_source source(pattern(size));
            auto r = upload(h, source, plan);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == e.code);
            BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == (k == 1 ? 0 : 1));
            BOOST_TEST(h.backend.aborts_of_unknown_uploads() == 0);
            BOOST_TEST(h.backend.calls(op::complete_multipart_upload) == (k == calls ? 1 : 0));
            expect_nothing_left_behind(h.backend);
        }
    }
    for (const auto& e : {backend_errors()[0], backend_errors()[1]}) {
        BOOST_TEST_CONTEXT("PutObject fails with " << e.code.message())
        {
            transfer_harness h;
            h.backend.place_object(target, previous_content);
            h.backend.fail(op::put_object, 1, e);
            scripted_source source(pattern(1000));
            auto r = upload(h, source, plan);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == e.code);
            BOOST_TEST(h.backend.calls(op::create_multipart_upload) == 0);
            BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == 0);
            expect_nothing_left_behind(h.backend);
        }
    }
}

BOOST_AUTO_TEST_CASE(a_failed_abort_is_reported_beside_the_first_error)
{
    transfer_harness h;
    h.backend.keep_bytes(false);
    h.backend.place_object(target, previous_content);
    h.backend.fail(op::upload_part, 2, injected(s3_errc::access_denied, 403));
    h.backend.fail(op::abort_multipart_upload, 1, injected(boost::asio::error::connection_refused));
    scripted_source source(pattern(2 * part + 1));
    auto r = upload(h, source, plan_for(small_parts(2, 2)));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == s3_errc::access_denied);
    BOOST_TEST(r.error().message.find("AbortMultipartUpload") != std::string::npos, r.error().message);
    BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == 1);
    BOOST_TEST(h.backend.live_uploads().size() == 1u);  // the server keeps it: the message says so
    BOOST_TEST(h.backend.object(target)->content_equals(previous_content));
}

// Cancellation after each backend call in turn: the upload ends cancelled, with one abort once the upload
// exists; cancelled after CompleteMultipartUpload, the object is whole and the upload succeeded.
BOOST_AUTO_TEST_CASE(cancellation_at_each_step_aborts_once)
{
    const std::size_t size = 2 * part + 1;
    const auto plan = plan_for(small_parts(2, 2));
    const int calls = 5;  // create, three parts, complete (checked by the fault matrix above)
    for (int n = 0; n <= calls; ++n) {
        BOOST_TEST_CONTEXT("cancelled after call " << n)
        {
            transfer_harness h;
            h.backend.keep_bytes(n == calls);
            h.backend.place_object(target, previous_content);
            h.backend.cancel_after_overall(n);
            scripted_source source(pattern(size));
            auto r = upload(h, source, plan);
            if (n == calls) {
                BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
                BOOST_TEST(h.backend.object(target)->content_equals(pattern(size)));
                BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == 0);
                continue;
            }
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == engine_errc::cancelled);
            BOOST_TEST(h.backend.calls(op::abort_multipart_upload) == (n == 0 ? 0 : 1));
            BOOST_TEST(h.backend.aborts_of_unknown_uploads() == 0);
            expect_nothing_left_behind(h.backend);
        }
    }
    {
        BOOST_TEST_CONTEXT("a one-part stream cancelled before its PutObject")
        {
            transfer_harness h;
            h.backend.place_object(target, previous_content);
            h.backend.cancel();
            scripted_source source(pattern(1000));
            auto r = upload(h, source, plan);
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == engine_errc::cancelled);
            BOOST_TEST(h.backend.total_calls() == 0);
            expect_nothing_left_behind(h.backend);
        }
    }
}

BOOST_AUTO_TEST_CASE(checks_follow_checksum_and_signing_settings)
{
    struct row {
        payload_checksum checksum;
        payload_signing signing;
        bool over_tls;
        bool crc32c, md5, sha256;
    };
    const std::vector<row> table{
        {payload_checksum::crc32c, payload_signing::automatic, true, true, false, false},
        {payload_checksum::crc32c, payload_signing::automatic, false, true, false, false},
        {payload_checksum::md5, payload_signing::automatic, true, false, true, false},
        {payload_checksum::md5, payload_signing::automatic, false, false, true, false},
        {payload_checksum::none, payload_signing::automatic, true, false, false, false},
        {payload_checksum::none, payload_signing::automatic, false, false, false, true},
        {payload_checksum::none, payload_signing::always, true, false, false, true},
        {payload_checksum::crc32c, payload_signing::always, false, true, false, true},
        {payload_checksum::md5, payload_signing::never, false, false, true, false},
        {payload_checksum::none, payload_signing::never, true, false, false, false},
    };
    for (const auto& t : table) {
        transfer_config cfg = small_parts(2, 4);
        cfg.checksum = t.checksum;
        cfg.signing = t.signing;
        const auto k = detail::checks_for(plan_for(cfg, t.over_tls));
        BOOST_TEST_CONTEXT("checksum " << static_cast<int>(t.checksum) << ", signing " << static_cast<int>(t.signing)
                                       << ", over TLS " << t.over_tls)
        {
            BOOST_TEST(k.crc32c == t.crc32c);
            BOOST_TEST(k.md5 == t.md5);
            BOOST_TEST(k.sha256 == t.sha256);
        }
    }
    // The values, on a known body: CRC32C of "123456789" is 0xE3069283; MD5 and SHA-256 from RFC 1321 / FIPS 180.
    const std::string body = "123456789";
    const auto all = detail::compute_checks(body, {true, true, true});
    BOOST_TEST(all.crc32c == "4waSgw==");
    BOOST_TEST(all.md5 == "JfnnlDI7RTiF9RgfG2JNCw==");
    BOOST_TEST(all.sha256 == "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225");
    const auto none = detail::compute_checks(body, {});
    BOOST_TEST(none.crc32c.empty());
    BOOST_TEST(none.md5.empty());
    BOOST_TEST(none.sha256.empty());
}

// Every body sent (each part, or the one PutObject) carries exactly the checks the settings ask for, and the
// fake recomputes each over the bytes it received (a mismatch would be BadDigest and fail the upload).
BOOST_AUTO_TEST_CASE(each_body_carries_the_checks_of_its_own_bytes)
{
    struct row {
        payload_checksum checksum;
        payload_signing signing;
        bool over_tls;
    };
    for (const auto t : {row{payload_checksum::crc32c, payload_signing::automatic, true},
                         row{payload_checksum::md5, payload_signing::automatic, true},
                         row{payload_checksum::none, payload_signing::automatic, false},
                         row{payload_checksum::crc32c, payload_signing::always, true}}) {
        transfer_config cfg = small_parts(2, 3);
        cfg.checksum = t.checksum;
        cfg.signing = t.signing;
        const auto plan = plan_for(cfg, t.over_tls);
        const auto kinds = detail::checks_for(plan);
        for (const std::size_t size : {std::size_t{100}, std::size_t{part + 100}}) {
            BOOST_TEST_CONTEXT("checksum " << static_cast<int>(t.checksum) << ", signing "
                                           << static_cast<int>(t.signing) << ", over TLS " << t.over_tls << ", "
                                           << size << " bytes")
            {
                transfer_harness h;
                h.backend.keep_bytes(false);
                scripted_source source(pattern(size));
                auto r = upload(h, source, plan);
                BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
                const bool multipart = size > part;
                const auto bodies = h.backend.records_of(multipart ? op::upload_part : op::put_object);
                BOOST_TEST_REQUIRE(bodies.size() == (multipart ? 2u : 1u));
                std::uint64_t offset = 0;
                for (const auto& b : bodies) {
                    const auto expected = detail::compute_checks(pattern(size).subspan(offset, b.body_size), kinds);
                    BOOST_TEST(b.checks.crc32c == expected.crc32c);
                    BOOST_TEST(b.checks.md5 == expected.md5);
                    BOOST_TEST(b.checks.sha256 == expected.sha256);
                    BOOST_TEST(b.checks.crc32c.empty() == !kinds.crc32c);
                    BOOST_TEST(b.checks.md5.empty() == !kinds.md5);
                    BOOST_TEST(b.checks.sha256.empty() == !kinds.sha256);
                    offset += b.body_size;
                }
                if (multipart) {
                    const auto create = h.backend.records_of(op::create_multipart_upload);
                    BOOST_TEST_REQUIRE(create.size() == 1u);
                    BOOST_TEST(create[0].use_crc32c == kinds.crc32c);
                }
            }
        }
    }
}

// The fake must refuse what S3 refuses, or the tests above could not fail.
BOOST_AUTO_TEST_CASE(the_fake_backend_enforces_s3_multipart_rules)
{
    transfer_harness h;
    auto& b = h.backend;
    const std::string small = "tiny";
    const std::span<const char> big = pattern(part);
    const payload_checks no_checks;
    const upload_options options;

    auto id = h.run(b.create_multipart_upload(target, options, true));
    BOOST_TEST_REQUIRE(id.has_value());
    const auto crc_of = [](std::span<const char> s) { return detail::compute_checks(s, {true, false, false}); };
    const auto small_checks = crc_of(small);
    const auto big_checks = crc_of(big);

    // A part without the CRC32C its upload declared, or with a wrong one.
    BOOST_TEST(h.run(b.upload_part(target, *id, 1, small, no_checks)).error().code == s3_errc::invalid_request);
    BOOST_TEST(h.run(b.upload_part(target, *id, 1, small, big_checks)).error().code == s3_errc::bad_digest);
    auto p1 = h.run(b.upload_part(target, *id, 1, small, small_checks));
    auto p2 = h.run(b.upload_part(target, *id, 2, big, big_checks));
    BOOST_TEST_REQUIRE((p1.has_value() && p2.has_value()));

    // A part under 5 MiB that is not the last; parts out of order; a wrong ETag; nothing listed.
    const std::vector<completed_part> too_small{*p1, *p2};
    BOOST_TEST(h.run(b.complete_multipart_upload(target, *id, too_small)).error().code == s3_errc::entity_too_small);
    const std::vector<completed_part> reversed{*p2, *p1};
    BOOST_TEST(h.run(b.complete_multipart_upload(target, *id, reversed)).error().code == s3_errc::invalid_part_order);
    completed_part wrong = *p2;
    wrong.etag = "\"0000\"";
    const std::vector<completed_part> wrong_etag{wrong};
    BOOST_TEST(h.run(b.complete_multipart_upload(target, *id, wrong_etag)).error().code == s3_errc::invalid_part);
    const std::vector<completed_part> empty;
    BOOST_TEST(h.run(b.complete_multipart_upload(target, *id, empty)).error().code == s3_errc::malformed_xml);
    BOOST_TEST(b.object(target) == nullptr);

    // The last part may be small: 5 MiB then 4 bytes.
    auto p3 = h.run(b.upload_part(target, *id, 3, small, small_checks));
    BOOST_TEST_REQUIRE(p3.has_value());
    const std::vector<completed_part> good{*p2, *p3};
    auto done = h.run(b.complete_multipart_upload(target, *id, good));
    BOOST_TEST_REQUIRE(done.has_value());
    std::string expected(big.begin(), big.end());
    expected += small;
    BOOST_TEST(b.object(target)->content_equals(expected));
    BOOST_TEST(b.live_uploads().empty());
    BOOST_TEST(h.run(b.upload_part(target, *id, 4, small, small_checks)).error().code == s3_errc::no_such_upload);

    // Abort removes an upload; aborting it again is success (as s3_operations answers) but counted.
    auto other = h.run(b.create_multipart_upload(target, options, false));
    BOOST_TEST_REQUIRE(other.has_value());
    BOOST_TEST(b.live_uploads().size() == 1u);
    BOOST_TEST(h.run(b.abort_multipart_upload(target, *other)).has_value());
    BOOST_TEST(b.live_uploads().empty());
    BOOST_TEST(h.run(b.abort_multipart_upload(target, *other)).has_value());
    BOOST_TEST(b.aborts_of_unknown_uploads() == 1);

    // Content-MD5 and a signed SHA-256 that do not match the body.
    payload_checks bad_md5;
    bad_md5.md5 = detail::compute_checks(big, {false, true, false}).md5;
    BOOST_TEST(h.run(b.put_object(target, small, bad_md5, options)).error().code == s3_errc::bad_digest);
    payload_checks bad_sha;
    bad_sha.sha256 = detail::compute_checks(big, {false, false, true}).sha256;
    BOOST_TEST(h.run(b.put_object(target, small, bad_sha, options)).error().code == s3_errc::bad_digest);
    BOOST_TEST(b.object(target)->content_equals(expected));

    // After cancel() only the abort goes out.
    auto third = h.run(b.create_multipart_upload(target, options, false));
    BOOST_TEST_REQUIRE(third.has_value());
    b.cancel();
    BOOST_TEST(h.run(b.upload_part(target, *third, 1, small, no_checks)).error().code == engine_errc::cancelled);
    BOOST_TEST(h.run(b.abort_multipart_upload(target, *third)).has_value());
    BOOST_TEST(b.live_uploads().empty());
}

BOOST_AUTO_TEST_SUITE_END()
