#pragma once
// cache-step cp SRC DST: copies one file (or stdin/stdout as "-") to or from s3://bucket/key.

#include "s3_flags.hpp"

#include <CLI/CLI.hpp>

namespace cachestep::app {

struct cp_options {
    std::string source;
    std::string destination;
    bool quiet{false};
    s3_flags s3;
};

void add_cp_command(CLI::App& app, cp_options& options);

// Exit status: 0 on success only; 1 on failure; 128+signal when interrupted.
int run_cp(const cp_options& options);

}  // namespace cachestep::app
