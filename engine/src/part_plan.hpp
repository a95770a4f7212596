#pragma once
// How an upload of unknown length is cut into parts, and how many part buffers it may hold at once.
//
// S3 allows at most 10,000 parts of 5 MiB to 5 GiB (the last may be smaller) and 5 TiB per object. A fixed
// 8 MiB part would stop a stream at 78 GiB, and we cannot pick the size from the length because a piped
// archive has none. So the part size doubles every 800 parts:
//
//   parts          size (base 8 MiB)   stream covered at the end of the range
//   1 - 800        base        8 MiB     6.25 GiB
//   801 - 1600     2 x base   16 MiB    18.75 GiB
//   1601 - 2400    4 x base   32 MiB    43.75 GiB
//   2401 - 3200    8 x base   64 MiB    93.75 GiB
//   ...            doubling, at most 5 GiB (max_part_size)
//
// With the smallest base S3 allows (5 MiB) the 10,000 parts cover 14,332,000 MiB, about 13.7 TiB, so every
// base in [5 MiB, 5 GiB] fits any object S3 can store (5 TiB) in 10,000 parts. Small streams, the common
// case, keep small parts and therefore high parallelism.
//
// Memory: a transfer holds at most buffers_for(size, cfg) part buffers of `size` bytes (uploads: parts in
// flight plus the one read ahead; downloads: ranges in flight plus those waiting in the reorder window), and
// at most `concurrency` requests in flight. With the defaults (8 MiB base, concurrency 24, memory_limit
// 96 MiB): 12 x 8 MiB allowed for parts 1-800 (11 in flight + 1 read ahead), 6 x 16 MiB, then 3 x 32 MiB;
// from part 2401 (beyond 43.75 GiB of stream) the floor of two parts applies (2 x 64 MiB), because a transfer
// must keep reading while it sends. A download holds 96 / 4 = 24 ranges of 4 MiB, in flight or waiting.

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>
#include <cachestep/engine/types.hpp>

#include <cstdint>

namespace cachestep::engine::detail {

inline constexpr int parts_per_size_step = 800;  // the size doubles after this many parts
inline constexpr int max_concurrency = 64;       // requests in flight per transfer that validate_transfer allows
inline constexpr std::uint64_t min_range_size = 64ull << 10;  // a GET smaller than this is all latency

// The size of part `part_number` (1-based) of a stream whose first part has `base_part_size` bytes:
// base * 2^((part_number - 1) / 800), at most max_part_size. A base outside [min_part_size, max_part_size] is
// clamped into it (validate_transfer refuses such a configuration first). Returns 0 for a part number outside
// [1, max_part_count]: a stream that needs part 10,001 is too large for S3.
std::uint64_t part_size_for(int part_number, std::uint64_t base_part_size);

// Refuses, with engine_errc::invalid_argument and a message naming the value and its limit: part_size
// outside [5 MiB, 5 GiB], range_size outside [64 KiB, 5 GiB], first_range_size outside [64 KiB, range_size],
// concurrency outside [1, 64], memory_limit below two parts or two ranges (one on the wire, one being read or
// written).
result<void> validate_transfer(const transfer_config& cfg);

// Ranged downloads. Range `index` (0-based) starts at download_range_start(index, cfg) and ends where the next
// starts: sizes first_range_size, 2x, 4x, ... up to range_size, then range_size each (1, 2, 4, 4, 4 MiB with
// the defaults). The caller cuts the last range at the object's end.
std::uint64_t download_range_start(std::uint64_t index, const transfer_config& cfg);
// How many ranges cover `object_size` bytes (1 for an empty object: the first GET is made before the size is
// known).
std::uint64_t download_range_count(std::uint64_t object_size, const transfer_config& cfg);

// How many part buffers of `part_size` bytes a transfer may hold: memory_limit / part_size, at least 2 (one on
// the wire while the next is read, which is also what an upload needs to tell one part from several).
// Recomputed as parts grow, so fewer are held and memory stays within memory_limit down to that floor.
// A part_size of 0 counts as 1 byte.
int buffers_for(std::uint64_t part_size, const transfer_config& cfg);

}  // namespace cachestep::engine::detail
