#pragma once
// The two primitives SigV4 needs, over OpenSSL: SHA-256 and HMAC-SHA-256, plus lower-case hex.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cachestep::sigv4 {

using digest = std::array<std::uint8_t, 32>;

digest sha256(std::string_view data);
digest hmac_sha256(std::span<const std::uint8_t> key, std::string_view data);

// Lower-case hex, as SigV4 writes every hash and signature.
std::string to_hex(std::span<const std::uint8_t> bytes);

inline std::string sha256_hex(std::string_view data)
{
    return to_hex(sha256(data));
}

}  // namespace cachestep::sigv4
