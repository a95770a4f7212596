#include "frame_digest.hpp"

// Header-only: the functions are inlined here, so neither the library nor its installed CMake package links
// libxxhash.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>

namespace cachestep::archive::detail {

void append_digest_trailer(std::span<const char> content, std::vector<char>& out)
{
    const std::uint64_t digest = XXH3_64bits(content.data(), content.size());
    out.insert(out.end(), digest_trailer_prefix.begin(), digest_trailer_prefix.end());
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((digest >> (8 * i)) & 0xFF));
}

std::uint64_t trailer_digest(std::span<const char, digest_trailer_size> trailer)
{
    std::uint64_t digest = 0;
    for (int i = 7; i >= 0; --i)
        digest = (digest << 8) | static_cast<unsigned char>(trailer[digest_trailer_fixed + static_cast<std::size_t>(i)]);
    return digest;
}

struct content_digest::state {
    XXH3_state_t xxh{};
};

content_digest::content_digest() : state_(std::make_unique<state>())
{
    XXH3_64bits_reset(&state_->xxh);
}

content_digest::~content_digest() = default;

void content_digest::update(std::span<const char> bytes)
{
    if (!bytes.empty()) XXH3_64bits_update(&state_->xxh, bytes.data(), bytes.size());
}

std::uint64_t content_digest::finish_and_reset()
{
    const std::uint64_t digest = XXH3_64bits_digest(&state_->xxh);
    XXH3_64bits_reset(&state_->xxh);
    return digest;
}

}  // namespace cachestep::archive::detail
