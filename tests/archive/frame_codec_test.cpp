// Frames per chunk (frame_compressor) decoded as one stream (stream_decoder), for every codec: the property the
// parallel compression rests on. Also truncation and corruption are noticed, in any input split.
#include "frame_compressor.hpp"
#include "frame_digest.hpp"
#include "stream_decoder.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
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

// Our LZ4 frames: each is followed by a 20-byte skippable frame holding the XXH3 of its content.
namespace {

struct lz4_frame {
    std::vector<char> frame;  // without its trailer
    std::vector<char> trailer;
};

std::vector<lz4_frame> lz4_frames_of(const std::vector<char>& data, std::size_t chunk)
{
    auto compressor = make_frame_compressor(codec::lz4, default_level(codec::lz4));
    std::vector<lz4_frame> frames;
    std::vector<char> out;
    for (std::size_t at = 0; at < data.size(); at += chunk) {
        BOOST_REQUIRE(compressor->compress({data.data() + at, std::min(chunk, data.size() - at)}, out));
        BOOST_REQUIRE(out.size() > digest_trailer_size);
        const auto split = out.end() - static_cast<std::ptrdiff_t>(digest_trailer_size);
        frames.push_back({{out.begin(), split}, {split, out.end()}});
    }
    return frames;
}

std::vector<char> joined(std::initializer_list<const std::vector<char>*> parts)
{
    std::vector<char> out;
    for (const auto* p : parts) out.insert(out.end(), p->begin(), p->end());
    return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_lz4_frame_is_followed_by_its_digest_trailer)
{
    const auto data = sample(2'500'000, 17);
    const auto frames = lz4_frames_of(data, 1 << 20);
    BOOST_REQUIRE(frames.size() == 3u);
    for (const auto& f : frames)
        BOOST_TEST(std::equal(digest_trailer_prefix.begin(), digest_trailer_prefix.end(), f.trailer.begin()));
    // Byte by byte: a trailer split anywhere is still recognised and checked.
    const auto stream = compress_in_frames(codec::lz4, data, 1 << 20);
    auto d = decode_in_pieces(codec::lz4, stream, 1, 4096);
    BOOST_REQUIRE(!d.error);
    BOOST_TEST(d.at_boundary);
    BOOST_TEST((d.bytes == data));
}

BOOST_AUTO_TEST_CASE(a_frame_with_another_frames_digest_is_refused)
{
    const auto data = sample(2'000'000, 19);
    const auto f = lz4_frames_of(data, 1 << 20);
    // Each frame is valid LZ4, so only the digest can tell that the content is not what was written.
    const auto swapped = joined({&f[0].frame, &f[1].trailer, &f[1].frame, &f[0].trailer});
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{65536}}) {
        auto d = decode_in_pieces(codec::lz4, swapped, piece, 65536);
        BOOST_REQUIRE(d.error.has_value());
        BOOST_TEST((d.error->code == archive_errc::corrupt_archive));
        BOOST_TEST(d.error->message.find("frame 1 does not match its XXH3 digest") != std::string::npos,
                   d.error->message);
    }
    const auto orphan = joined({&f[0].trailer, &f[0].frame});
    auto d = decode_in_pieces(codec::lz4, orphan, 4096, 65536);
    BOOST_REQUIRE(d.error.has_value());
    BOOST_TEST(d.error->message.find("a digest trailer that follows no frame") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(lz4_streams_without_trailers_or_with_other_skippable_frames_decode)
{
    const auto data = sample(2'000'000, 23);
    const auto f = lz4_frames_of(data, 1 << 20);
    // As `lz4` writes them (no trailers), and with a foreign skippable frame that starts like a trailer
    // (same magic, 4-byte payload) between the frames.
    const std::vector<char> foreign{'\x5E', '\x2A', '\x4D', '\x18', '\x04', '\x00', '\x00', '\x00', 'a', 'b', 'c', 'd'};
    int form = 0;
    for (const auto& stream : {joined({&f[0].frame, &f[1].frame}), joined({&f[0].frame, &foreign, &f[1].frame}),
                               joined({&f[0].frame, &f[0].trailer, &foreign, &f[1].frame, &f[1].trailer})}) {
        ++form;
        for (std::size_t piece : {std::size_t{1}, std::size_t{5}, std::size_t{100'000}}) {
            BOOST_TEST_INFO_SCOPE("form " << form << ", pieces of " << piece);
            auto d = decode_in_pieces(codec::lz4, stream, piece, 65536);
            BOOST_TEST_REQUIRE(!d.error, (d.error ? d.error->message : ""));
            BOOST_TEST(d.at_boundary);
            BOOST_TEST((d.bytes == data));
        }
    }
}

BOOST_AUTO_TEST_CASE(a_stream_cut_inside_a_trailer_is_not_at_a_boundary)
{
    const auto data = sample(500'000, 29);
    const auto f = lz4_frames_of(data, 1 << 20);
    for (std::size_t keep : {std::size_t{1}, std::size_t{11}, std::size_t{12}, digest_trailer_size - 1}) {
        auto stream = f[0].frame;
        stream.insert(stream.end(), f[0].trailer.begin(), f[0].trailer.begin() + static_cast<std::ptrdiff_t>(keep));
        auto d = decode_in_pieces(codec::lz4, stream, 4096, 65536);
        BOOST_TEST((d.error.has_value() || !d.at_boundary), "trailer cut after " << keep << " bytes");
    }
}

BOOST_AUTO_TEST_SUITE_END()
