#include "crc32c.hpp"

#include "digest.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace cachestep::engine::detail {
namespace {

constexpr std::uint32_t polynomial = 0x82F63B78;  // Castagnoli, bit-reflected

using byte_table = std::array<std::uint32_t, 256>;

// slicing[0] is the classic byte-at-a-time table; slicing[k][b] is the CRC register contribution of byte b
// followed by k zero bytes, which lets the fallback fold 8 input bytes with 8 independent lookups.
constexpr std::array<byte_table, 8> make_slicing_tables()
{
    std::array<byte_table, 8> t{};
    for (std::uint32_t b = 0; b < 256; ++b) {
        std::uint32_t reg = b;
        for (int bit = 0; bit < 8; ++bit) reg = (reg >> 1) ^ ((reg & 1u) != 0 ? polynomial : 0u);
        t[0][b] = reg;
    }
    for (std::size_t k = 1; k < t.size(); ++k) {
        for (std::size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
    }
    return t;
}

constexpr auto slicing = make_slicing_tables();

constexpr std::uint32_t load_le32(const unsigned char* p)
{
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}

// The raw CRC register (no inversions) fed `size` bytes.
std::uint32_t table_register(std::uint32_t reg, const unsigned char* p, std::size_t size)
{
    for (; size >= 8; p += 8, size -= 8) {
        const std::uint32_t lo = reg ^ load_le32(p);
        const std::uint32_t hi = load_le32(p + 4);
        reg = slicing[7][lo & 0xFF] ^ slicing[6][(lo >> 8) & 0xFF] ^ slicing[5][(lo >> 16) & 0xFF] ^
              slicing[4][lo >> 24] ^ slicing[3][hi & 0xFF] ^ slicing[2][(hi >> 8) & 0xFF] ^
              slicing[1][(hi >> 16) & 0xFF] ^ slicing[0][hi >> 24];
    }
    for (; size > 0; ++p, --size) reg = (reg >> 8) ^ slicing[0][(reg ^ *p) & 0xFF];
    return reg;
}

#if defined(__x86_64__)

// The hardware path runs three independent crc32 chains over three adjacent blocks, because the instruction
// has a latency of 3 cycles but a throughput of 1 per cycle: one chain leaves two thirds of the unit idle.
// The three block CRCs are then joined: the register after A then B equals the register after A moved
// forward over |B| zero bytes, xor the register of B alone (the CRC is linear). Moving a register over a fixed
// number of zero bytes is a linear map on 32 bits, tabulated per register byte (Mark Adler's method).
constexpr std::size_t long_block = 8192;  // the bulk of an 8 MiB part: 341 rounds of 3 x 8 KiB
constexpr std::size_t short_block = 256;  // what is left of a part, and small bodies

using shift_table = std::array<byte_table, 4>;

constexpr shift_table make_shift_table(std::size_t zero_bytes)
{
    // Image of each of the 32 register bits after zero_bytes zero bytes; every other value is an xor of these.
    std::array<std::uint32_t, 32> bit_image{};
    for (std::size_t bit = 0; bit < 32; ++bit) {
        std::uint32_t reg = std::uint32_t{1} << bit;
        for (std::size_t i = 0; i < zero_bytes; ++i) reg = (reg >> 8) ^ slicing[0][reg & 0xFF];
        bit_image[bit] = reg;
    }
    shift_table t{};
    for (std::size_t k = 0; k < 4; ++k) {
        for (std::size_t b = 0; b < 256; ++b) {
            std::uint32_t v = 0;
            for (std::size_t bit = 0; bit < 8; ++bit) {
                if ((b >> bit) & 1u) v ^= bit_image[8 * k + bit];
            }
            t[k][b] = v;
        }
    }
    return t;
}

constexpr shift_table shift_long = make_shift_table(long_block);
constexpr shift_table shift_short = make_shift_table(short_block);

std::uint32_t shift(const shift_table& t, std::uint64_t reg)
{
    return t[0][reg & 0xFF] ^ t[1][(reg >> 8) & 0xFF] ^ t[2][(reg >> 16) & 0xFF] ^ t[3][(reg >> 24) & 0xFF];
}

std::uint64_t load_u64(const unsigned char* p)
{
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);  // x86-64 is little-endian, as crc32q expects
    return v;
}

// Consumes as many rounds of 3 x block bytes as fit; returns the register.
__attribute__((target("sse4.2"))) std::uint64_t hw_three_streams(std::uint64_t reg, const unsigned char*& p,
                                                                  std::size_t& size, std::size_t block,
                                                                  const shift_table& table)
{
    while (size >= 3 * block) {
        std::uint64_t reg1 = 0;
        std::uint64_t reg2 = 0;
        const unsigned char* const end = p + block;
        for (; p < end; p += 8) {
            reg = _mm_crc32_u64(reg, load_u64(p));
            reg1 = _mm_crc32_u64(reg1, load_u64(p + block));
            reg2 = _mm_crc32_u64(reg2, load_u64(p + 2 * block));
        }
        reg = shift(table, reg) ^ reg1;
        reg = shift(table, reg) ^ reg2;
        p += 2 * block;
        size -= 3 * block;
    }
    return reg;
}

#endif

}  // namespace

std::uint32_t crc32c_table(std::uint32_t crc, const void* data, std::size_t size)
{
    if (size == 0) return crc;
    return ~table_register(~crc, static_cast<const unsigned char*>(data), size);
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) std::uint32_t crc32c_hw(std::uint32_t crc, const void* data, std::size_t size)
{
    if (size == 0) return crc;
    auto p = static_cast<const unsigned char*>(data);
    std::uint64_t reg = ~crc;
    // Byte steps up to an 8-byte boundary, so the 8-byte loads never straddle a cache line.
    for (; size > 0 && (reinterpret_cast<std::uintptr_t>(p) & 7) != 0; ++p, --size) {
        reg = _mm_crc32_u8(static_cast<std::uint32_t>(reg), *p);
    }
    reg = hw_three_streams(reg, p, size, long_block, shift_long);
    reg = hw_three_streams(reg, p, size, short_block, shift_short);
    for (; size >= 8; p += 8, size -= 8) reg = _mm_crc32_u64(reg, load_u64(p));
    for (; size > 0; ++p, --size) reg = _mm_crc32_u8(static_cast<std::uint32_t>(reg), *p);
    return ~static_cast<std::uint32_t>(reg);
}

bool crc32c_hw_available() noexcept
{
    __builtin_cpu_init();  // needed if the first caller runs inside a static constructor
    return __builtin_cpu_supports("sse4.2");
}

#else

std::uint32_t crc32c_hw(std::uint32_t crc, const void* data, std::size_t size)
{
    return crc32c_table(crc, data, size);
}

bool crc32c_hw_available() noexcept
{
    return false;
}

#endif

std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t size)
{
    using impl_fn = std::uint32_t (*)(std::uint32_t, const void*, std::size_t);
    static const impl_fn impl = crc32c_hw_available() ? &crc32c_hw : &crc32c_table;
    return impl(crc, data, size);
}

std::string crc32c_base64(std::uint32_t crc)
{
    const std::array<std::uint8_t, 4> big_endian{
        static_cast<std::uint8_t>(crc >> 24), static_cast<std::uint8_t>(crc >> 16),
        static_cast<std::uint8_t>(crc >> 8), static_cast<std::uint8_t>(crc)};
    return base64_encode(big_endian);
}

}  // namespace cachestep::engine::detail
