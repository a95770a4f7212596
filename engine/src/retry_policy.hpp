#pragma once
// Which failures are worth another attempt, and how long to wait before it.

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>

#include <chrono>
#include <cstdint>

namespace cachestep::engine::detail {

// True when the same request may succeed if sent again, because the failure was in transit or on a busy
// or broken server rather than in the request itself:
// - transport: connection reset / refused / aborted, broken pipe, EOF, network or host unreachable, network
//   down, socket timeouts, a TLS stream cut short (asio's stream_truncated, or OpenSSL 3's "unexpected eof
//   while reading"), DNS "try again" (EAI_AGAIN), Beast's end_of_stream / partial_message / short_read and its
//   parse errors (a garbled response), Beast's stream timeout;
// - engine_errc timeout, stalled, bad_response;
// - s3_errc slow_down, request_timeout, internal_error, service_unavailable, bad_gateway, gateway_timeout,
//   bad_digest (the bytes were damaged on the way; we still hold them and can send them again);
// - s3_errc::unknown, and codes of categories not named here, when the HTTP status is 500, 502, 503 or 504.
// Never: authentication and authorisation (a wrong key stays wrong), request_time_too_skewed (the clock must
// be fixed first), missing keys/buckets/uploads, failed preconditions and ranges, part rules, object_changed,
// cancellation (engine_errc::cancelled, asio operation_aborted), our own invalid_argument, source and sink
// failures, TLS handshake and certificate failures, DNS host_not_found, Beast's size limits, and success.
bool is_retryable(const error_info& e);

// The largest delay before retry number `retry_number` (1 = the retry after the first failed attempt):
// min(cfg.max_delay, cfg.base_delay * 2^(retry_number - 1)), never overflowing. retry_number < 1 counts as 1;
// negative durations in cfg count as 0.
std::chrono::milliseconds backoff_ceiling(int retry_number, const retry_config& cfg);

// "Full jitter" exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015): a delay
// drawn uniformly from [0, backoff_ceiling(retry_number, cfg)], so clients that failed together do not retry
// together. The draw comes from the caller's random_bits (all 64 of them are used; random_bits 0 gives 0 and
// ~0 gives the ceiling), which keeps this function deterministic.
std::chrono::milliseconds backoff_delay(int retry_number, const retry_config& cfg, std::uint64_t random_bits);

}  // namespace cachestep::engine::detail
