#include "sts.hpp"

#include <cachestep/engine/http_call.hpp>

#include <pugixml.hpp>

#include <chrono>

namespace cachestep::app::credentials {
namespace {

constexpr std::string_view sts_api_version = "2011-06-15";

void add_param(std::string& body, std::string_view name, std::string_view value)
{
    if (!body.empty()) body += '&';
    body += name;
    body += '=';
    body += form_encode(value);
}

// The first element of that local name anywhere below node (STS answers carry a default namespace only,
// so names have no prefix).
pugi::xml_node find_element(pugi::xml_node node, const char* name)
{
    return node.find_node([name](pugi::xml_node n) {
        return n.type() == pugi::node_element && std::string_view(n.name()) == name;
    });
}

std::string text_of(pugi::xml_node parent, const char* name)
{
    return parent.child(name).text().as_string();
}

engine::s3_errc map_sts_code(std::string_view code)
{
    using engine::s3_errc;
    if (code == "AccessDenied" || code == "AccessDeniedException") return s3_errc::access_denied;
    if (code == "ExpiredToken" || code == "ExpiredTokenException") return s3_errc::expired_token;
    if (code == "InvalidIdentityToken" || code == "IDPRejectedClaim" || code == "InvalidToken")
        return s3_errc::invalid_token;
    if (code == "InvalidClientTokenId") return s3_errc::invalid_access_key_id;
    if (code == "SignatureDoesNotMatch") return s3_errc::signature_does_not_match;
    if (code == "InternalFailure" || code == "InternalError") return s3_errc::internal_error;
    if (code == "ServiceUnavailable") return s3_errc::service_unavailable;
    if (code == "InvalidParameterValue" || code == "ValidationError" || code == "MalformedPolicyDocument")
        return s3_errc::invalid_argument;
    return s3_errc::unknown;
}

result<resolved_credentials> call_sts(const sts_settings& settings, std::string body, std::string operation,
                                      std::optional<engine::http_call_signing> signing, std::string source)
{
    engine::http_call_request request;
    request.method = "POST";
    request.url = sts_endpoint_url(settings);
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    request.headers.emplace_back("Accept", "text/xml");
    request.body = std::move(body);
    request.signing = std::move(signing);
    request.operation = operation;
    engine::http_call_options options;
    options.tls = settings.tls;
    options.retry = settings.retry;
    options.timeouts = settings.timeouts;
    auto reply = engine::http_call_blocking(request, options);
    if (!reply) return reply.error();
    auto parsed = parse_sts_response(reply->status, reply->body, reply->header("x-amzn-RequestId"), operation,
                                     std::move(source));
    if (!parsed) {
        auto e = parsed.error();
        e.attempts = reply->attempts;
        return e;
    }
    return parsed;
}

}  // namespace

std::string default_session_name()
{
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    return "cache-step-" + std::to_string(now.time_since_epoch().count());
}

std::string sts_endpoint_url(const sts_settings& settings)
{
    if (!settings.endpoint.empty()) return settings.endpoint;
    const std::string region = settings.region.empty() ? "us-east-1" : settings.region;
    const bool china = region.rfind("cn-", 0) == 0;
    return "https://sts." + region + (china ? ".amazonaws.com.cn/" : ".amazonaws.com/");
}

std::string form_encode(std::string_view value)
{
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(value.size());
    for (const char ch : value) {
        const auto c = static_cast<unsigned char>(ch);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
            c == '.' || c == '~') {
            out += ch;
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string assume_role_body(const assume_role_request& r)
{
    std::string body;
    add_param(body, "Action", "AssumeRole");
    add_param(body, "Version", sts_api_version);
    add_param(body, "RoleArn", r.role_arn);
    add_param(body, "RoleSessionName", r.session_name.empty() ? default_session_name() : r.session_name);
    if (!r.external_id.empty()) add_param(body, "ExternalId", r.external_id);
    if (r.duration_seconds > 0) add_param(body, "DurationSeconds", std::to_string(r.duration_seconds));
    return body;
}

std::string web_identity_body(const web_identity_request& r)
{
    std::string body;
    add_param(body, "Action", "AssumeRoleWithWebIdentity");
    add_param(body, "Version", sts_api_version);
    add_param(body, "RoleArn", r.role_arn);
    add_param(body, "RoleSessionName", r.session_name.empty() ? default_session_name() : r.session_name);
    add_param(body, "WebIdentityToken", r.token);
    if (r.duration_seconds > 0) add_param(body, "DurationSeconds", std::to_string(r.duration_seconds));
    return body;
}

result<resolved_credentials> parse_sts_response(unsigned http_status, std::string_view body,
                                                std::string_view request_id_header, std::string_view operation,
                                                std::string source)
{
    const auto fail = [&](boost::system::error_code ec, std::string message) {
        error_info e(ec, std::move(message));
        e.http_status = http_status;
        e.operation = std::string(operation);
        e.request_id = std::string(request_id_header);
        return e;
    };
    pugi::xml_document doc;
    const bool parsed = doc.load_buffer(body.data(), body.size()).status == pugi::status_ok;
    const bool success = http_status >= 200 && http_status < 300;

    if (parsed) {
        if (auto error = find_element(doc, "Error"); error && (!success || doc.child("ErrorResponse"))) {
            const std::string code = text_of(error, "Code");
            auto e = fail(map_sts_code(code), text_of(error, "Message"));
            e.s3_code = code;
            if (e.request_id.empty()) e.request_id = find_element(doc, "RequestId").text().as_string();
            if (e.message.empty()) e.message = "STS refused the request";
            return e;
        }
    }
    if (!success) {
        return fail(http_status == 403 ? make_error_code(engine::s3_errc::access_denied)
                                       : make_error_code(engine::engine_errc::bad_response),
                    "STS answered HTTP " + std::to_string(http_status) + " without an <ErrorResponse>");
    }
    if (!parsed) return fail(engine::engine_errc::bad_response, "STS answered with a body that is not XML");
    const auto creds = find_element(doc, "Credentials");
    if (!creds) return fail(engine::engine_errc::bad_response, "STS answer without <Credentials>");
    resolved_credentials out;
    out.credentials.access_key_id = text_of(creds, "AccessKeyId");
    out.credentials.secret_access_key = text_of(creds, "SecretAccessKey");
    out.credentials.session_token = text_of(creds, "SessionToken");
    if (out.credentials.access_key_id.empty() || out.credentials.secret_access_key.empty() ||
        out.credentials.session_token.empty())
        return fail(engine::engine_errc::bad_response,
                    "STS answer without AccessKeyId, SecretAccessKey or SessionToken in <Credentials>");
    const std::string expiration = text_of(creds, "Expiration");
    if (!expiration.empty()) {
        out.expiration = parse_iso8601_utc(expiration);
        if (!out.expiration)
            return fail(engine::engine_errc::bad_response, "STS answer with an unreadable Expiration \"" + expiration + "\"");
    }
    out.source = std::move(source);
    return out;
}

result<resolved_credentials> assume_role(const sts_settings& settings, const sigv4::credentials& base,
                                         const assume_role_request& request)
{
    if (request.role_arn.empty())
        return error_info(engine::engine_errc::invalid_argument, "AssumeRole needs a role ARN");
    engine::http_call_signing signing;
    signing.credentials = base;
    signing.region = settings.region.empty() ? "us-east-1" : settings.region;
    signing.service = "sts";
    return call_sts(settings, assume_role_body(request), "STS AssumeRole " + request.role_arn, std::move(signing),
                    "assume role " + request.role_arn);
}

result<resolved_credentials> assume_role_with_web_identity(const sts_settings& settings,
                                                           const web_identity_request& request)
{
    if (request.role_arn.empty())
        return error_info(engine::engine_errc::invalid_argument, "AssumeRoleWithWebIdentity needs a role ARN");
    if (request.token.empty())
        return error_info(engine::engine_errc::invalid_argument, "AssumeRoleWithWebIdentity needs a token");
    return call_sts(settings, web_identity_body(request), "STS AssumeRoleWithWebIdentity " + request.role_arn,
                    std::nullopt, "web identity " + request.role_arn);
}

}  // namespace cachestep::app::credentials
