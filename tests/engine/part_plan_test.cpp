// Part sizes and windows of a stream upload (engine/src/part_plan.cpp): every base S3 allows reaches 5 TiB in
// 10,000 parts within the part size limits; configurations outside the limits are refused by name.
#include "part_plan.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

using namespace cachestep::engine;
using namespace cachestep::engine::detail;

namespace {

constexpr std::uint64_t mib = 1ull << 20;
constexpr std::uint64_t gib = 1ull << 30;

std::uint64_t total_of_all_parts(std::uint64_t base)
{
    std::uint64_t sum = 0;
    for (int n = 1; n <= max_part_count; ++n) sum += part_size_for(n, base);
    return sum;
}

transfer_config transfer(std::uint64_t part_size, int concurrency, std::uint64_t memory_limit)
{
    transfer_config cfg;
    cfg.part_size = part_size;
    cfg.concurrency = concurrency;
    cfg.memory_limit = memory_limit;
    return cfg;
}

// The refusal message, or "" when accepted.
std::string refusal(const transfer_config& cfg)
{
    const auto r = validate_transfer(cfg);
    if (r) return "";
    BOOST_TEST(r.error().code == make_error_code(engine_errc::invalid_argument));
    return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_part_plan)

BOOST_AUTO_TEST_CASE(size_doubles_every_800_parts)
{
    const std::uint64_t base = 8 * mib;
    BOOST_TEST(part_size_for(1, base) == 8 * mib);
    BOOST_TEST(part_size_for(800, base) == 8 * mib);
    BOOST_TEST(part_size_for(801, base) == 16 * mib);
    BOOST_TEST(part_size_for(1600, base) == 16 * mib);
    BOOST_TEST(part_size_for(1601, base) == 32 * mib);
    BOOST_TEST(part_size_for(3201, base) == 128 * mib);
    BOOST_TEST(part_size_for(7201, base) == 4 * gib);  // 8 MiB * 2^9
    BOOST_TEST(part_size_for(8001, base) == 5 * gib);  // 8 GiB capped
    BOOST_TEST(part_size_for(10000, base) == 5 * gib);
    // The header's table: the stream covered after part 800, 1600, 2400, 3200.
    std::uint64_t covered = 0;
    for (int n = 1; n <= 3200; ++n) {
        covered += part_size_for(n, base);
        if (n == 800) BOOST_TEST(covered == 6400 * mib);
        if (n == 1600) BOOST_TEST(covered == 19200 * mib);
        if (n == 2400) BOOST_TEST(covered == 44800 * mib);
    }
    BOOST_TEST(covered == 96000 * mib);  // 93.75 GiB
}

BOOST_AUTO_TEST_CASE(every_allowed_base_holds_the_largest_object_in_10000_parts)
{
    for (const std::uint64_t base : {min_part_size, 5 * mib + 1, 6 * mib, 8 * mib, 10 * mib, 64 * mib, 100 * mib + 7,
                                     gib, 3 * gib, max_part_size - 1, max_part_size}) {
        std::uint64_t previous = 0;
        for (int n = 1; n <= max_part_count; ++n) {
            const std::uint64_t size = part_size_for(n, base);
            BOOST_TEST_REQUIRE(size >= min_part_size, "base " << base << " part " << n);
            BOOST_TEST_REQUIRE(size <= max_part_size, "base " << base << " part " << n);
            BOOST_TEST_REQUIRE(size >= previous, "base " << base << " part " << n);  // never shrinks
            previous = size;
        }
        BOOST_TEST(total_of_all_parts(base) >= max_object_size, "base " << base);
    }
    // The tightest case, as the header states: 14,332,000 MiB with 5 MiB parts.
    BOOST_TEST(total_of_all_parts(min_part_size) == 14'332'000 * mib);
    BOOST_TEST(total_of_all_parts(max_part_size) == 10'000 * max_part_size);
}

BOOST_AUTO_TEST_CASE(part_numbers_outside_s3s_range_have_no_size)
{
    BOOST_TEST(part_size_for(0, 8 * mib) == 0u);
    BOOST_TEST(part_size_for(-1, 8 * mib) == 0u);
    BOOST_TEST(part_size_for(10001, 8 * mib) == 0u);
    BOOST_TEST(part_size_for(std::numeric_limits<int>::max(), 8 * mib) == 0u);
}

BOOST_AUTO_TEST_CASE(bases_outside_the_limits_are_clamped)
{
    BOOST_TEST(part_size_for(1, 0) == min_part_size);
    BOOST_TEST(part_size_for(1, 1 * mib) == min_part_size);
    BOOST_TEST(part_size_for(801, 1 * mib) == 2 * min_part_size);
    BOOST_TEST(part_size_for(1, 6 * gib) == max_part_size);
    BOOST_TEST(part_size_for(1, std::numeric_limits<std::uint64_t>::max()) == max_part_size);
}

BOOST_AUTO_TEST_CASE(validate_accepts_the_defaults_and_the_limits)
{
    BOOST_TEST(refusal(transfer_config{}) == "");
    BOOST_TEST(refusal(transfer(min_part_size, 1, 2 * min_part_size)) == "");
    BOOST_TEST(refusal(transfer(max_part_size, 64, 2 * max_part_size)) == "");
}

BOOST_AUTO_TEST_CASE(validate_refuses_each_limit_by_name)
{
    BOOST_TEST(refusal(transfer(min_part_size - 1, 8, gib)) ==
               "part size 5242879 bytes is below S3's minimum of 5 MiB (5242880 bytes)");
    BOOST_TEST(refusal(transfer(0, 8, gib)).find("below S3's minimum") != std::string::npos);
    BOOST_TEST(refusal(transfer(max_part_size + 1, 8, 10 * gib)) ==
               "part size 5368709121 bytes is above S3's maximum of 5 GiB (5368709120 bytes)");
    BOOST_TEST(refusal(transfer(8 * mib, 0, gib)) == "concurrency 0 is outside 1..64");
    BOOST_TEST(refusal(transfer(8 * mib, -3, gib)) == "concurrency -3 is outside 1..64");
    BOOST_TEST(refusal(transfer(8 * mib, 65, gib)) == "concurrency 65 is outside 1..64");
    BOOST_TEST(refusal(transfer(8 * mib, 8, 8 * mib - 1)) ==
               "memory limit 8388607 bytes cannot hold two parts of 8388608 bytes (one sent while the next is read)");
    BOOST_TEST(refusal(transfer(8 * mib, 8, 16 * mib - 1)).find("cannot hold two parts") != std::string::npos);
    BOOST_TEST(refusal(transfer(8 * mib, 8, 16 * mib)).empty());

    transfer_config ranges = transfer(8 * mib, 8, gib);
    ranges.range_size = 64 * 1024 - 1;
    ranges.first_range_size = ranges.range_size;
    BOOST_TEST(refusal(ranges) == "range size 65535 bytes is outside 64 KiB..5 GiB");
    ranges.range_size = 4 * mib;
    ranges.first_range_size = 8 * mib;
    BOOST_TEST(refusal(ranges) == "first range size 8388608 bytes is outside 64 KiB..4194304 (the range size)");
    ranges.first_range_size = 32 * 1024;
    BOOST_TEST(refusal(ranges).find("first range size 32768 bytes") == 0u);
    ranges = transfer(5 * mib, 8, 16 * mib);
    ranges.range_size = 8 * mib + 1;
    BOOST_TEST(refusal(ranges) == "memory limit 16777216 bytes cannot hold two ranges of 8388609 bytes (one received "
                                  "while the other is written)");
}

BOOST_AUTO_TEST_CASE(download_ranges_ramp_from_the_first_size_to_the_range_size)
{
    const transfer_config defaults;  // 1 MiB first, 4 MiB ranges
    const std::vector<std::uint64_t> starts{0, 1 * mib, 3 * mib, 7 * mib, 11 * mib, 15 * mib};
    for (std::uint64_t i = 0; i < starts.size(); ++i) BOOST_TEST(download_range_start(i, defaults) == starts[i]);
    BOOST_TEST(download_range_start(1000, defaults) == 7 * mib + 997 * 4 * mib);

    // The count covers the object with its last range, and not one range more.
    const std::vector<std::uint64_t> sizes{0,           1,       mib - 1, mib, mib + 1, 3 * mib, 3 * mib + 1,
                                           7 * mib, 7 * mib + 1, gib,     5 * gib + 3};
    for (const std::uint64_t size : sizes) {
        const std::uint64_t n = download_range_count(size, defaults);
        BOOST_TEST(n >= 1u, "size " << size);
        if (size > 0) {
            BOOST_TEST(download_range_start(n, defaults) >= size, "size " << size);
            BOOST_TEST(download_range_start(n - 1, defaults) < size, "size " << size);
        }
    }
    BOOST_TEST(download_range_count(0, defaults) == 1u);
    BOOST_TEST(download_range_count(gib, defaults) == 3u + (gib - 7 * mib + 4 * mib - 1) / (4 * mib));

    // A ramp that does not land on the range size is cut to it; equal sizes: no ramp at all.
    transfer_config cfg;
    cfg.range_size = 6 * mib;
    cfg.first_range_size = 1 * mib;
    for (const auto& [i, start] : std::vector<std::pair<std::uint64_t, std::uint64_t>>{
             {1, 1 * mib}, {2, 3 * mib}, {3, 7 * mib}, {4, 13 * mib}, {5, 19 * mib}})
        BOOST_TEST(download_range_start(i, cfg) == start, "range " << i);
    cfg.first_range_size = cfg.range_size;
    for (std::uint64_t i = 0; i < 5; ++i) BOOST_TEST(download_range_start(i, cfg) == i * 6 * mib);
    BOOST_TEST(download_range_count(6 * mib, cfg) == 1u);
    BOOST_TEST(download_range_count(6 * mib + 1, cfg) == 2u);
}

BOOST_AUTO_TEST_CASE(buffers_are_memory_over_part_size_with_a_floor_of_two)
{
    const transfer_config defaults;  // 8 MiB, 96 MiB
    BOOST_TEST(buffers_for(part_size_for(1, defaults.part_size), defaults) == 12);    // 8 MiB
    BOOST_TEST(buffers_for(part_size_for(801, defaults.part_size), defaults) == 6);   // 16 MiB
    BOOST_TEST(buffers_for(part_size_for(1601, defaults.part_size), defaults) == 3);  // 32 MiB
    BOOST_TEST(buffers_for(part_size_for(2401, defaults.part_size), defaults) == 2);  // 64 MiB: the floor
    BOOST_TEST(buffers_for(part_size_for(3201, defaults.part_size), defaults) == 2);  // 128 MiB > limit
    // Memory held stays within the limit while two parts fit in it.
    for (int n = 1; n <= max_part_count; n += 100) {
        const std::uint64_t size = part_size_for(n, defaults.part_size);
        const auto held = static_cast<std::uint64_t>(buffers_for(size, defaults)) * size;
        if (2 * size <= defaults.memory_limit) BOOST_TEST(held <= defaults.memory_limit, "part " << n);
        else BOOST_TEST(held == 2 * size, "part " << n);
    }
    BOOST_TEST(buffers_for(0, defaults) == (1 << 20));  // 0 counts as 1 byte: no division by zero
    BOOST_TEST(buffers_for(8 * mib, transfer(8 * mib, 8, 0)) == 2);
}

BOOST_AUTO_TEST_SUITE_END()
