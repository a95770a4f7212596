#include "s3_error_map.hpp"

#include "s3_xml.hpp"

#include <algorithm>
#include <cctype>
#include <utility>

namespace cachestep::engine::detail {
namespace {

struct code_entry {
    std::string_view code;
    s3_errc value;
};

// AWS S3 API reference, "Error responses", for the codes the engine acts on.
constexpr code_entry known_codes[] = {
    {"AccessDenied", s3_errc::access_denied},
    {"InvalidAccessKeyId", s3_errc::invalid_access_key_id},
    {"SignatureDoesNotMatch", s3_errc::signature_does_not_match},
    {"ExpiredToken", s3_errc::expired_token},
    {"InvalidToken", s3_errc::invalid_token},
    {"RequestTimeTooSkewed", s3_errc::request_time_too_skewed},
    {"NoSuchBucket", s3_errc::no_such_bucket},
    {"NoSuchKey", s3_errc::no_such_key},
    {"NoSuchUpload", s3_errc::no_such_upload},
    {"PreconditionFailed", s3_errc::precondition_failed},
    {"InvalidRange", s3_errc::invalid_range},
    {"EntityTooSmall", s3_errc::entity_too_small},
    {"EntityTooLarge", s3_errc::entity_too_large},
    {"InvalidPart", s3_errc::invalid_part},
    {"InvalidPartOrder", s3_errc::invalid_part_order},
    {"BadDigest", s3_errc::bad_digest},
    {"XAmzContentSHA256Mismatch", s3_errc::bad_digest},
    {"InvalidDigest", s3_errc::invalid_digest},
    {"InvalidArgument", s3_errc::invalid_argument},
    {"InvalidRequest", s3_errc::invalid_request},
    {"MalformedXML", s3_errc::malformed_xml},
    {"MethodNotAllowed", s3_errc::method_not_allowed},
    {"NotImplemented", s3_errc::not_implemented},
    {"SlowDown", s3_errc::slow_down},
    {"RequestTimeout", s3_errc::request_timeout},
    {"InternalError", s3_errc::internal_error},
    {"ServiceUnavailable", s3_errc::service_unavailable},
};

// The <title> of an HTML error page, which names what answered ("502 Bad Gateway", a proxy's block page):
// printable ASCII only, white space collapsed, bounded.
std::string html_title(std::string_view body)
{
    constexpr std::size_t scan_limit = 4096, title_limit = 100;
    std::string head(body.substr(0, scan_limit));
    std::transform(head.begin(), head.end(), head.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    const auto open = head.find("<title");
    const auto start = open == std::string::npos ? open : head.find('>', open);
    const auto end = start == std::string::npos ? start : head.find("</title", start);
    if (end == std::string::npos) return {};
    std::string title;
    for (const char c : body.substr(start + 1, end - start - 1)) {
        const bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
        if (space) {
            if (!title.empty() && title.back() != ' ') title += ' ';
        } else if (c > 0x20 && c < 0x7f && title.size() < title_limit) {
            title += c;
        }
    }
    while (!title.empty() && title.back() == ' ') title.pop_back();
    return title;
}

}  // namespace

s3_errc s3_errc_from_code(std::string_view code)
{
    for (const code_entry& entry : known_codes)
        if (entry.code == code) return entry.value;
    return s3_errc::unknown;
}

s3_errc s3_errc_from_status(unsigned http_status)
{
    switch (http_status) {
    case 403: return s3_errc::access_denied;
    case 404: return s3_errc::no_such_key;
    case 405: return s3_errc::method_not_allowed;
    case 412: return s3_errc::precondition_failed;
    case 416: return s3_errc::invalid_range;
    case 500: return s3_errc::internal_error;
    case 501: return s3_errc::not_implemented;
    case 502: return s3_errc::bad_gateway;
    case 503: return s3_errc::service_unavailable;
    case 504: return s3_errc::gateway_timeout;
    default: return s3_errc::unknown;
    }
}

error_info error_from_response(unsigned http_status, std::string_view request_id_header, std::string_view body,
                               std::string operation)
{
    error_info e;
    e.http_status = http_status;
    e.operation = std::move(operation);
    e.request_id = std::string(request_id_header);
    if (auto parsed = parse_error_body(body)) {
        e.code = parsed->code.empty() ? s3_errc_from_status(http_status) : s3_errc_from_code(parsed->code);
        e.s3_code = std::move(parsed->code);
        e.message = std::move(parsed->message);
        if (!parsed->request_id.empty()) e.request_id = std::move(parsed->request_id);
        return e;
    }
    e.code = s3_errc_from_status(http_status);
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return e;
    const std::string title = html_title(body);
    e.message = title.empty() ? "the " + std::to_string(body.size()) + "-byte body is not an S3 error document"
                              : "not an S3 error document: \"" + title + "\"";
    return e;
}

}  // namespace cachestep::engine::detail
