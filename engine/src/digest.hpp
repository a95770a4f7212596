#pragma once
// MD5 and SHA-256 over OpenSSL 3's EVP interface, and base64, for the headers that carry digests:
// Content-MD5 (base64 of the MD5), x-amz-content-sha256 (lower-case hex of the SHA-256, when the payload is
// signed) and x-amz-checksum-* (base64).
//
// The hashers are incremental so a part can be hashed as it is filled, without a second pass over it.
// They are movable, not copyable, and not shared between threads. They throw std::runtime_error if OpenSSL
// cannot provide the algorithm (e.g. MD5 in a FIPS-only configuration) or fails internally, and
// std::logic_error when used after finish.

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace cachestep::engine::detail {

struct evp_md_ctx_deleter {
    void operator()(EVP_MD_CTX* ctx) const noexcept;
};

// What both hashers are: an EVP digest context that is updated, then finished exactly once.
class evp_hasher {
public:
    explicit evp_hasher(const EVP_MD* md);
    void update(const void* data, std::size_t size);
    // Writes the digest (out.size() must be the algorithm's size) and spends the hasher.
    void finish_into(std::span<std::uint8_t> out);

private:
    std::unique_ptr<EVP_MD_CTX, evp_md_ctx_deleter> ctx_;
    bool finished_{false};
};

class md5_hasher {
public:
    md5_hasher();
    void update(const void* data, std::size_t size) { hasher_.update(data, size); }
    std::array<std::uint8_t, 16> finish();  // once; update and finish throw std::logic_error afterwards

private:
    evp_hasher hasher_;
};

class sha256_hasher {
public:
    sha256_hasher();
    void update(const void* data, std::size_t size) { hasher_.update(data, size); }
    std::string finish_hex();  // 64 lower-case hex digits, as x-amz-content-sha256; once, like md5_hasher

private:
    evp_hasher hasher_;
};

// RFC 4648 base64 with padding ("+/" alphabet, no line breaks), as HTTP headers carry binary values.
std::string base64_encode(std::span<const std::uint8_t> bytes);

// The Content-MD5 header value of a body: base64 of its MD5 (24 characters).
std::string content_md5(const void* data, std::size_t size);

}  // namespace cachestep::engine::detail
