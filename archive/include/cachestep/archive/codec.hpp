#pragma once
// The compression formats of a cache archive. The stream is always a tar (POSIX pax) stream; the codec wraps it.

#include <cstddef>
#include <iosfwd>
#include <optional>
#include <span>
#include <string_view>

namespace cachestep::archive {

enum class codec {
    none,  // plain tar (the Harness "Tar" setting)
    gzip,  // RFC 1952 members (Harness "Gzip")
    zstd,  // Zstandard frames
    lz4,   // LZ4 frames (our default: the cheapest to compress and decompress)
};

// "tar"/"none", "gzip"/"gz", "zstd"/"zst", "lz4"; nullopt for anything else.
std::optional<codec> parse_codec(std::string_view name);
std::string_view codec_name(codec c);  // "tar", "gzip", "zstd", "lz4"
std::ostream& operator<<(std::ostream& os, codec c);  // codec_name

// Levels: what `level 0` (the default) means per codec, and the accepted range.
int default_level(codec c);  // lz4 1 (lz4 -1), zstd 3 (zstd's), gzip 6 (gzip's), none 0
struct level_range {
    int min, max;
};
level_range levels(codec c);  // lz4 1..12 (>= 3 is LZ4-HC), zstd 1..19, gzip 1..9, none 0..0

// The codec of a stream from its first bytes (at least 4 are needed; fewer give nullopt): gzip 1f 8b,
// zstd 28 b5 2f fd (or a skippable frame 5X 2a 4d 18), lz4 04 22 4d 18; anything else is treated as plain tar
// (the tar reader then decides whether it is one).
std::optional<codec> detect_codec(std::span<const std::byte> first_bytes);

}  // namespace cachestep::archive
