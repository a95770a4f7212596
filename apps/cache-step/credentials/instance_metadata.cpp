#include "instance_metadata.hpp"

#include <cachestep/engine/http_call.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <cctype>

namespace cachestep::app::credentials {
namespace {

constexpr std::string_view token_ttl_seconds = "21600";  // six hours, the SDKs' value
constexpr std::string_view credentials_path = "/latest/meta-data/iam/security-credentials/";

engine::http_call_options imds_options()
{
    engine::http_call_options o;
    o.timeouts.connect = std::chrono::milliseconds{1'000};
    o.timeouts.request = std::chrono::milliseconds{2'000};
    o.timeouts.stall = std::chrono::milliseconds{2'000};
    o.retry.max_attempts = 2;
    o.retry.base_delay = std::chrono::milliseconds{100};
    o.retry.max_delay = std::chrono::milliseconds{500};
    o.body_limit = 64 * 1024;
    return o;
}

error_info imds_error(unsigned status, std::string operation, std::string message)
{
    error_info e(status == 401 || status == 403 ? make_error_code(engine::s3_errc::access_denied)
                 : status == 404                ? make_error_code(engine::s3_errc::unknown)
                                                : make_error_code(engine::engine_errc::bad_response),
                 std::move(message));
    e.http_status = status;
    e.operation = std::move(operation);
    return e;
}

std::string trim_copy(std::string_view s)
{
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

// The role name: the first line of the listing, without a trailing '/'. Refuses anything that could step
// out of the path (the name goes into the next URL).
bool valid_role_name(std::string_view role)
{
    if (role.empty() || role.size() > 128) return false;
    for (const char c : role) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '+' || c == '=' || c == ',' || c == '.' || c == '@' || c == '_' || c == '-';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

std::string instance_metadata_endpoint(const getenv_function& getenv)
{
    std::string endpoint = env_value(getenv, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    if (endpoint.empty()) {
        std::string mode = env_value(getenv, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
        for (auto& c : mode) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        endpoint = mode == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
    }
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    return endpoint;
}

bool instance_metadata_disabled(const getenv_function& getenv)
{
    std::string v = env_value(getenv, "AWS_EC2_METADATA_DISABLED");
    for (auto& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return v == "true";
}

result<resolved_credentials> parse_instance_credentials(std::string_view json, std::string_view role)
{
    const std::string operation = "IMDS credentials of role " + std::string(role);
    boost::system::error_code ec;
    const auto doc = boost::json::parse(json, ec);
    if (ec || !doc.is_object()) return imds_error(200, operation, "the instance metadata service answered with a document that is not a JSON object");
    const auto& o = doc.as_object();
    const auto field = [&](const char* name) -> std::string {
        const auto* v = o.if_contains(name);
        return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (const auto code = field("Code"); !code.empty() && code != "Success")
        return imds_error(200, operation, "the instance metadata service reports Code \"" + code + "\"");
    resolved_credentials out;
    out.credentials.access_key_id = field("AccessKeyId");
    out.credentials.secret_access_key = field("SecretAccessKey");
    out.credentials.session_token = field("Token");
    if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty())
        return imds_error(200, operation, "the instance metadata service's document lacks AccessKeyId or SecretAccessKey");
    if (const auto expiration = field("Expiration"); !expiration.empty()) {
        out.expiration = parse_iso8601_utc(expiration);
        if (!out.expiration)
            return imds_error(200, operation, "unreadable Expiration \"" + expiration + "\" from the instance metadata service");
    }
    out.source = "instance role " + std::string(role);
    return out;
}

result<resolved_credentials> fetch_instance_credentials(const std::string& endpoint)
{
    const auto options = imds_options();

    engine::http_call_request token_request;
    token_request.method = "PUT";
    token_request.url = endpoint + "/latest/api/token";
    token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", std::string(token_ttl_seconds));
    token_request.operation = "IMDSv2 token from " + endpoint;
    auto token_reply = engine::http_call_blocking(token_request, options);
    if (!token_reply) return token_reply.error();
    if (token_reply->status != 200)
        return imds_error(token_reply->status, token_request.operation,
                          "the instance metadata service refused a session token (HTTP " +
                              std::to_string(token_reply->status) + ")");
    const std::string token = trim_copy(token_reply->body);
    if (token.empty()) return imds_error(200, token_request.operation, "empty IMDSv2 session token");

    engine::http_call_request role_request;
    role_request.url = endpoint + std::string(credentials_path);
    role_request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    role_request.operation = "IMDS instance role from " + endpoint;
    auto role_reply = engine::http_call_blocking(role_request, options);
    if (!role_reply) return role_reply.error();
    if (role_reply->status == 404)
        return imds_error(404, role_request.operation, "no IAM role is attached to this instance");
    if (role_reply->status != 200)
        return imds_error(role_reply->status, role_request.operation,
                          "HTTP " + std::to_string(role_reply->status) + " from the instance metadata service");
    std::string_view listing = role_reply->body;
    listing = listing.substr(0, listing.find('\n'));
    std::string role = trim_copy(listing);
    if (!role.empty() && role.back() == '/') role.pop_back();
    if (!valid_role_name(role))
        return imds_error(200, role_request.operation, "the instance metadata service named no valid role");

    engine::http_call_request credentials_request;
    credentials_request.url = role_request.url + role;
    credentials_request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    credentials_request.operation = "IMDS credentials of role " + role;
    auto credentials_reply = engine::http_call_blocking(credentials_request, options);
    if (!credentials_reply) return credentials_reply.error();
    if (credentials_reply->status != 200)
        return imds_error(credentials_reply->status, credentials_request.operation,
                          "HTTP " + std::to_string(credentials_reply->status) + " from the instance metadata service");
    return parse_instance_credentials(credentials_reply->body, role);
}

}  // namespace cachestep::app::credentials
