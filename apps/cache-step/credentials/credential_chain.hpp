#pragma once
// cache-step's AWS credential provider chain: which credentials a command signs with, and the region.
// (The engine only reads AWS_ACCESS_KEY_ID & co, engine/environment.hpp; everything else is here.)
//
// Order, the first provider that yields credentials wins:
//   1. explicit       chain_options::explicit_credentials: flags, or PLUGIN_ACCESS_KEY + PLUGIN_SECRET_KEY
//   2. environment    AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN)
//   3. web identity   AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) through STS
//                     AssumeRoleWithWebIdentity (EKS IRSA, GitHub/GitLab OIDC set these)
//   4. profile        AWS_PROFILE (else AWS_DEFAULT_PROFILE, else "default") from ~/.aws/credentials and
//                     ~/.aws/config (shared_config.hpp): static keys; role_arn + web_identity_token_file;
//                     role_arn + source_profile (AssumeRole with the source profile's credentials; source
//                     profiles may chain, a cycle is an error); role_arn + credential_source (Environment or
//                     Ec2InstanceMetadata); with role_session_name, external_id, duration_seconds
//   5. instance role  EC2 instance metadata, IMDSv2 (instance_metadata.hpp), unless AWS_EC2_METADATA_DISABLED
// Then, when chain_options::assume_role_arn is set (PLUGIN_ASSUME_ROLE_ARN), STS AssumeRole with what the chain
// found (session name, external id, duration from the options); the result's source says both steps.
// With chain_options::oidc_token (PLUGIN_OIDC_TOKEN_ID: the token itself) the chain is skipped: the token and
// assume_role_arn go to AssumeRoleWithWebIdentity directly (the Harness/Drone plugin's OIDC mode).
//
// A provider that is configured wrongly stops the chain with its error rather than falling through to the
// next one (AWS CLI behaviour, and what a user wants: "AWS_WEB_IDENTITY_TOKEN_FILE /x: no such file", not
// credentials from somewhere else): half of a key pair (in flags, environment or profile); AWS_PROFILE naming
// a profile that does not exist; an unparseable shared file; a token file that cannot be read; an STS refusal.
// A provider that is simply not configured (no variables, no profile, no instance role) passes. When nothing
// yields credentials, the error lists what was tried.
//
// STS endpoint: chain_options::sts_endpoint, else AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (the AWS
// service-specific endpoint convention; MinIO and moto serve STS on their S3 endpoint), else
// https://sts.<region>.amazonaws.com. Region: resolve_region() below.
//
// Every message names files, variables, profiles and role ARNs, never a secret key, session token or OIDC
// token. resolved_credentials::source is safe to log.

#include "resolved_credentials.hpp"

#include <cachestep/engine/config.hpp>

#include <optional>
#include <string>

namespace cachestep::app::credentials {

struct chain_options {
    std::optional<sigv4::credentials> explicit_credentials;  // both keys set, or both empty = not given
    std::string explicit_source{"flags"};                    // how the log names them, e.g. "PLUGIN_ACCESS_KEY"

    std::string assume_role_arn;  // AssumeRole after the chain, or the role for oidc_token
    std::string session_name;     // "" = "cache-step-<unix time>"
    std::string external_id;
    int duration_seconds{0};      // 0 = STS's default (1 h)
    std::string oidc_token;       // an OIDC token value: AssumeRoleWithWebIdentity with assume_role_arn

    std::string region;        // flag; "" = resolve_region()'s order
    std::string sts_endpoint;  // flag; "" = the order above
    engine::tls_config tls;    // for STS (IMDS is plain HTTP on a link-local address)

    getenv_function getenv;    // unset = the process environment
};

result<resolved_credentials> resolve_credentials(const chain_options& options);

// flag, AWS_REGION, AWS_DEFAULT_REGION, the profile's region (config file, AWS_PROFILE's profile), us-east-1.
// Fails only on an unreadable or unparseable shared file.
result<std::string> resolve_region(const std::string& flag, const getenv_function& getenv);

}  // namespace cachestep::app::credentials
