// CRC-32C (engine/src/crc32c.cpp): published vectors, both implementations against each other and against a
// bit-at-a-time reference, every alignment and length class of the three-stream hardware path, and pieces.
#include "crc32c.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

using namespace cachestep::engine::detail;

namespace {

using crc_fn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t);

// The definition, one bit at a time, as independent of both implementations as code can be:
//   def crc32c(data):
//       crc = 0xFFFFFFFF
//       for b in data:
//           crc ^= b
//           for _ in range(8): crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
//       return crc ^ 0xFFFFFFFF
// That Python reference and Google's crc32c library (google_crc32c 1.7.1, C implementation) gave every
// expected value below.
std::uint32_t reference_crc32c(const std::vector<std::uint8_t>& data)
{
    std::uint32_t crc = 0xFFFFFFFF;
    for (const std::uint8_t b : data) {
        crc ^= b;
        for (int i = 0; i < 8; ++i) crc = (crc >> 1) ^ ((crc & 1u) != 0 ? 0x82F63B78u : 0u);
    }
    return ~crc;
}

std::vector<std::uint8_t> random_bytes(std::size_t n, std::uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<std::uint8_t> out(n);
    for (auto& b : out) b = static_cast<std::uint8_t>(rng());
    return out;
}

std::vector<std::uint8_t> bytes(std::string_view s)
{
    return {s.begin(), s.end()};
}

// Both implementations when the CPU has SSE4.2, else the table alone (with a warning in the log).
std::vector<crc_fn> implementations()
{
    std::vector<crc_fn> out{&crc32c_table};
    BOOST_TEST_WARN(crc32c_hw_available(), "no SSE4.2 on this CPU: the hardware path is not tested");
    if (crc32c_hw_available()) out.push_back(&crc32c_hw);
    return out;
}

std::uint32_t crc_of(crc_fn f, const std::vector<std::uint8_t>& v)
{
    return f(0, v.data(), v.size());
}

// Lengths around every threshold of the hardware path: the 8-byte tail, 3 x 256 (short rounds), 3 x 8192
// (long rounds), and several rounds of each followed by every kind of remainder.
std::vector<std::size_t> interesting_lengths()
{
    std::vector<std::size_t> out;
    for (std::size_t n = 0; n <= 800; ++n) out.push_back(n);
    for (const std::size_t base : {1536u, 2304u, 24576u, 49152u, 73728u}) {
        for (std::size_t d = 0; d <= 16; ++d) {
            out.push_back(base + d);
            out.push_back(base - d);
        }
    }
    for (const std::size_t n : {24576u + 768u + 7u, 3u * 24576u + 5u * 768u + 63u, 1000003u}) out.push_back(n);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_crc32c)

BOOST_AUTO_TEST_CASE(check_value_and_rfc3720_vectors)
{
    std::vector<std::uint8_t> ascending(32), descending(32);
    for (std::uint8_t i = 0; i < 32; ++i) {
        ascending[i] = i;
        descending[i] = static_cast<std::uint8_t>(31 - i);
    }
    for (const crc_fn f : implementations()) {
        BOOST_TEST(crc_of(f, bytes("123456789")) == 0xE3069283u);  // the CRC catalogue's check value
        // RFC 3720 (iSCSI), appendix B.4.
        BOOST_TEST(crc_of(f, std::vector<std::uint8_t>(32, 0x00)) == 0x8A9136AAu);
        BOOST_TEST(crc_of(f, std::vector<std::uint8_t>(32, 0xFF)) == 0x62A8AB43u);
        BOOST_TEST(crc_of(f, ascending) == 0x46DD794Eu);
        BOOST_TEST(crc_of(f, descending) == 0x113FDB5Cu);
        BOOST_TEST(crc_of(f, bytes("The quick brown fox jumps over the lazy dog")) == 0x22620404u);
    }
}

BOOST_AUTO_TEST_CASE(one_mebibyte_runs_the_long_rounds_to_a_known_value)
{
    std::vector<std::uint8_t> data(1 << 20);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 7 + 3);
    for (const crc_fn f : implementations()) BOOST_TEST(crc_of(f, data) == 0x5274BA12u);
    BOOST_TEST(crc32c_update(0, data.data(), data.size()) == 0x5274BA12u);
}

BOOST_AUTO_TEST_CASE(empty_input_leaves_the_crc_unchanged)
{
    for (const crc_fn f : implementations()) {
        BOOST_TEST(f(0, nullptr, 0) == 0u);
        BOOST_TEST(f(0xE3069283u, nullptr, 0) == 0xE3069283u);
    }
    BOOST_TEST(crc32c_update(0x12345678u, nullptr, 0) == 0x12345678u);
}

BOOST_AUTO_TEST_CASE(table_matches_the_bitwise_definition)
{
    for (std::size_t n = 0; n <= 300; ++n) {
        const auto data = random_bytes(n, 1000 + n);
        BOOST_TEST(crc_of(&crc32c_table, data) == reference_crc32c(data), "length " << n);
    }
    const auto big = random_bytes(100'003, 7);
    BOOST_TEST(crc_of(&crc32c_table, big) == reference_crc32c(big));
}

BOOST_AUTO_TEST_CASE(hardware_matches_table_for_every_length_class_and_alignment)
{
    if (!crc32c_hw_available()) {
        BOOST_TEST_WARN(false, "no SSE4.2: skipped");
        return;
    }
    const auto lengths = interesting_lengths();
    // 8 spare bytes in front so every start alignment modulo 8 is reached inside one allocation.
    const auto pool = random_bytes(1000003 + 8, 42);
    int compared = 0;
    for (const std::size_t n : lengths) {
        for (std::size_t offset = 0; offset < 8; ++offset) {
            const std::uint8_t* p = pool.data() + offset;
            const std::uint32_t table = crc32c_table(0, p, n);
            BOOST_TEST(crc32c_hw(0, p, n) == table, "length " << n << " offset " << offset);
            // A non-zero incoming crc must be carried the same way by both.
            BOOST_TEST(crc32c_hw(0xDEADBEEFu, p, n) == crc32c_table(0xDEADBEEFu, p, n));
            ++compared;
        }
    }
    BOOST_TEST(compared == static_cast<int>(lengths.size() * 8));
}

BOOST_AUTO_TEST_CASE(updating_in_pieces_equals_one_call)
{
    const auto data = random_bytes(200'000, 9);
    std::mt19937_64 rng(10);
    for (const crc_fn f : implementations()) {
        const std::uint32_t whole = crc_of(f, data);
        BOOST_TEST(whole == reference_crc32c(data));
        for (int trial = 0; trial < 50; ++trial) {
            std::uint32_t crc = 0;
            std::size_t at = 0;
            while (at < data.size()) {
                // Piece sizes from 0 to past a long round, so pieces start at every alignment.
                const std::size_t piece = std::min<std::size_t>(rng() % 30'000, data.size() - at);
                crc = f(crc, data.data() + at, piece);
                at += piece;
            }
            BOOST_TEST(crc == whole, "trial " << trial);
        }
    }
    // crc32c_update dispatches to one of them and keeps the same contract.
    const auto part1 = bytes("12345");
    const auto part2 = bytes("6789");
    BOOST_TEST(crc32c_update(crc32c_update(0, part1.data(), part1.size()), part2.data(), part2.size()) ==
               0xE3069283u);
}

BOOST_AUTO_TEST_CASE(header_value_is_big_endian_base64)
{
    // botocore's checksums (httpchecksum.BaseChecksum.b64digest) send the CRC as 4 big-endian bytes in base64.
    BOOST_TEST(crc32c_base64(0xE3069283u) == "4waSgw==");  // E3 06 92 83
    BOOST_TEST(crc32c_base64(0) == "AAAAAA==");            // the empty body
    BOOST_TEST(crc32c_base64(0x8A9136AAu) == "ipE2qg==");
    BOOST_TEST(crc32c_base64(0x113FDB5Cu) == "ET/bXA==");  // '/' of the standard alphabet
    BOOST_TEST(crc32c_base64(0xFFFFFFFFu) == "/////w==");
    const auto hello = bytes("Hello, World!");
    BOOST_TEST(crc32c_base64(crc32c_update(0, hello.data(), hello.size())) == "TVUQaA==");
}

BOOST_AUTO_TEST_SUITE_END()
