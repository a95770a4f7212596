#pragma once
// Compresses one chunk of the tar stream into one self-contained frame: an LZ4 frame followed by its digest
// trailer (frame_digest.hpp), a Zstandard frame (with checksum), or a gzip member. Concatenated frames are one valid
// stream for every decoder (lz4, zstd and gzip all read multi-frame input), which is what lets chunks be
// compressed in parallel. One instance per worker thread: it keeps the library's context between chunks.

#include <cachestep/archive/codec.hpp>
#include <cachestep/archive/error.hpp>

#include <memory>
#include <span>
#include <vector>

namespace cachestep::archive::detail {

class frame_compressor {
public:
    virtual ~frame_compressor() = default;
    // Replaces `out` with the frame for `in`. `out` keeps its capacity between calls.
    virtual result<void> compress(std::span<const char> in, std::vector<char>& out) = 0;
};

// level: already validated against levels(c).
std::unique_ptr<frame_compressor> make_frame_compressor(codec c, int level);

}  // namespace cachestep::archive::detail
