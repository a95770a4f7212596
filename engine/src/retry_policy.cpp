#include "retry_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

namespace cachestep::engine::detail {
namespace {

bool is_server_failure_status(unsigned http_status)
{
    return http_status == 500 || http_status == 502 || http_status == 503 || http_status == 504;
}

bool s3_code_retryable(s3_errc code, unsigned http_status)
{
    switch (code) {
    case s3_errc::slow_down:
    case s3_errc::request_timeout:
    case s3_errc::internal_error:
    case s3_errc::service_unavailable:
    case s3_errc::bad_gateway:
    case s3_errc::gateway_timeout:
    case s3_errc::bad_digest:
        return true;
    case s3_errc::unknown:
        // A <Code> we do not know (or a body-less error): trust the status line.
        return is_server_failure_status(http_status);
    default:
        // Every other known code names a problem with the request, the credentials or the object.
        return false;
    }
}

bool engine_code_retryable(engine_errc code)
{
    return code == engine_errc::timeout || code == engine_errc::stalled || code == engine_errc::bad_response;
}

// errno-style codes (system or generic category), compared as conditions so both categories match.
bool transport_errno_retryable(const boost::system::error_code& ec)
{
    namespace errc = boost::system::errc;
    for (const errc::errc_t transient :
         {errc::connection_reset, errc::connection_refused, errc::connection_aborted, errc::broken_pipe,
          errc::timed_out, errc::network_unreachable, errc::host_unreachable, errc::network_down,
          errc::network_reset}) {
        if (ec == transient) return true;
    }
    return false;  // operation_canceled, too_many_files_open, not_enough_memory, ...: not fixed by a retry
}

bool beast_http_retryable(boost::beast::http::error code)
{
    using boost::beast::http::error;
    switch (code) {
    // The connection ended before or inside the response: typical of a keep-alive connection the server
    // closed while we reused it.
    case error::end_of_stream:
    case error::partial_message:
    case error::short_read:
    // A response that does not parse as HTTP: garbled on the way (a misbehaving proxy), as bad_response.
    case error::bad_line_ending:
    case error::bad_version:
    case error::bad_status:
    case error::bad_reason:
    case error::bad_field:
    case error::bad_value:
    case error::bad_content_length:
    case error::bad_transfer_encoding:
    case error::bad_chunk:
    case error::bad_chunk_extension:
    case error::bad_obs_fold:
    case error::multiple_content_length:
        return true;
    default:
        // Our own size limits (header_limit, body_limit, buffer_overflow) would be hit again; the rest are
        // misuse of the parser.
        return false;
    }
}

// A code of asio's OpenSSL category holds OpenSSL's packed error. OpenSSL 3 reports a peer that closed the TCP
// connection without close_notify as SSL_R_UNEXPECTED_EOF_WHILE_READING, which asio 1.81 passes through
// instead of mapping to stream_truncated; it is the same event. Every other one (certificate verification,
// protocol or cipher mismatch) would fail the same way again.
bool openssl_code_retryable(const boost::system::error_code& ec)
{
    const auto packed = static_cast<unsigned long>(static_cast<unsigned int>(ec.value()));
    return ERR_GET_LIB(packed) == ERR_LIB_SSL && ERR_GET_REASON(packed) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
}

}  // namespace

bool is_retryable(const error_info& e)
{
    const boost::system::error_code& ec = e.code;
    if (!ec) return false;
    const boost::system::error_category& cat = ec.category();
    if (cat == s3_category()) return s3_code_retryable(static_cast<s3_errc>(ec.value()), e.http_status);
    if (cat == engine_category()) return engine_code_retryable(static_cast<engine_errc>(ec.value()));
    if (cat == boost::system::system_category() || cat == boost::system::generic_category()) {
        return transport_errno_retryable(ec);
    }
    if (cat == boost::asio::error::get_misc_category()) return ec == boost::asio::error::eof;
    if (cat == boost::asio::error::get_netdb_category()) {
        return ec == boost::asio::error::host_not_found_try_again;  // EAI_AGAIN: the resolver itself failed
    }
    if (cat == boost::asio::error::get_addrinfo_category()) return false;
    if (cat == boost::asio::ssl::error::get_stream_category()) {
        return ec == boost::asio::ssl::error::stream_truncated;
    }
    if (cat == boost::asio::error::get_ssl_category()) return openssl_code_retryable(ec);
    if (cat == boost::beast::http::make_error_code(boost::beast::http::error::end_of_stream).category()) {
        return beast_http_retryable(static_cast<boost::beast::http::error>(ec.value()));
    }
    if (cat == boost::beast::make_error_code(boost::beast::error::timeout).category()) {
        return ec == boost::beast::error::timeout;
    }
    // A category we do not know: only the HTTP status, if a response came, can tell.
    return is_server_failure_status(e.http_status);
}

std::chrono::milliseconds backoff_ceiling(int retry_number, const retry_config& cfg)
{
    const auto base = static_cast<std::uint64_t>(std::max<std::int64_t>(cfg.base_delay.count(), 0));
    const auto cap = static_cast<std::uint64_t>(std::max<std::int64_t>(cfg.max_delay.count(), 0));
    const int doublings = std::max(retry_number, 1) - 1;
    std::uint64_t ceiling = 0;
    if (base == 0) {
        ceiling = 0;
    } else if (doublings >= 63 || base > (cap >> doublings)) {
        ceiling = cap;  // base * 2^doublings > cap, decided without computing the (possibly overflowing) product
    } else {
        ceiling = base << doublings;  // <= cap
    }
    return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(ceiling)};
}

std::chrono::milliseconds backoff_delay(int retry_number, const retry_config& cfg, std::uint64_t random_bits)
{
    const auto ceiling = static_cast<std::uint64_t>(backoff_ceiling(retry_number, cfg).count());
    // Scale the 64 random bits onto [0, ceiling] with a 128-bit multiply (Lemire's "fast range"): unlike a
    // modulo it uses the high bits, is monotone in random_bits and maps ~0 exactly onto the ceiling.
    // ceiling <= 2^63 - 1, so ceiling + 1 cannot overflow.
    __extension__ typedef unsigned __int128 u128;
    const auto scaled = static_cast<std::uint64_t>((u128{random_bits} * u128{ceiling + 1}) >> 64);
    return std::chrono::milliseconds{static_cast<std::chrono::milliseconds::rep>(scaled)};
}

}  // namespace cachestep::engine::detail
