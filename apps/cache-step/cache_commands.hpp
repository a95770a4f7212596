#pragma once
// cache-step save / restore / ls / rm / prune: our own commands (plugin mode is plugin_mode.hpp).

#include "s3_flags.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace cachestep::app {

struct store_flags {
    std::string bucket;
    std::string filesystem_root;  // set: the filesystem backend instead of S3
    std::string workspace{"."};
    bool json{false};
    bool quiet{false};
    s3_flags s3;
};

struct save_flags {
    store_flags store;
    std::string key;
    std::vector<std::string> source_paths;
    std::string archive_format{"lz4"};
    int compression_level{0};
    unsigned threads{0};
    bool override_existing{false};
    bool skip_symlinks{false};
};

struct restore_flags {
    store_flags store;
    std::string key;
    std::vector<std::string> restore_keys;
    std::vector<std::string> source_paths;
    bool fail_if_key_not_found{false};
    bool no_strict_key_matching{false};
};

struct manage_flags {
    store_flags store;
    std::string prefix;
    std::vector<std::string> keys;  // rm
    std::string older_than;         // prune
    bool dry_run{false};
};

void add_cache_commands(CLI::App& app, save_flags& save, restore_flags& restore, manage_flags& ls,
                        manage_flags& rm, manage_flags& prune);

// Exit status: 0 on success (a restore miss included, unless --fail-if-key-not-found), 1 on failure,
// 128+signal when interrupted.
int run_save(const save_flags& flags);
int run_restore(const restore_flags& flags);
int run_ls(const manage_flags& flags);
int run_rm(const manage_flags& flags);
int run_prune(const manage_flags& flags);

}  // namespace cachestep::app
