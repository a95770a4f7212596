#pragma once
// cache-step pack / unpack: the archive pipeline alone, between directory trees and a local file or a pipe.
// (save/restore add S3; these are for debugging a cache, for benchmarks, and for the filesystem backend.)

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

namespace cachestep::app {

struct pack_command_options {
    std::string workspace{"."};
    std::string format{"lz4"};
    int level{0};
    unsigned threads{0};
    bool absolute_names{false};
    std::string output{"-"};
    bool quiet{false};
    std::vector<std::string> paths;
};

struct unpack_command_options {
    std::string workspace{"."};
    std::optional<std::string> mount;
    unsigned threads{0};
    bool quiet{false};
    std::string input{"-"};
};

void add_pack_command(CLI::App& app, pack_command_options& options);
void add_unpack_command(CLI::App& app, unpack_command_options& options);
int run_pack(const pack_command_options& options);      // 0 on success, 1 on failure
int run_unpack(const unpack_command_options& options);  // 0 on success, 1 on failure

}  // namespace cachestep::app
