#pragma once
// Hashes and made-up identifiers: MD5/SHA-256 of a body or a string as hex (ETags, --verify-payload), Content-MD5
// decoding, the cheap random ETag used when no MD5 is wanted (see --md5 in README.md), and request/upload ids.
// Apart from the operations because hashing is the one CPU-heavy thing the sink does: all of it is here.

#include "memory.hpp"
#include "text.hpp"

#include <openssl/evp.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace s3sink {

// The hex digest of what update(feed) feeds, feed being (const char*, size_t).
template <class Update>
std::string digest_hex(const EVP_MD* md, Update&& update)
{
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, nullptr);
    update([ctx](const char* p, std::size_t n) { EVP_DigestUpdate(ctx, p, n); });
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    return hex(out, len);
}

std::string blob_digest(const EVP_MD* md, const blob& b);
std::string content_md5_hex(std::string_view b64);  // Content-MD5 (base64 of 16 bytes) as hex, "" when malformed
std::string fast_etag();                            // 32 hex digits, unique per process, no hashing
std::string random_id(std::size_t bytes);           // 2 * bytes hex digits

}  // namespace s3sink
