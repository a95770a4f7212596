#pragma once
// Where a request for (bucket, key) goes: which host to connect to, which Host header and path to send.
// Pure: no DNS, no sockets.

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace cachestep::engine::detail {

struct endpoint {
    bool tls{true};
    std::string host;        // DNS name or IP literal, without brackets
    std::uint16_t port{443};
    bool is_aws{false};      // an amazonaws.com endpoint: virtual-hosted addressing by default
    std::string region;      // signing region
};

// endpoint_config.url "" becomes https://s3.<region>.amazonaws.com (amazonaws.com.cn for cn-* regions).
// A URL needs an http or https scheme and nothing beyond host and port (no user, path, query or fragment):
// anything else is refused with engine_errc::invalid_argument naming the problem.
result<endpoint> resolve_endpoint(const endpoint_config& cfg, std::string_view default_region = "us-east-1");

struct request_target {
    bool tls{true};
    std::string connect_host;  // what to resolve
    std::uint16_t port{443};
    std::string host_header;   // "bucket.s3.us-east-1.amazonaws.com", "127.0.0.1:9000"
    std::string path;          // percent-encoded, starts with '/'
};

// S3's rules for virtual-hosted bucket names (lower-case letters, digits, '-', 3-63 characters, no dots over
// TLS since a wildcard certificate covers one label).
bool is_virtual_host_compatible(std::string_view bucket, bool tls);

// The target for an object (key non-empty) or for the bucket itself (key empty: listings, ?uploads, ?delete).
// Keys are encoded the way S3 clients do: every byte but A-Z a-z 0-9 - _ . ~ / as %XX.
// Refuses an empty bucket, a bucket with '/', a key over 1024 bytes, and virtual-hosted addressing for a
// bucket name that cannot be a host name.
result<request_target> make_target(const endpoint& ep, addressing_style style, std::string_view bucket,
                                   std::string_view key);

}  // namespace cachestep::engine::detail
