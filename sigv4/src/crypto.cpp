#include <cachestep/sigv4/crypto.hpp>

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <stdexcept>

namespace cachestep::sigv4 {

digest sha256(std::string_view data)
{
    digest out;
    SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    return out;
}

digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data)
{
    digest out;
    unsigned int len = 0;
    // The one-shot HMAC() is the cheapest OpenSSL 3 entry point for short messages; it only fails when
    // OpenSSL itself is broken (no SHA-256 provider), which we cannot recover from.
    if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len) == nullptr ||
        len != out.size()) {
        throw std::runtime_error("OpenSSL HMAC-SHA256 failed");
    }
    return out;
}

std::string to_hex(std::span<const std::uint8_t> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out(bytes.size() * 2, '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xF];
    }
    return out;
}

}  // namespace cachestep::sigv4
