// Retry decisions and backoff (engine/src/retry_policy.cpp): every error the engine can meet, classified as
// the header promises, and full-jitter delays within their ceilings.
#include "retry_policy.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/system/errc.hpp>
#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdint>
#include <limits>
#include <random>

using namespace cachestep::engine;
using namespace cachestep::engine::detail;
using std::chrono::milliseconds;

namespace {

error_info with_status(boost::system::error_code ec, unsigned status)
{
    error_info e(ec);
    e.http_status = status;
    return e;
}

bool retryable(boost::system::error_code ec)
{
    return is_retryable(error_info(ec));
}

// How asio reports an OpenSSL error: the packed code in asio's ssl category.
boost::system::error_code openssl_error(int reason)
{
    return {static_cast<int>(ERR_PACK(ERR_LIB_SSL, 0, reason)), boost::asio::error::get_ssl_category()};
}

// An error category the policy has never heard of.
class foreign_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "foreign"; }
    std::string message(int) const override { return "foreign"; }
};
const foreign_category foreign;

constexpr std::uint64_t all_ones = std::numeric_limits<std::uint64_t>::max();

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_retry_policy)

BOOST_AUTO_TEST_CASE(transport_failures_are_retried)
{
    namespace aerr = boost::asio::error;
    BOOST_TEST(retryable(aerr::connection_reset));
    BOOST_TEST(retryable(aerr::connection_refused));
    BOOST_TEST(retryable(aerr::connection_aborted));
    BOOST_TEST(retryable(aerr::broken_pipe));
    BOOST_TEST(retryable(aerr::timed_out));
    BOOST_TEST(retryable(aerr::network_unreachable));
    BOOST_TEST(retryable(aerr::host_unreachable));
    BOOST_TEST(retryable(aerr::network_down));
    BOOST_TEST(retryable(aerr::network_reset));
    BOOST_TEST(retryable(aerr::eof));
    BOOST_TEST(retryable(aerr::host_not_found_try_again));
    // The same conditions in the generic category (as std::errc-style code produces them).
    BOOST_TEST(retryable(boost::system::errc::make_error_code(boost::system::errc::connection_reset)));
    BOOST_TEST(retryable(boost::asio::ssl::error::stream_truncated));
    BOOST_TEST(retryable(openssl_error(SSL_R_UNEXPECTED_EOF_WHILE_READING)));
    BOOST_TEST(retryable(boost::beast::error::timeout));
}

BOOST_AUTO_TEST_CASE(beast_http_errors_retried_only_for_cut_or_garbled_responses)
{
    using boost::beast::http::error;
    for (const error e : {error::end_of_stream, error::partial_message, error::short_read, error::bad_line_ending,
                          error::bad_version, error::bad_status, error::bad_reason, error::bad_field,
                          error::bad_value, error::bad_content_length, error::bad_transfer_encoding,
                          error::bad_chunk, error::bad_chunk_extension, error::bad_obs_fold,
                          error::multiple_content_length}) {
        BOOST_TEST(retryable(e), boost::beast::http::make_error_code(e).message());
    }
    for (const error e : {error::header_limit, error::body_limit, error::buffer_overflow, error::bad_alloc,
                          error::need_more, error::need_buffer, error::stale_parser, error::unexpected_body,
                          error::bad_method, error::bad_target, error::end_of_chunk}) {
        BOOST_TEST(!retryable(e), boost::beast::http::make_error_code(e).message());
    }
}

BOOST_AUTO_TEST_CASE(local_and_permanent_transport_errors_are_not_retried)
{
    namespace aerr = boost::asio::error;
    BOOST_TEST(!retryable(aerr::operation_aborted));  // we cancelled it
    BOOST_TEST(!retryable(aerr::host_not_found));     // a wrong endpoint name stays wrong
    BOOST_TEST(!retryable(aerr::no_data));
    BOOST_TEST(!retryable(aerr::service_not_found));
    BOOST_TEST(!retryable(aerr::no_descriptors));  // EMFILE: our problem, not the network's
    BOOST_TEST(!retryable(aerr::access_denied));
    BOOST_TEST(!retryable(aerr::not_found));  // misc category, not eof
    BOOST_TEST(!retryable(openssl_error(SSL_R_CERTIFICATE_VERIFY_FAILED)));
    BOOST_TEST(!retryable(openssl_error(SSL_R_WRONG_VERSION_NUMBER)));  // TLS spoken to a plain HTTP port
    BOOST_TEST(!retryable(boost::asio::ssl::error::unspecified_system_error));
    BOOST_TEST(!retryable(boost::asio::ssl::error::unexpected_result));
    // A 5xx beside a classified transport error does not change it (no response came from the server).
    BOOST_TEST(!is_retryable(with_status(aerr::operation_aborted, 503)));
}

BOOST_AUTO_TEST_CASE(engine_errors)
{
    BOOST_TEST(retryable(engine_errc::timeout));
    BOOST_TEST(retryable(engine_errc::stalled));
    BOOST_TEST(retryable(engine_errc::bad_response));
    for (const engine_errc e : {engine_errc::object_changed, engine_errc::object_too_large, engine_errc::cancelled,
                                engine_errc::invalid_argument, engine_errc::source_failed, engine_errc::sink_failed,
                                engine_errc::retries_exhausted}) {
        BOOST_TEST(!retryable(e), make_error_code(e).message());
        BOOST_TEST(!is_retryable(with_status(e, 503)), make_error_code(e).message());
    }
}

BOOST_AUTO_TEST_CASE(s3_errors)
{
    for (const s3_errc e : {s3_errc::slow_down, s3_errc::request_timeout, s3_errc::internal_error,
                            s3_errc::service_unavailable, s3_errc::bad_gateway, s3_errc::gateway_timeout,
                            s3_errc::bad_digest}) {
        BOOST_TEST(retryable(e), make_error_code(e).message());
    }
    for (const s3_errc e :
         {s3_errc::access_denied, s3_errc::invalid_access_key_id, s3_errc::signature_does_not_match,
          s3_errc::expired_token, s3_errc::invalid_token, s3_errc::request_time_too_skewed, s3_errc::no_such_bucket,
          s3_errc::no_such_key, s3_errc::no_such_upload, s3_errc::precondition_failed, s3_errc::invalid_range,
          s3_errc::entity_too_small, s3_errc::entity_too_large, s3_errc::invalid_part, s3_errc::invalid_part_order,
          s3_errc::invalid_digest, s3_errc::invalid_argument, s3_errc::invalid_request, s3_errc::malformed_xml,
          s3_errc::method_not_allowed, s3_errc::not_implemented}) {
        BOOST_TEST(!retryable(e), make_error_code(e).message());
        // A known code decides even if a proxy reported it with a 5xx status.
        BOOST_TEST(!is_retryable(with_status(e, 500)), make_error_code(e).message());
    }
}

BOOST_AUTO_TEST_CASE(unknown_codes_follow_the_http_status)
{
    for (const unsigned status : {500u, 502u, 503u, 504u}) {
        BOOST_TEST(is_retryable(with_status(s3_errc::unknown, status)), status);
        BOOST_TEST(is_retryable(with_status({7, foreign}, status)), status);
    }
    for (const unsigned status : {0u, 400u, 403u, 404u, 409u, 501u, 505u}) {
        BOOST_TEST(!is_retryable(with_status(s3_errc::unknown, status)), status);
        BOOST_TEST(!is_retryable(with_status({7, foreign}, status)), status);
    }
    BOOST_TEST(!is_retryable(error_info{}));              // success is not a failure to retry
    BOOST_TEST(!is_retryable(with_status({}, 503)));
}

BOOST_AUTO_TEST_CASE(ceiling_doubles_from_base_and_stops_at_max)
{
    const retry_config cfg{.max_attempts = 5, .base_delay = milliseconds{100}, .max_delay = milliseconds{10'000}};
    BOOST_TEST(backoff_ceiling(1, cfg).count() == 100);
    BOOST_TEST(backoff_ceiling(2, cfg).count() == 200);
    BOOST_TEST(backoff_ceiling(3, cfg).count() == 400);
    BOOST_TEST(backoff_ceiling(7, cfg).count() == 6'400);
    BOOST_TEST(backoff_ceiling(8, cfg).count() == 10'000);  // 12,800 capped
    BOOST_TEST(backoff_ceiling(60, cfg).count() == 10'000);
    BOOST_TEST(backoff_ceiling(1'000'000, cfg).count() == 10'000);
    BOOST_TEST(backoff_ceiling(0, cfg).count() == 100);   // counts as 1
    BOOST_TEST(backoff_ceiling(-5, cfg).count() == 100);
    milliseconds previous{0};
    for (int n = 1; n <= 200; ++n) {
        const milliseconds c = backoff_ceiling(n, cfg);
        BOOST_TEST(c >= previous, "retry " << n);
        BOOST_TEST(c <= cfg.max_delay);
        previous = c;
    }
}

BOOST_AUTO_TEST_CASE(ceiling_never_overflows)
{
    // Huge base and cap: base << 62 would overflow 64 bits long before the cap.
    const retry_config huge{.max_attempts = 5,
                            .base_delay = milliseconds{std::numeric_limits<milliseconds::rep>::max() / 3},
                            .max_delay = milliseconds::max()};
    BOOST_TEST(backoff_ceiling(1, huge) == huge.base_delay);
    BOOST_TEST(backoff_ceiling(2, huge).count() == huge.base_delay.count() * 2);
    BOOST_TEST(backoff_ceiling(3, huge) == milliseconds::max());
    BOOST_TEST(backoff_ceiling(64, huge) == milliseconds::max());
    BOOST_TEST(backoff_delay(64, huge, all_ones) == milliseconds::max());
    const retry_config one_ms{.max_attempts = 5, .base_delay = milliseconds{1}, .max_delay = milliseconds::max()};
    BOOST_TEST(backoff_ceiling(63, one_ms).count() == std::int64_t{1} << 62);
    BOOST_TEST(backoff_ceiling(64, one_ms) == milliseconds::max());  // 2^63 ms does not fit: the cap
}

BOOST_AUTO_TEST_CASE(degenerate_configs)
{
    const retry_config zero_base{.max_attempts = 5, .base_delay = milliseconds{0}, .max_delay = milliseconds{500}};
    BOOST_TEST(backoff_ceiling(10, zero_base).count() == 0);
    BOOST_TEST(backoff_delay(10, zero_base, all_ones).count() == 0);
    const retry_config negative{.max_attempts = 5, .base_delay = milliseconds{-100}, .max_delay = milliseconds{-1}};
    BOOST_TEST(backoff_ceiling(3, negative).count() == 0);
    const retry_config cap_below_base{.max_attempts = 5, .base_delay = milliseconds{300},
                                      .max_delay = milliseconds{200}};
    BOOST_TEST(backoff_ceiling(1, cap_below_base).count() == 200);
}

BOOST_AUTO_TEST_CASE(delay_is_drawn_within_zero_and_the_ceiling)
{
    const retry_config cfg{.max_attempts = 5, .base_delay = milliseconds{100}, .max_delay = milliseconds{10'000}};
    std::mt19937_64 rng(2015);
    for (const int n : {1, 2, 5, 8, 60}) {
        const milliseconds ceiling = backoff_ceiling(n, cfg);
        // The extremes of the random bits reach the extremes of the range.
        BOOST_TEST(backoff_delay(n, cfg, 0).count() == 0);
        BOOST_TEST(backoff_delay(n, cfg, all_ones) == ceiling);
        double sum = 0;
        milliseconds lowest = milliseconds::max(), highest{0};
        constexpr int draws = 20'000;
        for (int i = 0; i < draws; ++i) {
            const milliseconds d = backoff_delay(n, cfg, rng());
            BOOST_TEST_REQUIRE(d.count() >= 0);
            BOOST_TEST_REQUIRE(d <= ceiling);
            sum += static_cast<double>(d.count());
            lowest = std::min(lowest, d);
            highest = std::max(highest, d);
        }
        // Uniform over [0, ceiling]: the mean is near ceiling / 2 and the draws reach both ends.
        const double mean = sum / draws;
        const double half = static_cast<double>(ceiling.count()) / 2;
        BOOST_TEST(mean > half * 0.95, "retry " << n << " mean " << mean);
        BOOST_TEST(mean < half * 1.05, "retry " << n << " mean " << mean);
        BOOST_TEST(lowest.count() <= ceiling.count() / 100);
        BOOST_TEST(highest.count() >= ceiling.count() - ceiling.count() / 100);
    }
    // Retry 1 with the defaults: at most the 100 ms base; retry 60: at most the 10 s cap.
    BOOST_TEST(backoff_delay(1, cfg, all_ones / 2).count() == 50);
    BOOST_TEST(backoff_delay(60, cfg, all_ones / 2).count() == 5'000);
}

BOOST_AUTO_TEST_SUITE_END()
