// The compression pool keeps the stream's order whatever the workers' timing, and cancel() frees a blocked
// producer (archive/src/ordered_compressor.cpp).
#include "ordered_compressor.hpp"
#include "stream_decoder.hpp"

#include <boost/test/unit_test.hpp>

#include <thread>

using namespace cachestep::archive;
using namespace cachestep::archive::detail;

BOOST_AUTO_TEST_SUITE(ordered_compressor_suite)

BOOST_AUTO_TEST_CASE(frames_come_out_in_submission_order)
{
    ordered_compressor pool(codec::lz4, 1, 4, 6);
    std::vector<char> expected;
    std::thread producer([&] {
        for (int i = 0; i < 200; ++i) {
            auto chunk = pool.next_buffer();
            // Sizes vary so that workers finish out of order.
            chunk.assign(static_cast<std::size_t>((i * 7919) % 50000 + 1), static_cast<char>('a' + i % 26));
            expected.insert(expected.end(), chunk.begin(), chunk.end());
            BOOST_REQUIRE(pool.submit(std::move(chunk)));
        }
        pool.close();
    });
    auto decoder = make_stream_decoder(codec::lz4);
    std::vector<char> got, out(1 << 16);
    int frames = 0;
    while (auto frame = pool.take()) {
        BOOST_REQUIRE(frame->has_value());
        std::span<const char> in(frame->value());
        for (;;) {
            auto p = decoder->decode(in, out);
            BOOST_REQUIRE(p.has_value());
            got.insert(got.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(p->produced));
            in = in.subspan(p->consumed);
            if (p->consumed == 0 && p->produced == 0) break;
        }
        pool.recycle(std::move(frame->value()));
        ++frames;
    }
    producer.join();
    BOOST_TEST(frames == 200);
    BOOST_TEST((got == expected));
}

BOOST_AUTO_TEST_CASE(cancel_releases_a_producer_waiting_for_the_window)
{
    ordered_compressor pool(codec::none, 0, 1, 2);
    std::atomic<bool> refused{false};
    std::thread producer([&] {
        for (int i = 0; i < 100; ++i) {
            if (!pool.submit(std::vector<char>(10, 'x'))) {
                refused = true;
                return;
            }
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the window (2) fills; nobody takes
    pool.cancel();
    producer.join();
    BOOST_TEST(refused.load());
    BOOST_TEST(!pool.take().has_value());
}

BOOST_AUTO_TEST_SUITE_END()
