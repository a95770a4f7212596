#include <cachestep/sigv4/canonical.hpp>

#include "ascii.hpp"

#include <algorithm>

namespace cachestep::sigv4 {
namespace {

constexpr char hex_upper[] = "0123456789ABCDEF";

bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_escape_at(std::string_view s, std::size_t i)
{
    return s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0;
}

void append_escape(unsigned char c, std::string& out)
{
    out.push_back('%');
    out.push_back(hex_upper[c >> 4]);
    out.push_back(hex_upper[c & 0xF]);
}

bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

}  // namespace

void uri_encode(std::string_view in, bool keep_slash, std::string& out)
{
    for (const char ch : in) {
        const auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/'))
            out.push_back(ch);
        else
            append_escape(c, out);
    }
}

std::string uri_encode(std::string_view in, bool keep_slash)
{
    std::string out;
    out.reserve(in.size() + in.size() / 2);
    uri_encode(in, keep_slash, out);
    return out;
}

std::string percent_decode(std::string_view in)
{
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (is_escape_at(in, i)) {
            out.push_back(static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2])));
            i += 2;
        } else {
            out.push_back(in[i]);
        }
    }
    return out;
}

std::string normalize_path(std::string_view path)
{
    std::vector<std::string_view> segments;
    bool trailing_slash = false;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        const std::size_t end = std::min(path.find('/', pos), path.size());
        const std::string_view seg = path.substr(pos, end - pos);
        const bool last = end == path.size();
        if (seg == "..") {
            if (!segments.empty()) segments.pop_back();
            trailing_slash = true;  // "/a/b/.." names the directory "/a/"
        } else if (seg == ".") {
            trailing_slash = true;
        } else if (!seg.empty()) {
            segments.push_back(seg);
            trailing_slash = false;
        } else if (last) {
            trailing_slash = !segments.empty();  // the path ended with '/'
        }
        pos = end + 1;
    }
    std::string out;
    for (const auto seg : segments) {
        out.push_back('/');
        out.append(seg);
    }
    if (out.empty() || trailing_slash) out.push_back('/');
    return out;
}

std::string canonical_path(std::string_view wire_path, canonical_rules rules)
{
    const std::string path = rules.normalize_path ? normalize_path(wire_path) : std::string(wire_path);
    if (path.empty()) return "/";
    if (rules.double_uri_encode) return uri_encode(path, /*keep_slash=*/true);

    // Encode once: an S3 client already encoded the key; escape only what cannot travel raw.
    std::string out;
    out.reserve(path.size());
    for (std::size_t i = 0; i < path.size(); ++i) {
        const auto c = static_cast<unsigned char>(path[i]);
        if (is_unreserved(c) || c == '/' || is_escape_at(path, i))
            out.push_back(path[i]);
        else
            append_escape(c, out);
    }
    return out;
}

std::vector<query_param> parse_query(std::string_view wire_query)
{
    std::vector<query_param> params;
    std::size_t pos = 0;
    while (pos <= wire_query.size()) {
        const std::size_t end = std::min(wire_query.find('&', pos), wire_query.size());
        const std::string_view piece = wire_query.substr(pos, end - pos);
        if (!piece.empty()) {
            const std::size_t eq = piece.find('=');
            if (eq == std::string_view::npos)
                params.push_back({percent_decode(piece), {}});
            else
                params.push_back({percent_decode(piece.substr(0, eq)), percent_decode(piece.substr(eq + 1))});
        }
        pos = end + 1;
    }
    return params;
}

std::string canonical_query(std::vector<query_param> params)
{
    for (auto& p : params) {
        p.name = uri_encode(p.name, false);
        p.value = uri_encode(p.value, false);
    }
    std::sort(params.begin(), params.end(), [](const query_param& a, const query_param& b) {
        return a.name != b.name ? a.name < b.name : a.value < b.value;
    });
    std::string out;
    for (const auto& p : params) {
        if (!out.empty()) out.push_back('&');
        out.append(p.name).append("=").append(p.value);
    }
    return out;
}

bool is_unsigned_header(std::string_view n)
{
    // botocore's list (auth.py SIGNED_HEADERS_BLACKLIST plus the hop-by-hop headers it skips): a proxy may
    // rewrite or drop any of these, which would break a signature that covered them.
    static constexpr std::string_view never_signed[] = {
        "authorization",      "user-agent",          "expect", "x-amzn-trace-id", "connection", "keep-alive",
        "proxy-authenticate", "proxy-authorization", "te",     "trailer",         "transfer-encoding", "upgrade",
    };
    return std::find(std::begin(never_signed), std::end(never_signed), n) != std::end(never_signed);
}

std::string canonical_header_value(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    bool pending_space = false;
    for (const char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

canonical_header_block canonical_headers(std::span<const header_field> headers)
{
    struct entry {
        std::string name;
        std::string value;
        std::size_t order;
    };
    std::vector<entry> entries;
    entries.reserve(headers.size());
    for (std::size_t i = 0; i < headers.size(); ++i) {
        std::string name(headers[i].name);
        std::transform(name.begin(), name.end(), name.begin(), detail::ascii_lower);
        if (is_unsigned_header(name)) continue;
        entries.push_back({std::move(name), canonical_header_value(headers[i].value), i});
    }
    // Sort by name; repeated headers keep the order they were sent in, and are joined with ','.
    std::sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
        return a.name != b.name ? a.name < b.name : a.order < b.order;
    });
    canonical_header_block block;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const bool continues = i > 0 && entries[i].name == entries[i - 1].name;
        if (continues) {
            block.lines.back() = ',';  // replace the '\n' that ended the previous value
        } else {
            if (!block.signed_headers.empty()) block.signed_headers.push_back(';');
            block.signed_headers.append(entries[i].name);
            block.lines.append(entries[i].name).push_back(':');
        }
        block.lines.append(entries[i].value).push_back('\n');
    }
    return block;
}

}  // namespace cachestep::sigv4
