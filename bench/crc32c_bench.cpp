// CRC-32C throughput of the two implementations in engine/src/crc32c.cpp, over an 8 MiB buffer (one default
// part, larger than L2: the upload's case) and a 64 KiB one (in cache: the instruction's own limit).
// Reports the median GB/s (10^9 bytes per second) of several rounds, as one JSON line.
//
// usage: crc32c_bench [rounds=7] [bytes_per_round=1073741824]
#include "crc32c.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

using namespace cachestep::engine::detail;
using clock_type = std::chrono::steady_clock;
using crc_fn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t);

namespace {

double gb_per_second(crc_fn f, const std::vector<std::uint8_t>& buffer, std::uint64_t bytes)
{
    const std::uint64_t passes = std::max<std::uint64_t>(bytes / buffer.size(), 1);
    std::uint32_t crc = 0;
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < passes; ++i) crc = f(crc, buffer.data(), buffer.size());
    const std::chrono::duration<double> elapsed = clock_type::now() - start;
    if (crc == 0x5EED) std::puts("");  // keeps the result observable; practically never true
    return static_cast<double>(passes * buffer.size()) / elapsed.count() / 1e9;
}

double median_of_rounds(int rounds, crc_fn f, const std::vector<std::uint8_t>& buffer, std::uint64_t bytes)
{
    std::vector<double> v;
    for (int r = 0; r < rounds; ++r) v.push_back(gb_per_second(f, buffer, bytes));
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

std::vector<std::uint8_t> random_buffer(std::size_t n)
{
    std::mt19937_64 rng(1);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

}  // namespace

int main(int argc, char** argv)
{
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
    const long long bytes = argc > 2 ? std::atoll(argv[2]) : (1ll << 30);
    if (rounds < 1 || bytes < 1) {
        std::fprintf(stderr, "usage: crc32c_bench [rounds>=1] [bytes_per_round>=1]\n");
        return 2;
    }
    const auto part = random_buffer(8u << 20);
    const auto cached = random_buffer(64u << 10);
    const bool hw = crc32c_hw_available();
    const auto per_round = static_cast<std::uint64_t>(bytes);
    // The table path is ~10x slower: a tenth of the bytes keeps the run short at the same precision.
    const double table_part = median_of_rounds(rounds, &crc32c_table, part, per_round / 10);
    const double table_cached = median_of_rounds(rounds, &crc32c_table, cached, per_round / 10);
    const double hw_part = hw ? median_of_rounds(rounds, &crc32c_hw, part, per_round) : 0;
    const double hw_cached = hw ? median_of_rounds(rounds, &crc32c_hw, cached, per_round) : 0;
    std::printf("{\"benchmark\":\"crc32c\",\"rounds\":%d,\"bytes_per_round\":%lld,\"sse42\":%s,"
                "\"hw_8mib_gb_per_s\":%.2f,\"hw_64kib_gb_per_s\":%.2f,"
                "\"table_8mib_gb_per_s\":%.2f,\"table_64kib_gb_per_s\":%.2f}\n",
                rounds, bytes, hw ? "true" : "false", hw_part, hw_cached, table_part, table_cached);
    return 0;
}
