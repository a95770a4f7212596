#pragma once
// Settings of the S3 engine: plain structs with their defaults and limits written beside them.

#include <cachestep/sigv4/credentials.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace cachestep::engine {

enum class addressing_style {
    automatic,       // virtual-hosted on AWS when the bucket name allows it, path-style on custom endpoints
    virtual_hosted,  // https://bucket.s3.us-east-1.amazonaws.com/key
    path,            // https://s3.us-east-1.amazonaws.com/bucket/key, http://127.0.0.1:9000/bucket/key
};

struct endpoint_config {
    std::string url;     // "" = the AWS regional endpoint; else e.g. "http://127.0.0.1:9000"
    std::string region;  // "" = from AWS_REGION / AWS_DEFAULT_REGION, else us-east-1
    addressing_style addressing{addressing_style::automatic};
};

struct tls_config {
    bool verify_peer{true};  // certificate chain and host name; off only for throwaway test servers
    std::string ca_bundle;   // PEM file of trusted CAs; "" = the system store (AWS_CA_BUNDLE sets this)
};

// The integrity check each uploaded part and PutObject body carries, verified by the server.
enum class payload_checksum {
    crc32c,  // x-amz-checksum-crc32c (hardware CRC32C: ~free); AWS verifies it
    md5,     // Content-MD5: every S3 implementation verifies it; ~1.4 CPU-seconds per GB
    none,
};

// Whether the SigV4 signature covers the body's SHA-256 (measured: ~0.5 CPU-seconds per GB on this machine).
enum class payload_signing {
    automatic,  // signed only over plain HTTP with checksum none, so every body carries one check the server
                // can verify; UNSIGNED-PAYLOAD otherwise (over TLS, or with a CRC32C/MD5 checksum). Servers that
                // ignore x-amz-checksum-crc32c (Ceph RGW before 19, s3rver, moto) verify only Content-MD5 or
                // a signed payload: use checksum md5 or signing always there.
    always,
    never,
};

struct retry_config {
    int max_attempts{5};                          // per request, first try included; >= 1
    std::chrono::milliseconds base_delay{100};    // backoff before retry n: random in [0, min(max_delay, base * 2^(n-1))]
    std::chrono::milliseconds max_delay{10'000};
};

struct timeout_config {
    std::chrono::milliseconds connect{10'000};    // DNS + TCP + TLS handshake
    std::chrono::milliseconds request{300'000};   // one whole request and response, body included
    std::chrono::milliseconds stall{30'000};      // no byte moving in either direction for this long
};

struct transfer_config {
    std::uint64_t part_size{8ull << 20};  // upload: first part size; >= 5 MiB, <= 5 GiB. Grows for very long streams
    // Download: bytes per ranged GET, >= 64 KiB. The first range is first_range_size and each next one doubles
    // until range_size: the first bytes reach the sink sooner (a restore starts unpacking after 1 MiB, not
    // after a whole range), and the object's size, learnt from the first answer, fans the rest out sooner.
    std::uint64_t range_size{4ull << 20};
    std::uint64_t first_range_size{1ull << 20};  // >= 64 KiB, <= range_size; equal to it: every range alike
    // Requests in flight per transfer (and connections it uses). S3 gives ~90 MB/s per connection, so
    // throughput is connections x that: behind bench/wan_proxy (that cap, 10 ms first byte) a 2 GiB download
    // took 3.8 s with 8 x 8 MiB ranges, 2.3 s with 16 x 4 MiB and 1.8 s with 24 x 4 MiB (aws-cli: 3.3 s).
    // Uploads are bounded by their part buffers first (memory_limit / part size).
    int concurrency{24};
    std::uint64_t memory_limit{96ull << 20};  // bytes of part/range buffers per transfer; the window shrinks to fit
    payload_checksum checksum{payload_checksum::crc32c};
    payload_signing signing{payload_signing::automatic};
};

struct client_config {
    endpoint_config endpoint;
    sigv4::credentials credentials;
    tls_config tls;
    retry_config retry;
    timeout_config timeouts;
    transfer_config transfer;
    int max_idle_connections{64};  // kept-alive connections kept per endpoint (>= concurrency, or some reconnect)
    std::string user_agent{"cache-step"};
};

}  // namespace cachestep::engine
