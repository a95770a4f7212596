#include "stream_decoder.hpp"

#include "frame_digest.hpp"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <optional>
#include <string>

namespace cachestep::archive::detail {
namespace {

failure corrupt(std::string what)
{
    return failure{make_error_code(archive_errc::corrupt_archive), {}, "corrupt archive: " + what};
}

class copy_decoder final : public stream_decoder {
public:
    result<progress> decode(std::span<const char> in, std::span<char> out) override
    {
        const std::size_t n = std::min(in.size(), out.size());
        if (n > 0) std::memcpy(out.data(), in.data(), n);  // an empty span's data() may be null
        return progress{n, n};
    }
    bool at_frame_boundary() const override { return true; }
};

// LZ4 frames, each checked against the digest trailer that follows it when there is one (frame_digest.hpp).
// liblz4 would skip a trailer unseen, so between frames the bytes are looked at here first: while they match
// the trailer's fixed prefix they are held back; if they stop matching, the held bytes go to liblz4 after all.
class lz4_decoder final : public stream_decoder {
public:
    lz4_decoder()
    {
        if (LZ4F_isError(LZ4F_createDecompressionContext(&context_, LZ4F_VERSION))) context_ = nullptr;
    }
    ~lz4_decoder() override { LZ4F_freeDecompressionContext(context_); }

    result<progress> decode(std::span<const char> in, std::span<char> out) override
    {
        if (!context_) return failure{make_error_code(archive_errc::codec_failed), {}, "lz4: no context"};
        if (between_frames_ && replay_begin_ == replay_end_) {
            std::size_t used = 0;
            while (used < in.size() && held_count_ < digest_trailer_size &&
                   (held_count_ >= digest_trailer_fixed || in[used] == digest_trailer_prefix[held_count_]))
                held_[held_count_++] = in[used++];
            if (held_count_ == digest_trailer_size) return check_trailer(used);
            if (used == in.size()) return progress{used, 0};  // still a trailer's beginning: wait for more
            if (held_count_ > 0) {  // not a trailer after all: liblz4 gets the held bytes, then the rest
                replay_begin_ = 0;
                replay_end_ = held_count_;
                held_count_ = 0;
                between_frames_ = false;
                if (used > 0) return progress{used, 0};
            }
        }
        while (replay_begin_ < replay_end_) {
            auto r = decode_frames({held_.data() + replay_begin_, replay_end_ - replay_begin_}, out);
            if (!r) return r;
            replay_begin_ += r->consumed;
            if (r->produced > 0 || r->consumed == 0) return progress{0, r->produced};
        }
        return decode_frames(in, out);
    }
    bool at_frame_boundary() const override
    {
        return between_frames_ && held_count_ == 0 && replay_begin_ == replay_end_;
    }

private:
    result<progress> check_trailer(std::size_t used)
    {
        held_count_ = 0;
        if (!frame_digest_) return corrupt("lz4: a digest trailer that follows no frame");
        const std::uint64_t expected = trailer_digest(std::span<const char, digest_trailer_size>(held_));
        if (expected != *frame_digest_)
            return corrupt("lz4: frame " + std::to_string(frames_) + " does not match its XXH3 digest");
        frame_digest_.reset();
        return progress{used, 0};
    }

    result<progress> decode_frames(std::span<const char> in, std::span<char> out)
    {
        std::size_t out_size = out.size();
        std::size_t in_size = in.size();
        const std::size_t hint = LZ4F_decompress(context_, out.data(), &out_size, in.data(), &in_size, nullptr);
        if (LZ4F_isError(hint)) return corrupt(std::string("lz4: ") + LZ4F_getErrorName(hint));
        digest_.update(out.first(out_size));
        if (in_size > 0 || out_size > 0) {
            between_frames_ = hint == 0;  // 0: a frame ended here (the context is ready for the next one)
            if (between_frames_) {
                ++frames_;
                frame_digest_ = digest_.finish_and_reset();
            }
        }
        return progress{in_size, out_size};
    }

    LZ4F_dctx* context_{nullptr};
    bool between_frames_{true};
    content_digest digest_;                      // of the current frame's output so far
    std::optional<std::uint64_t> frame_digest_;  // of the frame that just ended, until its trailer is checked
    std::uint64_t frames_{0};
    std::array<char, digest_trailer_size> held_{};
    std::size_t held_count_{0};                  // bytes held while they may be a trailer
    std::size_t replay_begin_{0}, replay_end_{0};  // held bytes that turned out not to be one
};

class zstd_decoder final : public stream_decoder {
public:
    zstd_decoder() : context_(ZSTD_createDCtx())
    {
        // Refuse frames that ask for a window over 128 MiB (zstd's own default limit is the same): a hostile
        // header must not make us allocate gigabytes.
        if (context_) ZSTD_DCtx_setParameter(context_, ZSTD_d_windowLogMax, 27);
    }
    ~zstd_decoder() override { ZSTD_freeDCtx(context_); }

    result<progress> decode(std::span<const char> in, std::span<char> out) override
    {
        if (!context_) return failure{make_error_code(archive_errc::codec_failed), {}, "zstd: no context"};
        ZSTD_inBuffer input{in.data(), in.size(), 0};
        ZSTD_outBuffer output{out.data(), out.size(), 0};
        const std::size_t rc = ZSTD_decompressStream(context_, &output, &input);
        if (ZSTD_isError(rc)) return corrupt(std::string("zstd: ") + ZSTD_getErrorName(rc));
        if (input.pos > 0 || output.pos > 0) at_boundary_ = rc == 0;  // 0: a frame is complete and flushed
        return progress{input.pos, output.pos};
    }
    bool at_frame_boundary() const override { return at_boundary_; }

private:
    ZSTD_DCtx* context_;
    bool at_boundary_{true};
};

class gzip_decoder final : public stream_decoder {
public:
    gzip_decoder() { ok_ = inflateInit2(&stream_, 15 + 16) == Z_OK; }  // gzip wrapper only
    ~gzip_decoder() override
    {
        if (ok_) inflateEnd(&stream_);
    }

    result<progress> decode(std::span<const char> in, std::span<char> out) override
    {
        if (!ok_) return failure{make_error_code(archive_errc::codec_failed), {}, "gzip: cannot initialise zlib"};
        if (in.empty() && out.empty()) return progress{};
        if (member_ended_ && !in.empty()) {  // the next member of a multi-member stream
            if (inflateReset(&stream_) != Z_OK) return corrupt("gzip: inflateReset failed");
            member_ended_ = false;
        }
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream_.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), 1u << 30));
        stream_.next_out = reinterpret_cast<Bytef*>(out.data());
        stream_.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size(), 1u << 30));
        const uInt in_before = stream_.avail_in, out_before = stream_.avail_out;
        const int rc = inflate(&stream_, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            member_ended_ = true;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return corrupt(std::string("gzip: ") + (stream_.msg ? stream_.msg : "inflate failed"));
        }
        const progress p{in_before - stream_.avail_in, out_before - stream_.avail_out};
        if (p.consumed > 0 || p.produced > 0) started_ = true;
        return p;
    }
    bool at_frame_boundary() const override { return !started_ || member_ended_; }

private:
    z_stream stream_{};
    bool ok_{false};
    bool started_{false};
    bool member_ended_{false};
};

}  // namespace

std::unique_ptr<stream_decoder> make_stream_decoder(codec c)
{
    switch (c) {
    case codec::lz4: return std::make_unique<lz4_decoder>();
    case codec::zstd: return std::make_unique<zstd_decoder>();
    case codec::gzip: return std::make_unique<gzip_decoder>();
    case codec::none: break;
    }
    return std::make_unique<copy_decoder>();
}

}  // namespace cachestep::archive::detail
