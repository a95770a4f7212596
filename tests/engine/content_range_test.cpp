// Content-Range parsing and Range formatting (engine/src/content_range.cpp): the values a ranged GET returns,
// and every malformed form refused.
#include "content_range.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <limits>
#include <string>

using namespace cachestep::engine::detail;

namespace {

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

bool refused(std::string_view value)
{
    return !parse_content_range(value).has_value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_content_range)

BOOST_AUTO_TEST_CASE(parses_what_servers_send)
{
    const auto r = parse_content_range("bytes 0-99/1000");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->first == 0u);
    BOOST_TEST(r->last == 99u);
    BOOST_TEST(r->total == 1000u);
    BOOST_TEST(r->length() == 100u);
    // The last 8 MiB range of a 20 MiB object, and a one-byte object.
    BOOST_TEST((parse_content_range("bytes 16777216-20971519/20971520") ==
                content_range{16777216, 20971519, 20971520}));
    BOOST_TEST((parse_content_range("bytes 0-0/1") == content_range{0, 0, 1}));
    BOOST_TEST(parse_content_range("bytes 0-0/1")->length() == 1u);
    BOOST_TEST((parse_content_range("bytes 999-999/1000") == content_range{999, 999, 1000}));
}

BOOST_AUTO_TEST_CASE(unit_case_surrounding_whitespace_and_leading_zeros)
{
    BOOST_TEST((parse_content_range("  bytes 0-99/1000\t ") == content_range{0, 99, 1000}));
    BOOST_TEST((parse_content_range("Bytes 0-99/1000") == content_range{0, 99, 1000}));
    BOOST_TEST((parse_content_range("BYTES 0-99/1000") == content_range{0, 99, 1000}));
    BOOST_TEST((parse_content_range("bytes 007-0099/01000") == content_range{7, 99, 1000}));
}

BOOST_AUTO_TEST_CASE(the_full_64_bit_range)
{
    BOOST_TEST((parse_content_range("bytes 0-18446744073709551614/18446744073709551615") ==
                content_range{0, u64_max - 1, u64_max}));
    BOOST_TEST(refused("bytes 0-18446744073709551615/18446744073709551616"));   // total 2^64
    BOOST_TEST(refused("bytes 18446744073709551616-18446744073709551617/1"));   // first 2^64
    BOOST_TEST(refused("bytes 0-99999999999999999999999/99999999999999999999999999"));
    BOOST_TEST(refused("bytes 0-18446744073709551615/18446744073709551615"));   // last == total
}

BOOST_AUTO_TEST_CASE(refuses_forms_without_a_usable_range)
{
    BOOST_TEST(refused("bytes */1000"));   // a 416 answer: no range
    BOOST_TEST(refused("bytes 0-99/*"));   // total unknown
    BOOST_TEST(refused("bytes */*"));
}

BOOST_AUTO_TEST_CASE(refuses_inconsistent_numbers)
{
    BOOST_TEST(refused("bytes 100-99/1000"));   // last < first
    BOOST_TEST(refused("bytes 0-1000/1000"));   // last == total
    BOOST_TEST(refused("bytes 0-1500/1000"));   // last > total
    BOOST_TEST(refused("bytes 0-0/0"));         // an empty object has no byte 0
}

BOOST_AUTO_TEST_CASE(refuses_malformed_values)
{
    for (const char* v : {"", "   ", "bytes", "bytes ", "bytes 0-99", "bytes 0-99/", "bytes 0/1000", "bytes -99/1000",
                          "bytes 0-/1000", "bytes  0-99/1000", "bytes\t0-99/1000", "bytes0-99/1000",
                          "bytes 0 -99/1000", "bytes 0- 99/1000", "bytes 0-99 /1000", "bytes 0-99/ 1000",
                          "bytes +0-99/1000", "bytes 0-+99/1000", "bytes 0x0-0x63/1000", "bytes 0-99/1000x",
                          "bytes 0-99/1000/2000", "bytes 0-99/1000,", "bytes 0-9a/1000", "bytes 0-99/1e3",
                          "items 0-99/1000", "bits 0-99/1000", "bytes=0-99/1000", "0-99/1000",
                          "bytes 0-99/1000 bytes 100-199/1000"}) {
        BOOST_TEST(refused(v), "accepted \"" << v << "\"");
    }
    // A NUL inside the value is not a terminator.
    BOOST_TEST(refused(std::string_view("bytes 0-99/1000\0", 16)));
}

BOOST_AUTO_TEST_CASE(range_header_values)
{
    BOOST_TEST(range_header(0, 99) == "bytes=0-99");
    BOOST_TEST(range_header(0, 0) == "bytes=0-0");
    BOOST_TEST(range_header(8388608, 16777215) == "bytes=8388608-16777215");
    BOOST_TEST(range_header(u64_max - 1, u64_max) == "bytes=18446744073709551614-18446744073709551615");
}

BOOST_AUTO_TEST_SUITE_END()
