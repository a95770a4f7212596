#pragma once
// Streaming decompression of a whole archive stream: any number of concatenated frames (lz4, zstd) or members
// (gzip), as we and the standard tools write them. Input arrives in arbitrary pieces; output goes into
// caller-provided space, so decoded bytes land directly in the tar reader's blocks.

#include <cachestep/archive/codec.hpp>
#include <cachestep/archive/error.hpp>

#include <memory>
#include <span>

namespace cachestep::archive::detail {

class stream_decoder {
public:
    struct progress {
        std::size_t consumed{0};  // bytes of `in` used
        std::size_t produced{0};  // bytes written to `out`
    };
    virtual ~stream_decoder() = default;
    // Decodes as much as fits. May consume without producing (headers) and produce without consuming
    // (buffered output): call again while either moves. Errors: archive_errc::corrupt_archive (with the
    // library's reason), codec_failed.
    virtual result<progress> decode(std::span<const char> in, std::span<char> out) = 0;
    // True when everything given so far formed complete frames: the stream may end here. False means an
    // end of input now is a truncated stream.
    virtual bool at_frame_boundary() const = 0;
};

std::unique_ptr<stream_decoder> make_stream_decoder(codec c);

}  // namespace cachestep::archive::detail
