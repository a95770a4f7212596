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
