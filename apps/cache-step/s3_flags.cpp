#include "s3_flags.hpp"

#include "s3_url.hpp"

#include <cachestep/engine/environment.hpp>

#include <algorithm>

namespace cachestep::app {

using engine::engine_errc;
using engine::error_info;

void add_s3_flags(CLI::App& c, s3_flags& f)
{
    c.add_option("--endpoint", f.endpoint, "S3 endpoint URL, e.g. http://127.0.0.1:9000 (default: AWS, or AWS_ENDPOINT_URL)");
    c.add_option("--region", f.region, "signing region (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)");
    c.add_flag("--path-style", f.path_style, "path-style addressing (http://host/bucket/key)");
    c.add_option("--part-size", f.part_size, "upload: first part size, >= 5MiB (grows for very long streams)")->capture_default_str();
    c.add_option("--range-size", f.range_size, "download: bytes per ranged GET, >= 64KiB (the first ranges ramp up from 1MiB)")
        ->capture_default_str();
    c.add_option("--concurrency", f.concurrency, "requests in flight per transfer (1-64)")->capture_default_str();
    c.add_option("--memory-limit", f.memory_limit, "part and range buffers per transfer at most this many bytes")->capture_default_str();
    c.add_option("--checksum", f.checksum, "integrity check per part: crc32c, md5 or none")->capture_default_str();
    c.add_option("--sign-payload", f.sign_payload,
                 "sign the body's SHA-256: auto (only over plain HTTP with --checksum none), always, never")
        ->capture_default_str();
    c.add_option("--ca-bundle", f.ca_bundle, "PEM file of trusted CAs (default: AWS_CA_BUNDLE, else the system store)");
    c.add_flag("--no-verify-ssl", f.no_verify_ssl, "do not verify TLS certificates (throwaway test servers only)");
    c.add_option("--max-attempts", f.max_attempts, "tries per request, first included")->capture_default_str();
    c.add_option("--timeout", f.timeout_seconds, "seconds one request may take")->capture_default_str();
    c.add_option("--stall-timeout", f.stall_seconds, "seconds without a byte moving before a request fails")->capture_default_str();
}

engine::result<engine::client_config> make_client_config(const s3_flags& f)
{
    engine::client_config cfg;
    cfg.endpoint.url = f.endpoint;
    cfg.endpoint.region = f.region;
    cfg.endpoint.addressing = f.path_style ? engine::addressing_style::path : engine::addressing_style::automatic;
    cfg.tls.ca_bundle = f.ca_bundle;
    cfg.tls.verify_peer = !f.no_verify_ssl;
    engine::apply_environment(cfg);

    const auto part = parse_size(f.part_size);
    if (!part) return error_info(engine_errc::invalid_argument, "--part-size: not a size: " + f.part_size);
    const auto memory = parse_size(f.memory_limit);
    if (!memory) return error_info(engine_errc::invalid_argument, "--memory-limit: not a size: " + f.memory_limit);
    const auto range = parse_size(f.range_size);
    if (!range) return error_info(engine_errc::invalid_argument, "--range-size: not a size: " + f.range_size);
    cfg.transfer.part_size = *part;
    cfg.transfer.range_size = *range;
    cfg.transfer.first_range_size = std::min(cfg.transfer.first_range_size, *range);
    cfg.transfer.memory_limit = *memory;
    cfg.transfer.concurrency = f.concurrency;
    if (f.checksum == "crc32c") cfg.transfer.checksum = engine::payload_checksum::crc32c;
    else if (f.checksum == "md5") cfg.transfer.checksum = engine::payload_checksum::md5;
    else if (f.checksum == "none") cfg.transfer.checksum = engine::payload_checksum::none;
    else return error_info(engine_errc::invalid_argument, "--checksum: expected crc32c, md5 or none, got " + f.checksum);
    if (f.sign_payload == "auto") cfg.transfer.signing = engine::payload_signing::automatic;
    else if (f.sign_payload == "always") cfg.transfer.signing = engine::payload_signing::always;
    else if (f.sign_payload == "never") cfg.transfer.signing = engine::payload_signing::never;
    else return error_info(engine_errc::invalid_argument, "--sign-payload: expected auto, always or never, got " + f.sign_payload);
    if (f.max_attempts < 1) return error_info(engine_errc::invalid_argument, "--max-attempts must be at least 1");
    if (f.timeout_seconds < 1 || f.stall_seconds < 1)
        return error_info(engine_errc::invalid_argument, "--timeout and --stall-timeout must be at least 1 second");
    cfg.retry.max_attempts = f.max_attempts;
    cfg.timeouts.request = std::chrono::seconds{f.timeout_seconds};
    cfg.timeouts.stall = std::chrono::seconds{f.stall_seconds};
    return cfg;
}

}  // namespace cachestep::app
