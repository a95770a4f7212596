#pragma once
// Where caches live: an S3 bucket (through the engine) or a directory (the plugin's filesystem backend). Keys
// are object keys ("npm-abc123/node_modules"); a store writes each object whole or not at all, so a reader
// never sees half an archive and two writers of one key leave one complete object (the last).
// All calls block; they are made from the command's thread.

#include "engine_session.hpp"

#include <cachestep/engine/error.hpp>
#include <cachestep/engine/io.hpp>
#include <cachestep/engine/types.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace cachestep::app {

// Part and range buffers of a cache transfer (save, restore, plugin mode; cp keeps the engine's 96 MiB), so
// that each stays near 100 MiB of RSS, under the 128 MiB we allow ourselves (Harness gives a step 500 MiB).
// A restore also holds the archive's own buffers (8 x 1 MiB decoded blocks, up to 16 MiB of small files queued
// for writing), a save only a few 1 MiB chunks. Measured behind bench/wan_proxy (90 MB/s per connection,
// 10 ms): with 48 MiB a save of incompressible jars (maven corpus) was link-bound at 5 parts in flight
// (0.96 s, 0.32 s unshaped); 64 MiB keeps 7 in flight at ~91 MiB of RSS. A restore at 64 MiB peaked at
// 116-131 MiB (heaptrack: 67 MiB ranges, 16.5 queued files, 10.5 blocks); at 48 MiB (12 ranges of 4 MiB)
// ~100 MiB, 0.02-0.03 s slower on node_modules.
inline constexpr std::uint64_t save_transfer_memory = 64ull << 20;
inline constexpr std::uint64_t restore_transfer_memory = 48ull << 20;

struct stored_object {
    std::string key;
    std::uint64_t size{0};
    std::chrono::sys_seconds last_modified{};
};

class cache_store {
public:
    virtual ~cache_store() = default;
    virtual std::string describe(const std::string& key) const = 0;  // "s3://bucket/key", "/cache/root/key"
    // Every object whose key starts with prefix (all pages).
    virtual engine::result<std::vector<stored_object>> list(const std::string& prefix) = 0;
    virtual engine::result<std::optional<stored_object>> find(const std::string& key) = 0;
    // Writes the whole source under key, atomically; returns the bytes stored.
    virtual engine::result<std::uint64_t> put(const std::string& key, engine::byte_source& source) = 0;
    // Reads the object into the sink; returns its size.
    virtual engine::result<std::uint64_t> get(const std::string& key, engine::byte_sink& sink) = 0;
    virtual engine::result<void> remove(const std::string& key) = 0;
    // Stops a put or get in progress (from any thread): it then fails, a multipart upload aborted.
    virtual void cancel() = 0;
};

std::unique_ptr<cache_store> make_s3_store(std::unique_ptr<engine_session> session, std::string bucket,
                                           engine::upload_options upload_options);
// Objects are files under root (keys with '/' make directories); written to a temporary name and renamed.
std::unique_ptr<cache_store> make_filesystem_store(std::filesystem::path root);

}  // namespace cachestep::app
