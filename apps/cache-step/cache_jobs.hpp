#pragma once
// Save and restore of a cache key, shared by our commands and plugin mode.
//
// Layout (the Drone plugin's): one object per mount, at "<key>/<mount suffix>", the suffix being the mount's
// path without a leading "/" or "./" (ours: the path relative to the workspace when it is inside it). Each
// object is one archive whose first entry is the mount itself.
//
// Which key a restore uses: the exact key if any object is stored under "<key>/" ("key1/..." does not match
// "key" with strict matching; without it the key is a prefix like a restore key: the newest match wins); else, for each
// restore key (a prefix) in order, the newest object whose name starts with it names the key (its name up to
// "/<mount suffix>"; without mounts, up to the first "/" after the prefix); the first prefix that matches wins.

#include "cache_transfer.hpp"
#include "logger.hpp"

#include <cachestep/archive/codec.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace cachestep::app {

struct mount_spec {
    std::filesystem::path path;  // absolute, on disk
    std::string suffix;          // object "<key>/<suffix>"
    std::string archive_name;    // the archive's root entry name (relative to the workspace, or absolute)
};

struct save_job {
    std::string key;
    std::vector<mount_spec> mounts;
    archive::codec format{archive::codec::lz4};
    int level{0};
    unsigned threads{0};
    bool override_existing{false};   // false: a mount whose object exists is skipped
    bool skip_symlinks{false};
    bool missing_mount_is_error{false};  // the plugin fails on a mount it cannot stat; we warn and skip
    bool progress{false};
};

struct mount_result {
    std::string mount;        // as given
    std::string object_key;
    enum class status { done, skipped_existing, missing, not_found, failed } state{status::failed};
    std::uint64_t file_bytes{0}, stored_bytes{0}, files{0};
    double seconds{0};
    std::string error;        // when failed
};

struct save_report {
    std::vector<mount_result> mounts;
    bool ok() const;
};

save_report run_save(cache_store& store, const save_job& job, transfer_canceller& canceller, const logger& log);

struct restore_job {
    std::string key;
    std::vector<std::string> restore_keys;  // prefixes, in order
    std::vector<mount_spec> mounts;         // empty: every object under the key, restored in place
    std::filesystem::path workspace;
    bool strict_key_matching{true};
    bool progress{false};
};

struct restore_report {
    bool exact_hit{false};          // the key itself was found
    std::string matched_key;        // "" on a miss
    std::vector<mount_result> mounts;
    std::optional<engine::error_info> lookup_error;  // listing the store failed
    bool found() const { return !matched_key.empty(); }
    bool ok() const;                // no lookup error, no failed mount
    bool complete() const;          // found, and every wanted mount restored
};

restore_report run_restore(cache_store& store, const restore_job& job, transfer_canceller& canceller, const logger& log);

// "node_modules" for "./node_modules", "harness/node_modules" for "/harness/node_modules/".
std::string mount_suffix(std::string_view mount);

}  // namespace cachestep::app
