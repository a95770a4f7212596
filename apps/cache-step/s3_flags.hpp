#pragma once
// The S3 connection flags every cache-step command shares, and how they become an engine client_config
// (flags first, then the AWS_* environment, then defaults).

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>

#include <CLI/CLI.hpp>

#include <string>

namespace cachestep::app {

struct s3_flags {
    std::string endpoint;
    std::string region;
    bool path_style{false};
    std::string part_size{"8MiB"};
    std::string range_size{"4MiB"};
    int concurrency{24};
    std::string memory_limit{"96MiB"};
    std::string checksum{"crc32c"};
    std::string sign_payload{"auto"};
    std::string ca_bundle;
    bool no_verify_ssl{false};
    int max_attempts{5};
    int timeout_seconds{300};
    int stall_seconds{30};
};

void add_s3_flags(CLI::App& command, s3_flags& flags);

// Refuses bad values (sizes, enums) with engine_errc::invalid_argument naming the flag.
engine::result<engine::client_config> make_client_config(const s3_flags& flags);

}  // namespace cachestep::app
