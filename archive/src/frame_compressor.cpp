#include "frame_compressor.hpp"

#include "frame_digest.hpp"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>
#include <string>

namespace cachestep::archive::detail {
namespace {

failure codec_failure(std::string what)
{
    return failure{make_error_code(archive_errc::codec_failed), {}, std::move(what)};
}

class copy_frames final : public frame_compressor {
public:
    result<void> compress(std::span<const char> in, std::vector<char>& out) override
    {
        out.assign(in.begin(), in.end());
        return {};
    }
};

class lz4_frames final : public frame_compressor {
public:
    explicit lz4_frames(int level)
    {
        if (LZ4F_isError(LZ4F_createCompressionContext(&context_, LZ4F_VERSION))) context_ = nullptr;
        prefs_.compressionLevel = level;
        prefs_.frameInfo.blockSizeID = LZ4F_max1MB;
        prefs_.frameInfo.blockMode = LZ4F_blockIndependent;
        // No XXH32 content checksum: a digest trailer follows each frame instead (frame_digest.hpp says why).
        prefs_.frameInfo.contentChecksumFlag = LZ4F_noContentChecksum;
    }
    ~lz4_frames() override { LZ4F_freeCompressionContext(context_); }

    result<void> compress(std::span<const char> in, std::vector<char>& out) override
    {
        if (!context_) return codec_failure("lz4: cannot create a compression context");
        prefs_.frameInfo.contentSize = in.size();
        out.resize(LZ4F_compressBound(in.size(), &prefs_) + LZ4F_HEADER_SIZE_MAX);
        std::size_t n = LZ4F_compressBegin(context_, out.data(), out.size(), &prefs_);
        if (LZ4F_isError(n)) return codec_failure(std::string("lz4: ") + LZ4F_getErrorName(n));
        std::size_t used = n;
        n = LZ4F_compressUpdate(context_, out.data() + used, out.size() - used, in.data(), in.size(), nullptr);
        if (LZ4F_isError(n)) return codec_failure(std::string("lz4: ") + LZ4F_getErrorName(n));
        used += n;
        n = LZ4F_compressEnd(context_, out.data() + used, out.size() - used, nullptr);
        if (LZ4F_isError(n)) return codec_failure(std::string("lz4: ") + LZ4F_getErrorName(n));
        out.resize(used + n);
        append_digest_trailer(in, out);
        return {};
    }

private:
    LZ4F_cctx* context_{nullptr};
    LZ4F_preferences_t prefs_{};
};

class zstd_frames final : public frame_compressor {
public:
    explicit zstd_frames(int level) : context_(ZSTD_createCCtx())
    {
        if (!context_) return;
        ZSTD_CCtx_setParameter(context_, ZSTD_c_compressionLevel, level);
        ZSTD_CCtx_setParameter(context_, ZSTD_c_checksumFlag, 1);  // as `zstd` writes; checked on restore
    }
    ~zstd_frames() override { ZSTD_freeCCtx(context_); }

    result<void> compress(std::span<const char> in, std::vector<char>& out) override
    {
        if (!context_) return codec_failure("zstd: cannot create a compression context");
        out.resize(ZSTD_compressBound(in.size()));
        const std::size_t n = ZSTD_compress2(context_, out.data(), out.size(), in.data(), in.size());
        if (ZSTD_isError(n)) return codec_failure(std::string("zstd: ") + ZSTD_getErrorName(n));
        out.resize(n);
        return {};
    }

private:
    ZSTD_CCtx* context_;
};

class gzip_members final : public frame_compressor {
public:
    explicit gzip_members(int level)
    {
        // windowBits 15 + 16: a gzip wrapper (header, CRC-32, size) around each member.
        ok_ = deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
    }
    ~gzip_members() override
    {
        if (ok_) deflateEnd(&stream_);
    }

    result<void> compress(std::span<const char> in, std::vector<char>& out) override
    {
        if (!ok_) return codec_failure("gzip: cannot initialise zlib");
        if (deflateReset(&stream_) != Z_OK) return codec_failure("gzip: deflateReset failed");
        out.resize(deflateBound(&stream_, static_cast<uLong>(in.size())) + 32);
        stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
        stream_.avail_in = static_cast<uInt>(in.size());
        stream_.next_out = reinterpret_cast<Bytef*>(out.data());
        stream_.avail_out = static_cast<uInt>(out.size());
        const int rc = deflate(&stream_, Z_FINISH);
        if (rc != Z_STREAM_END) return codec_failure("gzip: deflate failed (" + std::to_string(rc) + ")");
        out.resize(out.size() - stream_.avail_out);
        return {};
    }

private:
    z_stream stream_{};
    bool ok_{false};
};

}  // namespace

std::unique_ptr<frame_compressor> make_frame_compressor(codec c, int level)
{
    switch (c) {
    case codec::lz4: return std::make_unique<lz4_frames>(level);
    case codec::zstd: return std::make_unique<zstd_frames>(level);
    case codec::gzip: return std::make_unique<gzip_members>(level);
    case codec::none: break;
    }
    return std::make_unique<copy_frames>();
}

}  // namespace cachestep::archive::detail
