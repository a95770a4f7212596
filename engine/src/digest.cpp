#include "digest.hpp"

#include <cachestep/sigv4/crypto.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

namespace cachestep::engine::detail {
namespace {

struct evp_md_deleter {
    void operator()(EVP_MD* md) const noexcept { EVP_MD_free(md); }
};
using evp_md_ptr = std::unique_ptr<EVP_MD, evp_md_deleter>;

// An explicit fetch, done once: EVP_md5()/EVP_sha256() would make OpenSSL 3 look the algorithm up in its
// provider store on every EVP_DigestInit, which costs more than hashing a small body.
evp_md_ptr fetch(const char* name)
{
    evp_md_ptr md(EVP_MD_fetch(nullptr, name, nullptr));
    if (!md) throw std::runtime_error(std::string("OpenSSL does not provide ") + name);
    return md;
}

const EVP_MD* md5_algorithm()
{
    static const evp_md_ptr md = fetch("MD5");
    return md.get();
}

const EVP_MD* sha256_algorithm()
{
    static const evp_md_ptr md = fetch("SHA256");
    return md.get();
}

}  // namespace

void evp_md_ctx_deleter::operator()(EVP_MD_CTX* ctx) const noexcept
{
    EVP_MD_CTX_free(ctx);
}

evp_hasher::evp_hasher(const EVP_MD* md) : ctx_(EVP_MD_CTX_new())
{
    if (!ctx_ || EVP_DigestInit_ex2(ctx_.get(), md, nullptr) != 1) {
        throw std::runtime_error(std::string("OpenSSL cannot start a ") + EVP_MD_get0_name(md) + " digest");
    }
}

void evp_hasher::update(const void* data, std::size_t size)
{
    if (finished_ || !ctx_) throw std::logic_error("digest updated after finish (or after a move)");
    // Only fails on an OpenSSL internal error; an empty update is valid and cheap.
    if (EVP_DigestUpdate(ctx_.get(), data, size) != 1) throw std::runtime_error("OpenSSL digest update failed");
}

void evp_hasher::finish_into(std::span<std::uint8_t> out)
{
    if (finished_ || !ctx_) throw std::logic_error("digest finished twice (or after a move)");
    finished_ = true;
    unsigned int written = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), out.data(), &written) != 1 || written != out.size()) {
        throw std::runtime_error("OpenSSL digest finish failed");
    }
}

md5_hasher::md5_hasher() : hasher_(md5_algorithm()) {}

std::array<std::uint8_t, 16> md5_hasher::finish()
{
    std::array<std::uint8_t, 16> out;
    hasher_.finish_into(out);
    return out;
}

sha256_hasher::sha256_hasher() : hasher_(sha256_algorithm()) {}

std::string sha256_hasher::finish_hex()
{
    std::array<std::uint8_t, 32> out;
    hasher_.finish_into(out);
    return sigv4::to_hex(out);
}

std::string base64_encode(std::span<const std::uint8_t> bytes)
{
    // EVP_EncodeBlock takes an int length and pads only at the end of its input, so long inputs go in chunks
    // of a multiple of 3 bytes: each chunk then encodes to whole 4-character groups, the same as one call.
    constexpr std::size_t chunk = 3u << 20;
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');  // + 1: EVP_EncodeBlock writes a terminating NUL
    std::size_t written = 0;
    for (std::size_t i = 0; i < bytes.size(); i += chunk) {
        const std::size_t n = std::min(chunk, bytes.size() - i);
        written += static_cast<std::size_t>(EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                                            bytes.data() + i, static_cast<int>(n)));
    }
    out.resize(written);
    return out;
}

std::string content_md5(const void* data, std::size_t size)
{
    md5_hasher md5;
    md5.update(data, size);
    return base64_encode(md5.finish());
}

}  // namespace cachestep::engine::detail
