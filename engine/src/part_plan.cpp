#include "part_plan.hpp"

#include <algorithm>
#include <string>

namespace cachestep::engine::detail {
namespace {

error_info refuse(std::string message)
{
    return error_info(engine_errc::invalid_argument, std::move(message));
}

}  // namespace

std::uint64_t part_size_for(int part_number, std::uint64_t base_part_size)
{
    if (part_number < 1 || part_number > max_part_count) return 0;
    const std::uint64_t base = std::clamp(base_part_size, min_part_size, max_part_size);
    // At most (10000 - 1) / 800 = 12 doublings, and base <= 5 GiB = 2^32.3: the shift cannot overflow.
    const int doublings = (part_number - 1) / parts_per_size_step;
    return std::min(base << doublings, max_part_size);
}

result<void> validate_transfer(const transfer_config& cfg)
{
    if (cfg.part_size < min_part_size) {
        return refuse("part size " + std::to_string(cfg.part_size) + " bytes is below S3's minimum of 5 MiB (" +
                      std::to_string(min_part_size) + " bytes)");
    }
    if (cfg.part_size > max_part_size) {
        return refuse("part size " + std::to_string(cfg.part_size) + " bytes is above S3's maximum of 5 GiB (" +
                      std::to_string(max_part_size) + " bytes)");
    }
    if (cfg.range_size < min_range_size || cfg.range_size > max_part_size) {
        return refuse("range size " + std::to_string(cfg.range_size) + " bytes is outside 64 KiB..5 GiB");
    }
    if (cfg.first_range_size < min_range_size || cfg.first_range_size > cfg.range_size) {
        return refuse("first range size " + std::to_string(cfg.first_range_size) + " bytes is outside 64 KiB.." +
                      std::to_string(cfg.range_size) + " (the range size)");
    }
    if (cfg.concurrency < 1 || cfg.concurrency > max_concurrency) {
        return refuse("concurrency " + std::to_string(cfg.concurrency) + " is outside 1.." +
                      std::to_string(max_concurrency));
    }
    if (cfg.memory_limit / 2 < cfg.part_size) {
        return refuse("memory limit " + std::to_string(cfg.memory_limit) + " bytes cannot hold two parts of " +
                      std::to_string(cfg.part_size) + " bytes (one sent while the next is read)");
    }
    if (cfg.memory_limit / 2 < cfg.range_size) {
        return refuse("memory limit " + std::to_string(cfg.memory_limit) + " bytes cannot hold two ranges of " +
                      std::to_string(cfg.range_size) + " bytes (one received while the other is written)");
    }
    return {};
}

std::uint64_t download_range_start(std::uint64_t index, const transfer_config& cfg)
{
    // The ramp: first, 2 x first, ... while below range_size (at most 17 steps from 64 KiB to 5 GiB).
    std::uint64_t start = 0, size = std::max(cfg.first_range_size, min_range_size);
    for (; index > 0 && size < cfg.range_size; --index) {
        start += size;
        size *= 2;
    }
    return start + index * cfg.range_size;
}

std::uint64_t download_range_count(std::uint64_t object_size, const transfer_config& cfg)
{
    std::uint64_t count = 1, covered = std::max(cfg.first_range_size, min_range_size);
    for (std::uint64_t size = covered * 2; covered < object_size && size < cfg.range_size; size *= 2) {
        covered += size;
        ++count;
    }
    if (covered >= object_size) return count;
    const std::uint64_t step = std::max(cfg.range_size, min_range_size);
    return count + (object_size - covered + step - 1) / step;
}

int buffers_for(std::uint64_t part_size, const transfer_config& cfg)
{
    const std::uint64_t buffers = cfg.memory_limit / std::max<std::uint64_t>(part_size, 1);
    return static_cast<int>(std::clamp<std::uint64_t>(buffers, 2, 1u << 20));
}

}  // namespace cachestep::engine::detail
