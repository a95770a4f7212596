// Frames per chunk (frame_compressor) decoded as one stream (stream_decoder), for every codec: the property the
// parallel compression rests on. Also truncation and corruption are noticed, in any input split.
#include "frame_compressor.hpp"
#include "stream_decoder.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <random>
#include <string>
#include <vector>

using namespace cachestep::archive;
using namespace cachestep::archive::detail;

namespace {

// Text-like, compressible, seeded.
std::vector<char> sample(std::size_t size, unsigned seed)
{
    std::mt19937 rng(seed);
    const char* words[] = {"module", "exports", "function", "return", "const", "require", "(", ")", ";", "\n"};
    std::vector<char> out;
    while (out.size() < size) {
        const std::string w = words[rng() % 10];
        out.insert(out.end(), w.begin(), w.end());
        if (rng() % 7 == 0) out.push_back(static_cast<char>(rng()));
    }
    out.resize(size);
    return out;
}

std::vector<char> compress_in_frames(codec c, const std::vector<char>& data, std::size_t chunk)
{
    auto compressor = make_frame_compressor(c, default_level(c));
    std::vector<char> stream, frame;
    for (std::size_t at = 0; at < data.size(); at += chunk) {
        const std::size_t n = std::min(chunk, data.size() - at);
        BOOST_REQUIRE(compressor->compress({data.data() + at, n}, frame));
        stream.insert(stream.end(), frame.begin(), frame.end());
    }
    return stream;
}

struct decoded {
    std::vector<char> bytes;
    bool at_boundary{false};
    std::optional<failure> error;
};

decoded decode_in_pieces(codec c, const std::vector<char>& stream, std::size_t piece, std::size_t out_size)
{
    decoded d;
    auto decoder = make_stream_decoder(c);
    std::vector<char> out(out_size);
    for (std::size_t at = 0; at <= stream.size(); at += piece) {
        std::span<const char> in(stream.data() + std::min(at, stream.size()), std::min(piece, stream.size() - std::min(at, stream.size())));
        for (;;) {
            auto p = decoder->decode(in, out);
            if (!p) {
                d.error = p.error();
                return d;
            }
            d.bytes.insert(d.bytes.end(), out.begin(), out.begin() + static_cast<std::ptrdiff_t>(p->produced));
            in = in.subspan(p->consumed);
            if (p->consumed == 0 && p->produced == 0) break;
        }
        if (at >= stream.size()) break;
    }
    d.at_boundary = decoder->at_frame_boundary();
    return d;
}

const codec all_codecs[] = {codec::none, codec::gzip, codec::zstd, codec::lz4};

}  // namespace

BOOST_AUTO_TEST_SUITE(frame_codec_suite)

BOOST_DATA_TEST_CASE(concatenated_frames_decode_to_the_input, boost::unit_test::data::make(all_codecs), c)
{
    const auto data = sample(3'500'000, 7);
    const auto stream = compress_in_frames(c, data, 1 << 20);
    if (c != codec::none) BOOST_TEST(stream.size() < data.size() / 2);
    for (std::size_t piece : {std::size_t{1} << 20, std::size_t{4097}, std::size_t{333'333}}) {
        auto d = decode_in_pieces(c, stream, piece, 65536);
        BOOST_REQUIRE(!d.error);
        BOOST_TEST(d.at_boundary);
        BOOST_TEST((d.bytes == data));
    }
}

BOOST_DATA_TEST_CASE(a_stream_cut_inside_a_frame_is_not_at_a_boundary,
                     boost::unit_test::data::make({codec::gzip, codec::zstd, codec::lz4}), c)
{
    const auto data = sample(2'000'000, 11);
    auto stream = compress_in_frames(c, data, 1 << 20);
    for (std::size_t cut : {std::size_t{3}, stream.size() / 3, stream.size() - 1}) {
        std::vector<char> truncated(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(cut));
        auto d = decode_in_pieces(c, truncated, 8192, 65536);
        BOOST_TEST((d.error.has_value() || !d.at_boundary), "cut at " << cut);
    }
}

BOOST_DATA_TEST_CASE(corrupt_bytes_are_an_error, boost::unit_test::data::make({codec::gzip, codec::zstd, codec::lz4}), c)
{
    const auto data = sample(300'000, 13);
    auto stream = compress_in_frames(c, data, 1 << 20);
    stream[stream.size() / 2] = static_cast<char>(stream[stream.size() / 2] ^ 0x5a);  // content checksums catch it
    auto d = decode_in_pieces(c, stream, 65536, 65536);
    BOOST_REQUIRE(d.error.has_value());
    BOOST_TEST((d.error->code == archive_errc::corrupt_archive));
}

BOOST_AUTO_TEST_CASE(an_empty_chunk_is_a_valid_frame)
{
    for (codec c : all_codecs) {
        auto compressor = make_frame_compressor(c, default_level(c));
        std::vector<char> frame;
        BOOST_REQUIRE(compressor->compress({}, frame));
        auto d = decode_in_pieces(c, frame, 100, 100);
        BOOST_TEST(!d.error);
        BOOST_TEST(d.bytes.empty());
    }
}

BOOST_AUTO_TEST_SUITE_END()
