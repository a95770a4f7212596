#pragma once
// The digest trailer that follows each LZ4 frame we write: a skippable frame (LZ4 frame format, magic
// 0x184D2A50..5F, which `lz4 -d`, libarchive and liblz4 skip unread) holding the XXH3-64 of the frame's
// decompressed content.
//
// Why not LZ4's own content checksum: it is XXH32, and on this project's VM it cost 0.33 CPU s to write and
// 0.31 s to check per 620 MB of node_modules tar, a quarter of a whole restore's CPU and most of the
// decoder thread's time on the restore's critical path. XXH3 (libxxhash, used header-only) costs ~0.02 s for
// the same bytes and still catches any corruption the transport did not.
//
// Layout, 20 bytes: magic 0x184D2A5E (LE), payload size 12 (LE), "XXH3", the digest (LE 64-bit).
// Archives without trailers (from `lz4`, or older cache-step versions with XXH32 content checksums) decode
// as before: liblz4 checks whatever checksum a frame carries.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

namespace cachestep::archive::detail {

inline constexpr std::size_t digest_trailer_size = 20;
inline constexpr std::size_t digest_trailer_fixed = 12;  // the bytes before the digest, the same in every trailer
inline constexpr std::array<char, digest_trailer_fixed> digest_trailer_prefix{
    '\x5E', '\x2A', '\x4D', '\x18', '\x0C', '\x00', '\x00', '\x00', 'X', 'X', 'H', '3'};

// Appends the trailer for a frame whose decompressed content is `content`.
void append_digest_trailer(std::span<const char> content, std::vector<char>& out);

// The digest a complete trailer carries (its first 12 bytes already matched digest_trailer_prefix).
std::uint64_t trailer_digest(std::span<const char, digest_trailer_size> trailer);

// XXH3-64 over content that arrives in pieces.
class content_digest {
public:
    content_digest();
    ~content_digest();
    content_digest(const content_digest&) = delete;
    content_digest& operator=(const content_digest&) = delete;

    void update(std::span<const char> bytes);
    std::uint64_t finish_and_reset();  // the digest of everything since the last reset, then starts over

private:
    struct state;
    std::unique_ptr<state> state_;
};

}  // namespace cachestep::archive::detail
