#pragma once
// The EC2 instance role's credentials from the instance metadata service, IMDSv2 only:
//   PUT  /latest/api/token                               X-aws-ec2-metadata-token-ttl-seconds: 21600
//   GET  /latest/meta-data/iam/security-credentials/       X-aws-ec2-metadata-token: <token>  -> role name
//   GET  /latest/meta-data/iam/security-credentials/<role>                                  -> JSON
// IMDSv1 (no token) is not used: instances that still allow it allow v2 too, and v1 is the SSRF-prone one.
//
// Endpoint: AWS_EC2_METADATA_SERVICE_ENDPOINT (e.g. http://127.0.0.1:8111 for a stand-in), else
// http://[fd00:ec2::254] when AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, else http://169.254.169.254.
// AWS_EC2_METADATA_DISABLED=true (any case) turns the provider off.
// Short limits (1 s connect, 2 s per request, 2 attempts), like the SDKs, so that a machine that is not on
// EC2 fails over in a few seconds at most; the engine's http_call does the request and retries.

#include "resolved_credentials.hpp"

#include <string>
#include <string_view>

namespace cachestep::app::credentials {

// The metadata service's base URL without a trailing '/'.
std::string instance_metadata_endpoint(const getenv_function& getenv);

bool instance_metadata_disabled(const getenv_function& getenv);

// The JSON document of /latest/meta-data/iam/security-credentials/<role>:
// {"Code":"Success","AccessKeyId":..,"SecretAccessKey":..,"Token":..,"Expiration":"2026-...Z",...}.
// A Code other than "Success", a missing key or unreadable JSON is an error (never quoting the document).
result<resolved_credentials> parse_instance_credentials(std::string_view json, std::string_view role);

// The whole exchange against the endpoint. Source "instance role <role>".
result<resolved_credentials> fetch_instance_credentials(const std::string& endpoint);

}  // namespace cachestep::app::credentials
