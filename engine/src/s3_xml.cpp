#include "s3_xml.hpp"

#include "s3_error_map.hpp"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <utility>

namespace cachestep::engine::detail {
namespace {

// pugixml is safe to point at hostile bytes: it has no DTD processing, so it never fetches or expands an
// external or custom entity (an unknown &name; stays literal text), and it parses and frees without
// recursion, so nesting depth cannot exhaust the stack. What it does not bound is the DOM size, which
// check_body bounds. parse_doctype only makes a DOCTYPE visible so that it can be refused;
// parse_ws_pcdata_single keeps <Key> </Key> as a key of one space instead of dropping it; parse_fragment
// keeps text beside the root element visible (pugixml would silently drop it) so that it can be refused.
constexpr unsigned parse_options = pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol |
                                   pugi::parse_ws_pcdata_single | pugi::parse_doctype | pugi::parse_fragment;

error_info bad_response(std::string what)
{
    return {engine_errc::bad_response, std::move(what)};
}

// A server's text in our own messages: bounded, and printable so that it cannot forge log lines.
std::string excerpt(std::string_view text)
{
    constexpr std::size_t limit = 64;
    std::size_t cut = std::min(limit, text.size());
    while (cut < text.size() && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80)
        --cut;  // not inside a UTF-8 sequence
    std::string out;
    for (const char c : text.substr(0, cut)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7f) {
            out += c;
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", u);
            out += buf;
        }
    }
    if (cut < text.size()) out += "...";
    return out;
}

std::string_view trim_xml_space(std::string_view s)
{
    const auto first = s.find_first_not_of(" \t\n\r");
    return first == std::string_view::npos ? std::string_view{} : s.substr(first, s.find_last_not_of(" \t\n\r") - first + 1);
}

// XML 1.0's Char production (section 2.2).
bool is_xml_char(std::uint32_t c)
{
    return c == 0x9 || c == 0xa || c == 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) ||
           (c >= 0x10000 && c <= 0x10ffff);
}

// What pugixml accepts but XML 1.0 does not, and which would reach us as garbage: raw control bytes, and
// character references to non-characters (&#0; would even cut a string short, pugixml's strings being
// NUL-terminated). Also the bound on markup.
std::optional<std::string> check_body(std::string_view body)
{
    std::size_t markup = 0;
    for (std::size_t i = 0; i < body.size(); ++i) {
        const auto c = static_cast<unsigned char>(body[i]);
        if (c < 0x20 && !is_xml_char(c)) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "0x%02x", c);
            return std::string("control character ") + buf + " at byte " + std::to_string(i);
        }
        if (c == '<' && ++markup > max_xml_markup)
            return "more than " + std::to_string(max_xml_markup) + " elements";
        if (c == '&' && body.substr(i, 2) == "&#") {
            const bool hex = body.substr(i + 2, 1) == "x";
            const char* first = body.data() + i + (hex ? 3 : 2);
            std::uint32_t value = 0;
            const auto [end, ec] = std::from_chars(first, body.data() + body.size(), value, hex ? 16 : 10);
            const bool is_reference = end != first && end < body.data() + body.size() && *end == ';';
            if (is_reference && (ec != std::errc{} || !is_xml_char(value)))
                return "character reference " + excerpt(std::string_view(body.data() + i, end + 1)) +
                       " is not an XML character";
        }
    }
    return std::nullopt;
}

// The one element of `body`, or why there is none. `what` names the document in messages.
result<pugi::xml_node> load(pugi::xml_document& doc, std::string_view body, const std::string& what)
{
    if (body.size() > max_xml_body_bytes)
        return bad_response(what + ": body of " + std::to_string(body.size()) + " bytes exceeds the " +
                            std::to_string(max_xml_body_bytes) + "-byte limit");
    if (trim_xml_space(body).empty()) return bad_response(what + ": empty body");
    if (auto problem = check_body(body)) return bad_response(what + ": not XML: " + *problem);
    const auto parsed = doc.load_buffer(body.data(), body.size(), parse_options, pugi::encoding_utf8);
    if (!parsed)
        return bad_response(what + ": not well-formed XML (" + parsed.description() + " at byte " +
                            std::to_string(parsed.offset) + ")");
    pugi::xml_node root;
    for (const pugi::xml_node node : doc.children()) {
        switch (node.type()) {
        case pugi::node_element:
            if (root) return bad_response(what + ": more than one root element");
            root = node;
            break;
        case pugi::node_pcdata:
        case pugi::node_cdata: return bad_response(what + ": not XML: text outside the root element");
        case pugi::node_doctype: return bad_response(what + ": a DOCTYPE (S3 never sends one)");
        default: break;  // the XML declaration, comments, processing instructions
        }
    }
    if (!root) return bad_response(what + ": not XML: no element");
    return root;
}

// All the character data directly inside an element: text and CDATA sections, however they are split.
std::string text_of(pugi::xml_node element)
{
    std::string out;
    for (const pugi::xml_node node : element.children())
        if (node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata) out += node.value();
    return out;
}

// application/x-www-form-urlencoded decoding, which is what EncodingType=url means in S3.
std::optional<std::string> form_decode(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out += ' ';
        } else if (s[i] != '%') {
            out += s[i];
        } else {
            unsigned char byte = 0;
            const char* first = s.data() + i + 1;
            if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(first[0])) ||
                !std::isxdigit(static_cast<unsigned char>(first[1])))
                return std::nullopt;
            std::from_chars(first, first + 2, byte, 16);
            out += static_cast<char>(byte);
            i += 2;
        }
    }
    return out;
}

// The fields of one element, read by name. The first problem is kept, so that a parser reads every field
// and checks once; later reads after a problem return empty values.
class fields {
public:
    fields(pugi::xml_node element, std::string where) : element_(element), where_(std::move(where)) {}

    bool failed() const { return error_.has_value(); }
    error_info error() const { return *error_; }

    // The element's text; nullopt when absent. Twice is an error: the document is not what S3 sends.
    std::optional<std::string> find(const char* name)
    {
        pugi::xml_node found;
        for (const pugi::xml_node child : element_.children(name)) {
            if (found) {
                fail(std::string("<") + name + "> appears more than once");
                return std::nullopt;
            }
            found = child;
        }
        if (!found) return std::nullopt;
        return text_of(found);
    }

    std::string optional(const char* name) { return find(name).value_or(std::string{}); }

    // Present and not empty.
    std::string required(const char* name)
    {
        auto value = find(name);
        if (!value) fail(std::string("missing <") + name + ">");
        else if (value->empty()) fail(std::string("<") + name + "> is empty");
        return value.value_or(std::string{});
    }

    // Under EncodingType=url, the value as it was before S3 encoded it.
    std::string decoded(std::string value, bool url_encoded, const char* name)
    {
        if (!url_encoded || failed()) return value;
        auto plain = form_decode(value);
        if (!plain) fail(std::string("<") + name + "> \"" + excerpt(value) + "\" is not valid URL encoding");
        return plain.value_or(std::string{});
    }

    // A required value of another type: `convert` takes the text without XML white space around it.
    template <class T, class Convert>
    T required_as(const char* name, Convert convert, const char* expected)
    {
        const std::string raw = required(name);
        std::optional<T> value = convert(trim_xml_space(raw));
        if (!value && !failed()) fail(std::string("<") + name + "> \"" + excerpt(raw) + "\" is not " + expected);
        return value.value_or(T{});
    }

    std::uint64_t required_uint(const char* name)
    {
        return required_as<std::uint64_t>(name, [](std::string_view digits) -> std::optional<std::uint64_t> {
            std::uint64_t value = 0;
            const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
            if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size()) return std::nullopt;
            return value;
        }, "an unsigned 64-bit number");
    }

    // xs:boolean, which is what S3's schema says IsTruncated is.
    bool required_bool(const char* name)
    {
        return required_as<bool>(name, [](std::string_view v) -> std::optional<bool> {
            if (v == "true" || v == "1") return true;
            if (v == "false" || v == "0") return false;
            return std::nullopt;
        }, "true or false");
    }

    std::chrono::sys_seconds required_time(const char* name)
    {
        return required_as<std::chrono::sys_seconds>(name, parse_iso8601_timestamp, "an ISO 8601 timestamp");
    }

    void fail(std::string what)
    {
        if (!error_) error_ = bad_response(where_ + ": " + what);
    }

private:
    pugi::xml_node element_;
    std::string where_;
    std::optional<error_info> error_;
};

// Loads `body` and checks that its root is `<root_name>`. An <Error> root is the server's error, sent with
// a 2xx status: S3 documents it for CompleteMultipartUpload, CopyObject and UploadPartCopy.
result<pugi::xml_node> load_root(pugi::xml_document& doc, std::string_view body, const char* root_name,
                                 const std::string& what, const char* also_accepted = nullptr)
{
    auto root = load(doc, body, what);
    if (!root) return root;
    const std::string_view name = root->name();
    if (name == root_name || (also_accepted && name == also_accepted)) return root;
    if (name == "Error") return error_from_response(200, {}, body, {});
    return bad_response(what + ": expected <" + root_name + ">, got <" + excerpt(name) + ">");
}

// Reads each <name> child of `parent` with `read(fields&)`, numbering them for messages; the first problem
// ends the walk.
template <class Read>
std::optional<error_info> read_entries(pugi::xml_node parent, const char* name, const std::string& what, Read read)
{
    std::size_t index = 0;
    for (const pugi::xml_node entry : parent.children(name)) {
        fields f(entry, what + ", <" + name + "> #" + std::to_string(++index));
        read(f);
        if (f.failed()) return f.error();
    }
    return std::nullopt;
}

// "true" when the listing's keys are form-encoded; refuses an encoding we could not undo.
std::optional<bool> url_encoded_listing(fields& f)
{
    const auto encoding = f.find("EncodingType");
    if (!encoding) return false;
    if (trim_xml_space(*encoding) == "url") return true;
    f.fail("unknown <EncodingType> \"" + excerpt(*encoding) + "\"");
    return std::nullopt;
}

bool read_digits(std::string_view text, std::size_t pos, std::size_t width, int& out)
{
    if (pos + width > text.size()) return false;
    for (std::size_t i = pos; i < pos + width; ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    std::from_chars(text.data() + pos, text.data() + pos + width, out);
    return true;
}

// <name>text</name>, the text escaped: &, < and > as text content needs (botocore escapes the same), and CR
// as a reference because an XML parser turns a raw CR into LF. Quotes need no escaping outside attributes.
void append_element(std::string& out, std::string_view name, std::string_view text)
{
    out.append("<").append(name).append(">");
    for (const char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '\r': out += "&#13;"; break;
        default: out += c;
        }
    }
    out.append("</").append(name).append(">");
}

// Why `key` cannot travel in an XML 1.0 document, or nullopt when it can. Checks UTF-8 well-formedness
// (shortest form, no surrogates, at most U+10FFFF) and XML's Char production.
std::optional<std::string> xml_unsafe_reason(std::string_view key)
{
    for (std::size_t i = 0; i < key.size();) {
        const auto lead = static_cast<unsigned char>(key[i]);
        const std::size_t len = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xe ? 3
                                                : (lead >> 3) == 0x1e ? 4 : 0;
        if (len == 0 || i + len > key.size()) return "invalid UTF-8 at byte " + std::to_string(i);
        std::uint32_t cp = len == 1 ? lead : lead & (0x7fu >> len);
        for (std::size_t k = 1; k < len; ++k) {
            const auto cont = static_cast<unsigned char>(key[i + k]);
            if ((cont >> 6) != 0x2) return "invalid UTF-8 at byte " + std::to_string(i);
            cp = (cp << 6) | (cont & 0x3fu);
        }
        constexpr std::uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < shortest[len]) return "invalid UTF-8 (overlong) at byte " + std::to_string(i);
        if (cp >= 0xd800 && cp <= 0xdfff) return "invalid UTF-8 (surrogate) at byte " + std::to_string(i);
        if (!is_xml_char(cp)) {
            char buf[16];
            std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
            return std::string("character ") + buf + " at byte " + std::to_string(i) + " is not allowed in XML 1.0";
        }
        i += len;
    }
    return std::nullopt;
}

}  // namespace

std::optional<s3_error_body> parse_error_body(std::string_view body)
{
    pugi::xml_document doc;
    const auto root = load(doc, body, "error body");
    if (!root || std::string_view(root->name()) != "Error") return std::nullopt;
    // First occurrence of each: this is already a failure being reported, so be lenient.
    const auto first = [&](const char* name) { return text_of(root->child(name)); };
    s3_error_body out{.code = first("Code"),
                      .message = first("Message"),
                      .request_id = first("RequestId"),
                      .host_id = first("HostId"),
                      .resource = first("Resource")};
    if (out.request_id.empty()) out.request_id = first("RequestID");  // moto's spelling
    return out;
}

result<std::string> parse_initiate_multipart_upload(std::string_view body)
{
    const std::string what = "CreateMultipartUpload response";
    pugi::xml_document doc;
    auto root = load_root(doc, body, "InitiateMultipartUploadResult", what);
    if (!root) return root.error();
    fields f(*root, what);
    std::string upload_id = f.required("UploadId");
    if (f.failed()) return f.error();
    return upload_id;
}

result<complete_result> parse_complete_multipart_upload(std::string_view body)
{
    const std::string what = "CompleteMultipartUpload response";
    pugi::xml_document doc;
    // moto 5.2 names the root <CompleteMultipartUploadResponse>; the content is the same.
    auto root = load_root(doc, body, "CompleteMultipartUploadResult", what, "CompleteMultipartUploadResponse");
    if (!root) return root.error();
    fields f(*root, what);
    // Ceph RGW 16 answers the first CompleteMultipartUpload with an empty <ETag></ETag> (the ETag shows on a
    // later HEAD; tests/servers/BEHAVIOUR.md): the upload is complete, so an empty ETag is not an error.
    complete_result out{.etag = f.optional("ETag"), .location = f.optional("Location")};
    if (f.failed()) return f.error();
    return out;
}

result<list_objects_page> parse_list_objects_v2(std::string_view body)
{
    const std::string what = "ListObjectsV2 response";
    pugi::xml_document doc;
    auto root = load_root(doc, body, "ListBucketResult", what);
    if (!root) return root.error();
    fields top(*root, what);
    const bool url = url_encoded_listing(top).value_or(false);
    list_objects_page page;
    page.is_truncated = top.required_bool("IsTruncated");
    page.next_continuation_token = top.optional("NextContinuationToken");
    if (page.is_truncated && page.next_continuation_token.empty() && !top.failed())
        top.fail("truncated, but no <NextContinuationToken> to continue from");
    if (top.failed()) return top.error();

    auto problem = read_entries(*root, "Contents", what, [&](fields& f) {
        // Members are initialised in order, so the first missing field is the one reported.
        page.objects.push_back({.key = f.decoded(f.required("Key"), url, "Key"),
                                .size = f.required_uint("Size"),
                                .etag = f.optional("ETag"),
                                .last_modified = f.required_time("LastModified"),
                                .storage_class = f.optional("StorageClass")});
    });
    if (!problem)
        problem = read_entries(*root, "CommonPrefixes", what, [&](fields& f) {
            page.common_prefixes.push_back(f.decoded(f.required("Prefix"), url, "Prefix"));
        });
    if (problem) return *problem;
    return page;
}

result<list_uploads_page> parse_list_multipart_uploads(std::string_view body)
{
    const std::string what = "ListMultipartUploads response";
    pugi::xml_document doc;
    auto root = load_root(doc, body, "ListMultipartUploadsResult", what);
    if (!root) return root.error();
    fields top(*root, what);
    const bool url = url_encoded_listing(top).value_or(false);
    list_uploads_page page;
    page.is_truncated = top.required_bool("IsTruncated");
    page.next_key_marker = top.decoded(top.optional("NextKeyMarker"), url, "NextKeyMarker");
    page.next_upload_id_marker = top.optional("NextUploadIdMarker");
    if (page.is_truncated && page.next_key_marker.empty() && page.next_upload_id_marker.empty() && !top.failed())
        top.fail("truncated, but no <NextKeyMarker> or <NextUploadIdMarker> to continue from");
    if (top.failed()) return top.error();

    const auto problem = read_entries(*root, "Upload", what, [&](fields& f) {
        page.uploads.push_back({.key = f.decoded(f.required("Key"), url, "Key"),
                                .upload_id = f.required("UploadId"),
                                .initiated = f.required_time("Initiated")});
    });
    if (problem) return *problem;
    return page;
}

result<delete_objects_result> parse_delete_objects(std::string_view body)
{
    const std::string what = "DeleteObjects response";
    pugi::xml_document doc;
    auto root = load_root(doc, body, "DeleteResult", what);
    if (!root) return root.error();
    delete_objects_result out;
    auto problem = read_entries(*root, "Deleted", what, [&](fields& f) { out.deleted.push_back(f.required("Key")); });
    if (!problem)
        problem = read_entries(*root, "Error", what, [&](fields& f) {
            std::string key = f.required("Key");
            s3_error_body error;
            error.code = f.required("Code");
            error.message = f.optional("Message");
            out.errors.emplace_back(std::move(key), std::move(error));
        });
    if (problem) return *problem;
    return out;
}

std::optional<std::chrono::sys_seconds> parse_iso8601_timestamp(std::string_view text)
{
    using namespace std::chrono;
    // YYYY-MM-DDTHH:MM:SS, then [.fraction], then Z or +hh:mm / -hh:mm.
    if (text.size() < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') ||
        text[13] != ':' || text[16] != ':')
        return std::nullopt;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
    if (!read_digits(text, 0, 4, y) || !read_digits(text, 5, 2, mo) || !read_digits(text, 8, 2, d) ||
        !read_digits(text, 11, 2, h) || !read_digits(text, 14, 2, mi) || !read_digits(text, 17, 2, s))
        return std::nullopt;
    std::size_t pos = 19;
    if (text[pos] == '.') {
        const std::size_t digits_from = ++pos;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
        if (pos == digits_from) return std::nullopt;
    }
    const std::string_view zone = text.substr(pos);
    minutes offset{0};
    if (zone != "Z" && zone != "z") {
        int oh = 0, om = 0;
        if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || zone[3] != ':' ||
            !read_digits(zone, 1, 2, oh) || !read_digits(zone, 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (zone[0] == '+' ? 1 : -1) * (hours{oh} + minutes{om});
    }
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
    // Local time minus its offset from UTC is UTC.
    return sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} - offset;
}

std::string build_complete_multipart_upload(std::span<const completed_part> parts)
{
    std::string out = "<CompleteMultipartUpload xmlns=\"" + std::string(s3_xmlns) + "\">";
    for (const completed_part& part : parts) {
        out += "<Part><PartNumber>" + std::to_string(part.part_number) + "</PartNumber>";
        append_element(out, "ETag", part.etag);
        if (!part.checksum_crc32c.empty()) append_element(out, "ChecksumCRC32C", part.checksum_crc32c);
        out += "</Part>";
    }
    out += "</CompleteMultipartUpload>";
    return out;
}

result<std::string> build_delete_objects(std::span<const std::string> keys, bool quiet)
{
    constexpr std::size_t max_keys = 1000;  // S3's limit per DeleteObjects request
    if (keys.empty()) return error_info(engine_errc::invalid_argument, "DeleteObjects needs at least one key");
    if (keys.size() > max_keys)
        return error_info(engine_errc::invalid_argument, "DeleteObjects takes at most 1000 keys, got " +
                                                              std::to_string(keys.size()));
    std::string out = "<Delete xmlns=\"" + std::string(s3_xmlns) + "\">";
    if (quiet) out += "<Quiet>true</Quiet>";
    for (const std::string& key : keys) {
        if (key.empty()) return error_info(engine_errc::invalid_argument, "DeleteObjects: an empty key");
        if (auto reason = xml_unsafe_reason(key))
            return error_info(engine_errc::invalid_argument,
                              "DeleteObjects cannot carry key \"" + excerpt(key) + "\": " + *reason);
        out += "<Object>";
        append_element(out, "Key", key);
        out += "</Object>";
    }
    out += "</Delete>";
    return out;
}

}  // namespace cachestep::engine::detail
