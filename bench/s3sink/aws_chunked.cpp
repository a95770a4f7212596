#include "body.hpp"

#include <cachestep/sigv4/crypto.hpp>

#include <openssl/evp.h>

#include <charconv>

namespace s3sink {

aws_chunked_decoder::~aws_chunked_decoder()
{
    if (sha_) EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(sha_));
}

void aws_chunked_decoder::verify_signatures(chunk_signing s)
{
    signing_ = std::move(s);
    sha_ = EVP_MD_CTX_new();
}

bool aws_chunked_decoder::check_chunk()
{
    if (!signing_) return true;
    auto* ctx = static_cast<EVP_MD_CTX*>(sha_);
    unsigned char d[32];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, d, &n);
    std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + signing_->amz_date + "\n" + signing_->scope + "\n" +
                      signing_->seed_signature + "\n" +
                      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
                      cachestep::sigv4::to_hex(std::span<const std::uint8_t>(d, 32));
    std::string expected = cachestep::sigv4::to_hex(cachestep::sigv4::hmac_sha256(signing_->key, sts));
    if (expected != chunk_signature_) {
        fail(403, "SignatureDoesNotMatch", "aws-chunked: a chunk signature does not match");
        return false;
    }
    signing_->seed_signature = expected;  // the next chunk chains on this one
    return true;
}
bool aws_chunked_decoder::take_line(const char*& p, const char* end)
{
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* stop = nl ? nl : end;
    line_.append(p, stop);
    p = nl ? nl + 1 : end;
    if (line_.size() > 8192) {
        fail(400, "IncompleteBody", "aws-chunked: a chunk header or trailer line over 8 KiB");
        return false;
    }
    if (!nl) return false;
    if (!line_.empty() && line_.back() == '\r') line_.pop_back();
    return true;
}

bool aws_chunked_decoder::commit(std::size_t n)
{
    const char* p = stage_.data();
    const char* end = p + n;
    while (p < end) {
        switch (state_) {
        case state::size_line: {
            if (!take_line(p, end)) {
                if (error_.status) return false;
                break;
            }
            std::string_view l = line_;
            auto semi = l.find(';');
            std::string_view hex = l.substr(0, semi);
            std::uint64_t size = 0;
            auto [ptr, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), size, 16);
            if (ec != std::errc{} || ptr != hex.data() + hex.size() || hex.empty()) {
                fail(400, "IncompleteBody", "aws-chunked: bad chunk size line");
                return false;
            }
            if (signing_) {
                auto at = l.find(";chunk-signature=");
                chunk_signature_ = at == std::string_view::npos ? std::string{} : std::string(l.substr(at + 17));
                EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(sha_), EVP_sha256(), nullptr);
            }
            line_.clear();
            if (size == 0) {
                if (!check_chunk()) return false;
                state_ = state::trailer;
            } else {
                remaining_ = size;
                state_ = state::data;
            }
            break;
        }
        case state::data: {
            std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(end - p)));
            if (!inner_.write(p, k)) {
                error_ = inner_.error();
                return false;
            }
            if (signing_) EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(sha_), p, k);
            p += k;
            remaining_ -= k;
            decoded_ += k;
            if (remaining_ == 0) {
                if (!check_chunk()) return false;
                state_ = state::data_cr;
            }
            break;
        }
        case state::data_cr:
        case state::data_lf: {
            char want = state_ == state::data_cr ? '\r' : '\n';
            if (*p != want) {
                fail(400, "IncompleteBody", "aws-chunked: chunk data not followed by CRLF");
                return false;
            }
            ++p;
            state_ = state_ == state::data_cr ? state::data_lf : state::size_line;
            break;
        }
        case state::trailer:
            if (!take_line(p, end)) {
                if (error_.status) return false;
                break;
            }
            if (line_.empty()) state_ = state::done; else trailers_.push_back(line_);
            line_.clear();
            break;
        case state::done:
            fail(400, "IncompleteBody", "aws-chunked: bytes after the final chunk");
            return false;
        }
    }
    return true;
}

bool aws_chunked_decoder::finish()
{
    // Lenient on the very last CRLF: a trailer section whose last line ended is complete.
    if (state_ == state::trailer && line_.empty()) state_ = state::done;
    if (state_ != state::done) {
        fail(400, "IncompleteBody", "aws-chunked: the body ended inside a chunk");
        return false;
    }
    return true;
}

}  // namespace s3sink
