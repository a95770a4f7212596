// Parallel ranged download into an ordered sink (engine/src/ranged_download.cpp), driven through the
// in-memory S3 of fake_backend.hpp: sizes from empty to several ranges, bytes in order whatever order the
// ranges finish in, the reorder window (requests in flight, buffers held), If-Match on every later range, an
// object replaced mid-download (refused, never mixed), every range failed in turn, a failing sink, and
// cancellation.
#include "fake_backend.hpp"
#include "ranged_download.hpp"

#include <boost/asio/error.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

using namespace cachestep::engine;
using namespace cachestep::engine::test;

namespace {

constexpr std::uint64_t range = 5 * mib;

const object_ref source_object{"bucket", "cache/npm.tar.lz4"};

// A byte_sink, written on the transfer's worker thread, that compares what it receives with what the object
// held and keeps no copy: the first mismatch is where bytes came out of order or from another object.
class checking_sink final : public byte_sink {
public:
    explicit checking_sink(std::span<const char> expected) : expected_(expected) {}

    int fail_at_write{0};  // this write (1-based) fails; 0: none

    result<void> write(std::span<const char> bytes) override
    {
        std::lock_guard lock(mutex_);
        ++writes_;
        if (failed_) ++writes_after_failure_;
        if (writes_ == fail_at_write) {
            failed_ = true;
            return error_info(make_error_code(boost::system::errc::no_space_on_device), "writing the tree: disk full");
        }
        if (written_ + bytes.size() > expected_.size() ||
            !std::equal(bytes.begin(), bytes.end(), expected_.begin() + static_cast<std::ptrdiff_t>(written_))) {
            if (!first_mismatch_) first_mismatch_ = written_;
        }
        written_ += bytes.size();
        return {};
    }

    std::size_t written() const
    {
        std::lock_guard lock(mutex_);
        return written_;
    }
    bool matches_so_far() const
    {
        std::lock_guard lock(mutex_);
        return !first_mismatch_.has_value();
    }
    int writes() const
    {
        std::lock_guard lock(mutex_);
        return writes_;
    }
    int writes_after_failure() const
    {
        std::lock_guard lock(mutex_);
        return writes_after_failure_;
    }

private:
    std::span<const char> expected_;
    mutable std::mutex mutex_;
    std::size_t written_{0};
    int writes_{0};
    int writes_after_failure_{0};
    bool failed_{false};
    std::optional<std::size_t> first_mismatch_;
};

result<download_result> download(transfer_harness& h, byte_sink& sink, const transfer_config& cfg)
{
    return h.run(detail::download_object(h.backend, source_object, sink, cfg, h.worker_executor));
}

// The sink got the object's first bytes only, in whole ranges, none from elsewhere.
void expect_prefix_in_whole_ranges(const checking_sink& sink, std::size_t size)
{
    BOOST_TEST(sink.matches_so_far());
    BOOST_TEST(sink.written() < size);
    BOOST_TEST(sink.written() % range == 0u);
}

const std::vector<error_info>& range_errors()
{
    static const std::vector<error_info> errors{
        injected(s3_errc::access_denied, 403),
        injected(s3_errc::internal_error, 500),
        injected(boost::asio::error::connection_reset),
        injected(engine_errc::stalled),
    };
    return errors;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_ranged_download)

// Bytes=0-N of an empty object is unsatisfiable (416; s3rver answers a malformed 206 instead, which arrives as
// bad_response): HEAD confirms the size is 0 and the download succeeds with nothing written.
BOOST_AUTO_TEST_CASE(an_empty_object_downloads_as_nothing)
{
    for (const bool malformed_206 : {false, true}) {
        BOOST_TEST_CONTEXT((malformed_206 ? "the server answers a malformed 206" : "the server answers 416"))
        {
            transfer_harness h;
            h.backend.place_object(source_object, {});
            if (malformed_206) h.backend.fail(op::get_range, 1, injected(engine_errc::bad_response));
            checking_sink sink({});
            auto r = download(h, sink, small_parts(4, 8));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(r->size == 0u);
            BOOST_TEST(r->etag == h.backend.object(source_object)->etag);
            BOOST_TEST(h.backend.calls(op::get_range) == 1);
            BOOST_TEST(h.backend.calls(op::head_object) == 1);
            const auto first = h.backend.records_of(op::get_range).at(0);
            BOOST_TEST_REQUIRE(first.failed.has_value());
            BOOST_TEST(*first.failed == (malformed_206 ? make_error_code(engine_errc::bad_response)
                                                       : make_error_code(s3_errc::invalid_range)));
            BOOST_TEST(sink.writes() == 0);
        }
    }
}

// The first range failing for a reason that says the object is not readable is the answer, without a HEAD.
BOOST_AUTO_TEST_CASE(a_missing_or_forbidden_object_fails_at_once)
{
    for (const auto& e : {injected(s3_errc::no_such_key, 404), injected(s3_errc::access_denied, 403)}) {
        BOOST_TEST_CONTEXT("the first GET fails with " << e.code.message())
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(1000));
            h.backend.fail(op::get_range, 1, e);
            checking_sink sink(pattern(1000));
            auto r = download(h, sink, small_parts(4, 8));
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == e.code);
            BOOST_TEST(h.backend.calls(op::head_object) == 0);
            BOOST_TEST(sink.writes() == 0);
        }
    }
    transfer_harness h;
    checking_sink sink({});
    auto r = download(h, sink, small_parts(4, 8));  // nothing stored under the key
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == s3_errc::no_such_key);
}

// A 416 on an object that has bytes (it grew between the GET and the HEAD, or a server's error) is an error.
BOOST_AUTO_TEST_CASE(a_416_on_an_object_with_bytes_is_an_error)
{
    transfer_harness h;
    h.backend.place_object(source_object, pattern(1000));
    h.backend.fail(op::get_range, 1, injected(s3_errc::invalid_range, 416));
    checking_sink sink(pattern(1000));
    auto r = download(h, sink, small_parts(4, 8));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == s3_errc::invalid_range);
    BOOST_TEST(h.backend.calls(op::head_object) == 1);
    BOOST_TEST(sink.writes() == 0);
}

BOOST_AUTO_TEST_CASE(objects_of_every_size_arrive_byte_for_byte)
{
    for (const std::size_t size : {std::size_t{1}, std::size_t{range - 1}, std::size_t{range}, std::size_t{range + 1},
                                   std::size_t{2 * range}, std::size_t{3 * range + 7}}) {
        BOOST_TEST_CONTEXT("object of " << size << " bytes")
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            checking_sink sink(pattern(size));
            auto r = download(h, sink, small_parts(3, 4));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            const auto ranges = static_cast<int>((size + range - 1) / range);
            BOOST_TEST(r->size == size);
            BOOST_TEST(r->ranges == ranges);
            BOOST_TEST(r->etag == h.backend.object(source_object)->etag);
            BOOST_TEST(sink.written() == size);
            BOOST_TEST(sink.matches_so_far());
            BOOST_TEST(sink.writes() == ranges);
            BOOST_TEST(h.backend.calls(op::head_object) == 0);
            // The first range asks for a whole range (the size is not known yet), the others for their bytes.
            const auto gets = h.backend.records_of(op::get_range);
            BOOST_TEST_REQUIRE(gets.size() == static_cast<std::size_t>(ranges));
            for (std::size_t i = 0; i < gets.size(); ++i) {
                BOOST_TEST(gets[i].first == i * range);
                BOOST_TEST(gets[i].last == (i == 0 ? range - 1 : std::min<std::uint64_t>(size, (i + 1) * range) - 1));
            }
        }
    }
}

// The ramp: ranges of first_range_size, doubling up to range_size, then range_size each; the last cut at the
// object's end. Asked in order, written in order, bytes equal.
BOOST_AUTO_TEST_CASE(the_first_ranges_ramp_up_to_the_range_size)
{
    transfer_config cfg = small_parts(3, 8);
    cfg.range_size = 4 * mib;
    cfg.first_range_size = 1 * mib;
    struct expected_ranges {
        std::size_t size;
        std::vector<std::uint64_t> lasts;  // the last byte each GET asks for
    };
    for (const auto& e : {expected_ranges{100, {mib - 1}},
                          expected_ranges{mib, {mib - 1}},
                          expected_ranges{mib + 1, {mib - 1, mib}},
                          expected_ranges{3 * mib, {mib - 1, 3 * mib - 1}},
                          expected_ranges{10 * mib, {mib - 1, 3 * mib - 1, 7 * mib - 1, 10 * mib - 1}},
                          expected_ranges{15 * mib + 5, {mib - 1, 3 * mib - 1, 7 * mib - 1, 11 * mib - 1,
                                                         15 * mib - 1, 15 * mib + 4}}}) {
        BOOST_TEST_CONTEXT("object of " << e.size << " bytes")
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(e.size));
            checking_sink sink(pattern(e.size));
            auto r = download(h, sink, cfg);
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(r->ranges == static_cast<int>(e.lasts.size()));
            BOOST_TEST(sink.written() == e.size);
            BOOST_TEST(sink.matches_so_far());
            auto gets = h.backend.records_of(op::get_range);
            std::sort(gets.begin(), gets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
            BOOST_TEST_REQUIRE(gets.size() == e.lasts.size());
            for (std::size_t i = 0; i < gets.size(); ++i) {
                BOOST_TEST(gets[i].first == (i == 0 ? 0 : e.lasts[i - 1] + 1));
                BOOST_TEST(gets[i].last == e.lasts[i]);
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_later_range_carries_if_match_with_the_first_etag)
{
    transfer_harness h;
    const std::size_t size = 3 * range + 7;
    h.backend.place_object(source_object, pattern(size));
    checking_sink sink(pattern(size));
    auto r = download(h, sink, small_parts(4, 8));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
    const auto gets = h.backend.records_of(op::get_range);
    BOOST_TEST_REQUIRE(gets.size() == 4u);
    BOOST_TEST(gets[0].if_match.empty());
    const std::string etag = h.backend.object(source_object)->etag;
    for (std::size_t i = 1; i < gets.size(); ++i) BOOST_TEST(gets[i].if_match == etag);
}

BOOST_AUTO_TEST_CASE(ranges_finishing_out_of_order_reach_the_sink_in_order)
{
    transfer_harness h;
    const std::size_t size = 3 * range + 7;
    h.backend.place_object(source_object, pattern(size));
    h.backend.return_after(op::get_range, 2, 4);
    h.backend.return_after(op::get_range, 3, 4);
    checking_sink sink(pattern(size));
    auto r = download(h, sink, small_parts(4, 8));
    BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));

    // The scenario happened: the last range came back before the second and the third.
    const auto& returned = h.backend.returned();
    const auto at = [&](int n) {
        return std::find(returned.begin(), returned.end(), std::pair{op::get_range, n}) - returned.begin();
    };
    BOOST_TEST(at(4) < at(2));
    BOOST_TEST(at(4) < at(3));

    BOOST_TEST(sink.written() == size);
    BOOST_TEST(sink.matches_so_far());
    BOOST_TEST(sink.writes() == 4);
}

// Requests in flight never exceed the concurrency; buffers (in flight plus waiting in the reorder window)
// never exceed memory_limit / part_size (at least 2, which validate_transfer demands), while a slow second
// range holds the window open.
BOOST_AUTO_TEST_CASE(the_reorder_window_stays_within_concurrency_and_memory)
{
    struct window {
        int concurrency;
        std::uint64_t memory_parts;
    };
    const std::size_t size = 4 * range + 100;
    for (const auto w : {window{1, 8}, window{3, 3}, window{8, 3}, window{8, 2}}) {
        BOOST_TEST_CONTEXT("concurrency " << w.concurrency << ", memory for " << w.memory_parts << " parts")
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            h.backend.delay(op::get_range, 0, std::chrono::milliseconds(5));
            h.backend.delay(op::get_range, 2, std::chrono::milliseconds(40));
            checking_sink sink(pattern(size));
            auto r = download(h, sink, small_parts(w.concurrency, w.memory_parts));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(sink.written() == size);
            BOOST_TEST(sink.matches_so_far());
            BOOST_TEST(h.backend.max_in_flight(op::get_range) <= w.concurrency);
            BOOST_TEST(h.backend.distinct_buffers(op::get_range) <= w.memory_parts);
        }
    }
}

BOOST_AUTO_TEST_CASE(the_window_is_used_in_full)
{
    struct window {
        int concurrency;
        std::uint64_t memory_parts;
        int in_flight;
    };
    const std::size_t size = 4 * range + 100;
    for (const auto w : {window{3, 8, 3}, window{8, 4, 4}}) {
        BOOST_TEST_CONTEXT("concurrency " << w.concurrency << ", memory for " << w.memory_parts << " parts")
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            h.backend.hold_until_in_flight(op::get_range, w.in_flight, 2);  // the first GET goes alone
            checking_sink sink(pattern(size));
            auto r = download(h, sink, small_parts(w.concurrency, w.memory_parts));
            BOOST_TEST_REQUIRE(r.has_value(), (r ? "" : r.error().to_string()));
            BOOST_TEST(h.backend.max_in_flight(op::get_range) == w.in_flight);
            BOOST_TEST(h.backend.distinct_buffers(op::get_range) <= w.memory_parts);
        }
    }
}

// Memory for fewer than two ranges is refused before any request goes out.
BOOST_AUTO_TEST_CASE(memory_for_fewer_than_two_ranges_is_refused_up_front)
{
    transfer_config cfg = small_parts(8, 2);
    cfg.memory_limit -= 1;
    transfer_harness h;
    h.backend.place_object(source_object, pattern(100));
    checking_sink sink(pattern(100));
    auto r = download(h, sink, cfg);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == engine_errc::invalid_argument);
    BOOST_TEST(h.backend.total_calls() == 0);
    BOOST_TEST(sink.writes() == 0);
}

// The object is replaced after the second GET is served: later ranges are refused by If-Match (412), or, on
// a server that ignores If-Match, come back with another ETag. Either way: object_changed, and the sink has
// only a prefix of the original object, never a byte of the new one.
BOOST_AUTO_TEST_CASE(an_object_replaced_mid_download_is_refused_never_mixed)
{
    const std::size_t size = 3 * range + 7;
    // The replacement: as long, other bytes at every offset (another stretch of the pattern).
    const std::span<const char> replacement = pattern(size + 4096).subspan(4096);
    for (const bool honours_if_match : {true, false}) {
        for (const int concurrency : {1, 3}) {
            BOOST_TEST_CONTEXT("If-Match " << (honours_if_match ? "honoured" : "ignored") << ", concurrency "
                                           << concurrency)
            {
                transfer_harness h;
                h.backend.place_object(source_object, pattern(size));
                h.backend.honour_if_match(honours_if_match);
                h.backend.after(op::get_range, 2,
                                [&h, replacement] { h.backend.place_object(source_object, replacement); });
                checking_sink sink(pattern(size));
                auto r = download(h, sink, small_parts(concurrency, 3));
                BOOST_TEST_REQUIRE(!r.has_value());
                BOOST_TEST(r.error().code == engine_errc::object_changed);
                expect_prefix_in_whole_ranges(sink, size);
                BOOST_TEST(h.backend.calls(op::get_range) >= 3);  // a GET did see the new object
            }
        }
    }
}

// The fault matrix: fail the 1st, 2nd, ... GET of a four-range download in turn (two in flight, so a later
// range is on its way when one fails).
BOOST_AUTO_TEST_CASE(each_failed_range_fails_the_download)
{
    const std::size_t size = 3 * range + 7;
    const int calls = 4;
    for (int k = 1; k <= calls; ++k) {
        const error_info& e = range_errors()[static_cast<std::size_t>(k - 1) % range_errors().size()];
        BOOST_TEST_CONTEXT("GET " << k << " fails with " << e.code.message())
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            h.backend.fail(op::get_range, k, e);
            checking_sink sink(pattern(size));
            auto r = download(h, sink, small_parts(2, 3));
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == e.code);
            expect_prefix_in_whole_ranges(sink, size);
            BOOST_TEST(sink.written() <= static_cast<std::size_t>(k - 1) * range);
            // HEAD may probe after a failed first range (is the object empty?), never after a later one.
            BOOST_TEST(h.backend.calls(op::head_object) <= (k == 1 ? 1 : 0));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_failing_sink_stops_the_download)
{
    const std::size_t size = 3 * range + 7;
    for (int k = 1; k <= 4; ++k) {
        BOOST_TEST_CONTEXT("write " << k << " fails")
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            checking_sink sink(pattern(size));
            sink.fail_at_write = k;
            auto r = download(h, sink, small_parts(2, 2));
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == engine_errc::sink_failed);
            BOOST_TEST(r.error().message.find("disk full") != std::string::npos);
            BOOST_TEST(sink.writes() == k);
            BOOST_TEST(sink.writes_after_failure() == 0);
            BOOST_TEST(sink.matches_so_far());
        }
    }
}

// Cancelled after each GET in turn (0: before the first): the download ends cancelled with a prefix.
BOOST_AUTO_TEST_CASE(cancellation_stops_the_download)
{
    const std::size_t size = 3 * range + 7;
    const int concurrency = 2;
    for (int n = 0; n < 4; ++n) {
        BOOST_TEST_CONTEXT("cancelled after GET " << n)
        {
            transfer_harness h;
            h.backend.place_object(source_object, pattern(size));
            h.backend.cancel_after_overall(n);
            checking_sink sink(pattern(size));
            auto r = download(h, sink, small_parts(concurrency, 3));
            BOOST_TEST_REQUIRE(!r.has_value());
            BOOST_TEST(r.error().code == engine_errc::cancelled);
            expect_prefix_in_whole_ranges(sink, size);
            BOOST_TEST(sink.written() <= static_cast<std::size_t>(n) * range);
            // Nothing new is asked once cancelled: every GET after the n-th was already on its way.
            for (const auto& g : h.backend.records_of(op::get_range))
                if (g.number > n) BOOST_TEST(g.number <= n + concurrency);
        }
    }
}

// The fake must answer ranges as S3 does, or the tests above could not fail.
BOOST_AUTO_TEST_CASE(the_fake_backend_serves_ranges_as_s3_does)
{
    transfer_harness h;
    auto& b = h.backend;
    const std::span<const char> content = pattern(1000);
    b.place_object(source_object, content);
    const std::string etag = b.object(source_object)->etag;
    std::vector<char> buffer(600);
    const std::string no_etag;

    // 206 with the bytes asked, cut at the end of the object.
    auto middle = h.run(b.get_range(source_object, 100, 199, no_etag, buffer));
    BOOST_TEST_REQUIRE(middle.has_value());
    BOOST_TEST(middle->bytes == 100u);
    BOOST_TEST(middle->object_size == 1000u);
    BOOST_TEST(middle->etag == etag);
    BOOST_TEST(std::equal(buffer.begin(), buffer.begin() + 100, content.begin() + 100));
    auto tail = h.run(b.get_range(source_object, 900, 1499, etag, buffer));
    BOOST_TEST_REQUIRE(tail.has_value());
    BOOST_TEST(tail->bytes == 100u);
    BOOST_TEST(std::equal(buffer.begin(), buffer.begin() + 100, content.begin() + 900));

    // Past the end: 416. A stale If-Match: 412, checked before the range.
    BOOST_TEST(h.run(b.get_range(source_object, 1000, 1099, no_etag, buffer)).error().code == s3_errc::invalid_range);
    const std::string stale = "\"stale\"";
    BOOST_TEST(h.run(b.get_range(source_object, 0, 99, stale, buffer)).error().code == s3_errc::precondition_failed);
    BOOST_TEST(h.run(b.get_range(source_object, 5000, 5099, stale, buffer)).error().code ==
               s3_errc::precondition_failed);
    b.honour_if_match(false);
    BOOST_TEST(h.run(b.get_range(source_object, 0, 99, stale, buffer)).has_value());

    // An empty object: every range is 416; HEAD says 0 bytes.
    b.place_object(source_object, {});
    BOOST_TEST(h.run(b.get_range(source_object, 0, 99, no_etag, buffer)).error().code == s3_errc::invalid_range);
    auto head = h.run(b.head_object(source_object));
    BOOST_TEST_REQUIRE(head.has_value());
    BOOST_TEST(head->size == 0u);
    const object_ref missing{"bucket", "missing"};
    BOOST_TEST(h.run(b.head_object(missing)).error().code == s3_errc::no_such_key);
}

BOOST_AUTO_TEST_SUITE_END()
