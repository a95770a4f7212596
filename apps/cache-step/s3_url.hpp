#pragma once
// s3://bucket/key arguments and human sizes ("8MiB") on the command line.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachestep::app {

struct s3_url {
    std::string bucket;
    std::string key;  // may be empty ("s3://bucket" or "s3://bucket/")
};

// nullopt unless text starts with "s3://" and names a bucket.
std::optional<s3_url> parse_s3_url(std::string_view text);

// "8388608", "8M", "8MiB", "8MB", "1G", "512K": binary multiples (as the AWS CLI reads them). nullopt on junk
// or overflow.
std::optional<std::uint64_t> parse_size(std::string_view text);

}  // namespace cachestep::app
