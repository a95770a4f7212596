// Codec names, levels and detection (archive/src/codec.cpp).
#include <cachestep/archive/codec.hpp>

#include <boost/test/unit_test.hpp>

#include <array>
#include <vector>

using namespace cachestep::archive;

namespace {
std::optional<codec> detect(std::vector<unsigned char> bytes)
{
    return detect_codec(std::as_bytes(std::span<const unsigned char>(bytes)));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(codec_suite)

BOOST_AUTO_TEST_CASE(names_parse_both_ways)
{
    BOOST_TEST((parse_codec("tar") == codec::none));
    BOOST_TEST((parse_codec("none") == codec::none));
    BOOST_TEST((parse_codec("gzip") == codec::gzip));
    BOOST_TEST((parse_codec("zstd") == codec::zstd));
    BOOST_TEST((parse_codec("lz4") == codec::lz4));
    BOOST_TEST(!parse_codec("bzip2").has_value());
    BOOST_TEST(!parse_codec("").has_value());
    for (codec c : {codec::none, codec::gzip, codec::zstd, codec::lz4}) BOOST_TEST((parse_codec(codec_name(c)) == c));
}

BOOST_AUTO_TEST_CASE(default_levels_lie_within_their_ranges)
{
    for (codec c : {codec::none, codec::gzip, codec::zstd, codec::lz4}) {
        BOOST_TEST(default_level(c) >= levels(c).min);
        BOOST_TEST(default_level(c) <= levels(c).max);
    }
    BOOST_TEST(default_level(codec::lz4) == 1);
    BOOST_TEST(default_level(codec::gzip) == 6);
}

BOOST_AUTO_TEST_CASE(detection_by_magic_bytes)
{
    BOOST_TEST((detect({0x1f, 0x8b, 0x08, 0x00}) == codec::gzip));
    BOOST_TEST((detect({0x28, 0xb5, 0x2f, 0xfd}) == codec::zstd));
    BOOST_TEST((detect({0x50, 0x2a, 0x4d, 0x18}) == codec::zstd));  // a skippable frame
    BOOST_TEST((detect({0x5f, 0x2a, 0x4d, 0x18}) == codec::zstd));
    BOOST_TEST((detect({0x04, 0x22, 0x4d, 0x18}) == codec::lz4));
    BOOST_TEST((detect({'n', 'o', 'd', 'e'}) == codec::none));  // a tar's first name: the tar reader decides
    BOOST_TEST(!detect({0x1f, 0x8b, 0x08}).has_value());       // too few bytes to know
}

BOOST_AUTO_TEST_SUITE_END()
