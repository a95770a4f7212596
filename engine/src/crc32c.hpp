#pragma once
// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the checksum S3 verifies in x-amz-checksum-crc32c.
// We send it with every part because the server checks it against the bytes it received, which catches
// corruption that TCP's 16-bit checksum and a TLS-terminating proxy can let through, at almost no CPU cost.

#include <cstddef>
#include <cstdint>
#include <string>

namespace cachestep::engine::detail {

// Extends `crc` by `size` bytes at `data`. Start with crc = 0; the CRC's initial and final inversion happen
// inside, so the result of one call is the finished checksum and can be fed to the next call:
//   crc32c_update(0, "123456789", 9) == 0xE3069283
//   crc32c_update(crc32c_update(0, a, n), b, m) == crc32c_update(0, a..b, n + m)
// Picks the SSE4.2 instruction when the CPU has it (decided once per process), else the table code.
// Thread-safe; data may be unaligned; data may be null when size is 0.
std::uint32_t crc32c_update(std::uint32_t crc, const void* data, std::size_t size);

// The x-amz-checksum-crc32c header value: the 4 checksum bytes, most significant first, in base64 (8 chars).
// crc32c_base64(0xE3069283) == "4waSgw=="
std::string crc32c_base64(std::uint32_t crc);

// The two implementations behind crc32c_update, same contract, exposed so tests can check each and the
// benchmark can time each.
// Portable slicing-by-8 tables: ~2.5 GB/s on this project's CI machine type (bench/crc32c_bench.cpp), any CPU.
std::uint32_t crc32c_table(std::uint32_t crc, const void* data, std::size_t size);
// SSE4.2 crc32 instruction over three interleaved 8-byte streams, combined with precomputed shift tables:
// ~30 GB/s there, 3x a single stream of the same instruction.
// Call only when crc32c_hw_available(); on non-x86-64 builds it forwards to crc32c_table.
std::uint32_t crc32c_hw(std::uint32_t crc, const void* data, std::size_t size);
bool crc32c_hw_available() noexcept;

}  // namespace cachestep::engine::detail
