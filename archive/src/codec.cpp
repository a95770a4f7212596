#include <cachestep/archive/codec.hpp>

#include <array>
#include <ostream>

namespace cachestep::archive {

std::optional<codec> parse_codec(std::string_view name)
{
    if (name == "tar" || name == "none") return codec::none;
    if (name == "gzip" || name == "gz") return codec::gzip;
    if (name == "zstd" || name == "zst") return codec::zstd;
    if (name == "lz4") return codec::lz4;
    return std::nullopt;
}

std::string_view codec_name(codec c)
{
    switch (c) {
    case codec::none: return "tar";
    case codec::gzip: return "gzip";
    case codec::zstd: return "zstd";
    case codec::lz4: return "lz4";
    }
    return "?";
}

std::ostream& operator<<(std::ostream& os, codec c) { return os << codec_name(c); }

int default_level(codec c)
{
    switch (c) {
    case codec::none: return 0;
    case codec::gzip: return 6;  // zlib's Z_DEFAULT_COMPRESSION, what `gzip` and Go's gzip use
    case codec::zstd: return 3;  // ZSTD_CLEVEL_DEFAULT
    case codec::lz4: return 1;   // `lz4 -1`: the fast mode
    }
    return 0;
}

level_range levels(codec c)
{
    switch (c) {
    case codec::none: return {0, 0};
    case codec::gzip: return {1, 9};
    case codec::zstd: return {1, 19};  // 20-22 need --ultra windows: too much memory for a CI step
    case codec::lz4: return {1, 12};   // 3..12 select LZ4-HC
    }
    return {0, 0};
}

std::optional<codec> detect_codec(std::span<const std::byte> b)
{
    if (b.size() < 4) return std::nullopt;
    auto at = [&](std::size_t i) { return std::to_integer<unsigned>(b[i]); };
    if (at(0) == 0x1f && at(1) == 0x8b) return codec::gzip;
    if (at(0) == 0x28 && at(1) == 0xb5 && at(2) == 0x2f && at(3) == 0xfd) return codec::zstd;
    // Zstandard skippable frames: magic 0x184D2A50..5F, little-endian
    if ((at(0) & 0xf0) == 0x50 && at(1) == 0x2a && at(2) == 0x4d && at(3) == 0x18) return codec::zstd;
    if (at(0) == 0x04 && at(1) == 0x22 && at(2) == 0x4d && at(3) == 0x18) return codec::lz4;
    return codec::none;
}

}  // namespace cachestep::archive
