#pragma once
// AWS STS through its query API (POST of a form, XML answer, API version 2011-06-15):
// - AssumeRole, signed with SigV4 (service "sts") by the base credentials;
// - AssumeRoleWithWebIdentity, unsigned: the OIDC token is the proof.
// The request goes through engine::http_call (the engine's transport, TLS settings and retry policy).
//
// Endpoint: the caller's (flag or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, see credential_chain.hpp), else the
// regional https://sts.<region>.amazonaws.com (.amazonaws.com.cn for cn-* regions), which every region has
// and which keeps the call inside the region (AWS_STS_REGIONAL_ENDPOINTS=regional, the SDKs' default now).
// The signing region is the resolved region in both cases.
//
// Errors: an <ErrorResponse><Error><Code>/<Message></Error><RequestId> answer becomes an error_info with the
// HTTP status, STS's code and message and the request id; the code maps onto engine::s3_errc where one fits
// (AccessDenied, ExpiredToken(Exception), InvalidIdentityToken, InvalidClientTokenId, SignatureDoesNotMatch),
// else s3_errc::unknown. Tokens and secrets never enter a message.

#include "resolved_credentials.hpp"

#include <cachestep/engine/config.hpp>

#include <string>
#include <string_view>

namespace cachestep::app::credentials {

struct sts_settings {
    std::string endpoint;  // "" = https://sts.<region>.amazonaws.com
    std::string region;    // the signing region; "" = us-east-1
    engine::tls_config tls;
    engine::retry_config retry;
    engine::timeout_config timeouts{std::chrono::milliseconds{10'000}, std::chrono::milliseconds{60'000},
                                    std::chrono::milliseconds{30'000}};
};

struct assume_role_request {
    std::string role_arn;
    std::string session_name;  // "" = default_session_name()
    std::string external_id;   // "" = not sent
    int duration_seconds{0};   // 0 = not sent (STS's default: one hour)
};

struct web_identity_request {
    std::string role_arn;
    std::string session_name;  // "" = default_session_name()
    std::string token;         // the OIDC token itself (a JWT)
    int duration_seconds{0};
};

// "cache-step-<unix seconds>", as botocore names its sessions "botocore-session-<unix seconds>".
std::string default_session_name();

// The endpoint URL the call goes to.
std::string sts_endpoint_url(const sts_settings& settings);

// application/x-www-form-urlencoded: every byte but A-Z a-z 0-9 - _ . ~ as %XX.
std::string form_encode(std::string_view value);

// The form bodies (Action, Version and the parameters, in that order).
std::string assume_role_body(const assume_role_request& request);
std::string web_identity_body(const web_identity_request& request);

// Parses an STS answer: the <Credentials> of a successful AssumeRole(WithWebIdentity) (status 2xx), or the
// error of an <ErrorResponse>. `operation` names the call in errors ("STS AssumeRole arn:..."); `source`
// goes into the result.
result<resolved_credentials> parse_sts_response(unsigned http_status, std::string_view body,
                                                std::string_view request_id_header, std::string_view operation,
                                                std::string source);

result<resolved_credentials> assume_role(const sts_settings& settings, const sigv4::credentials& base,
                                         const assume_role_request& request);
result<resolved_credentials> assume_role_with_web_identity(const sts_settings& settings,
                                                           const web_identity_request& request);

}  // namespace cachestep::app::credentials
