// Hashes, ETags and ids (see digest.hpp).

#include "digest.hpp"

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>

namespace s3sink {

std::string blob_digest(const EVP_MD* md, const blob& b)
{
    return digest_hex(md, [&](auto feed) { b.for_each(0, b.size, feed); });
}

std::string content_md5_hex(std::string_view b64)
{
    if (b64.size() != 24) return {};
    unsigned char out[24];
    int n = EVP_DecodeBlock(out, reinterpret_cast<const unsigned char*>(b64.data()), 24);
    if (n != 18 || b64.substr(22) != "==") return {};
    return hex(out, 16);
}

std::string fast_etag()
{
    static std::atomic<std::uint64_t> counter{std::random_device{}()};
    auto mix = [](std::uint64_t z) {
        z += 0x9e3779b97f4a7c15ULL;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    std::uint64_t c = counter.fetch_add(2);
    unsigned char b[16];
    std::uint64_t x = mix(c), y = mix(c + 1);
    std::memcpy(b, &x, 8);
    std::memcpy(b + 8, &y, 8);
    return hex(b, 16);
}

std::string random_id(std::size_t bytes)
{
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::string raw(bytes, '\0');
    for (auto& c : raw) c = static_cast<char>(rng());
    return hex(raw);
}

}  // namespace s3sink
