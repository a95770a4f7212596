// Parsing of context.json (with Boost.JSON) and request.txt for SigV4 test cases.
#include "signing_case.hpp"

#include <cachestep/sigv4/time.hpp>

#include <boost/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace cachestep::sigv4_case {
namespace json = boost::json;

namespace {

const json::value& required(const json::object& o, const char* key, const char* where)
{
    const auto* v = o.if_contains(key);
    if (!v) throw case_error(std::string("context.json: missing \"") + where + key + "\"");
    return *v;
}

std::string required_string(const json::object& o, const char* key, const char* where = "")
{
    const auto& v = required(o, key, where);
    if (!v.is_string()) throw case_error(std::string("context.json: \"") + where + key + "\" must be a string");
    return std::string(v.get_string());
}

std::optional<bool> optional_bool(const json::object& o, const char* key)
{
    const auto* v = o.if_contains(key);
    if (!v) return std::nullopt;
    if (!v->is_bool()) throw case_error(std::string("context.json: \"") + key + "\" must be true or false");
    return v->get_bool();
}

std::string read_file(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    if (!in) throw case_error("cannot read " + p.string());
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void reject_unknown_keys(const json::object& o, const std::set<std::string>& known, const char* where)
{
    for (const auto& kv : o) {
        if (!known.count(std::string(kv.key()))) {
            std::string list;
            for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
            throw case_error(std::string("context.json: unknown key \"") + where + std::string(kv.key()) +
                             "\" (known: " + list + ")");
        }
    }
}

}  // namespace

context parse_context(const std::string& json_text)
{
    boost::system::error_code ec;
    const json::value doc = json::parse(json_text, ec);
    if (ec) throw case_error("context.json: not valid JSON: " + ec.message());
    if (!doc.is_object()) throw case_error("context.json: the top level must be an object");
    const auto& root = doc.get_object();
    reject_unknown_keys(root,
                        {"credentials", "region", "service", "timestamp", "expiration_in_seconds", "normalize",
                         "sign_body", "omit_session_token", "double_uri_encode", "signed_body_value"},
                        "");

    context c;
    const auto& cred_value = required(root, "credentials", "");
    if (!cred_value.is_object()) throw case_error("context.json: \"credentials\" must be an object");
    const auto& cred = cred_value.get_object();
    reject_unknown_keys(cred, {"access_key_id", "secret_access_key", "token"}, "credentials.");
    c.creds.access_key_id = required_string(cred, "access_key_id", "credentials.");
    c.creds.secret_access_key = required_string(cred, "secret_access_key", "credentials.");
    if (cred.if_contains("token")) c.creds.session_token = required_string(cred, "token", "credentials.");

    c.region = required_string(root, "region");
    c.service = required_string(root, "service");
    const std::string stamp = required_string(root, "timestamp");
    const auto t = sigv4::parse_iso8601_utc(stamp);
    if (!t) throw case_error("context.json: \"timestamp\" must look like 2015-08-30T12:36:00Z, got \"" + stamp + "\"");
    c.time = *t;

    const auto& exp = required(root, "expiration_in_seconds", "");
    if (!exp.is_int64() && !exp.is_uint64())
        throw case_error("context.json: \"expiration_in_seconds\" must be an integer");
    c.expires = std::chrono::seconds{exp.to_number<std::int64_t>()};

    // S3 signs the path as sent; every other service normalises and double-encodes it.
    c.normalize = optional_bool(root, "normalize").value_or(!c.is_s3());
    c.double_uri_encode = optional_bool(root, "double_uri_encode").value_or(!c.is_s3());
    c.sign_body = optional_bool(root, "sign_body").value_or(false);
    c.omit_session_token = optional_bool(root, "omit_session_token").value_or(false);
    if (root.if_contains("signed_body_value")) c.signed_body_value = required_string(root, "signed_body_value");
    return c;
}

http_request parse_request(const std::string& request_text)
{
    std::string text;
    text.reserve(request_text.size());
    for (const char ch : request_text)
        if (ch != '\r') text.push_back(ch);  // the suite is read with '\n' line ends, as aws-c-auth does

    http_request r;
    std::string head = text;
    if (const auto blank = text.find("\n\n"); blank != std::string::npos) {
        head = text.substr(0, blank);
        r.body = text.substr(blank + 2);
        r.has_body = true;
    } else if (!head.empty() && head.back() == '\n') {
        head.pop_back();
    }

    std::istringstream lines(head);
    std::string line;
    if (!std::getline(lines, line) || line.empty()) throw case_error("request.txt: empty, expected a request line");
    r.request_line = line;
    // The target may contain spaces ("/example space/"): the method ends at the first space, the version
    // starts after the last.
    const auto first = line.find(' ');
    const auto last = line.rfind(' ');
    if (first == std::string::npos || first == last || line.compare(last + 1, 5, "HTTP/") != 0)
        throw case_error("request.txt: the first line must be \"METHOD TARGET HTTP/1.1\", got \"" + line + "\"");
    r.method = line.substr(0, first);
    r.target = line.substr(first + 1, last - first - 1);
    if (r.target.empty() || r.target.front() != '/')
        throw case_error("request.txt: the target must start with '/', got \"" + r.target + "\"");

    int number = 1;
    while (std::getline(lines, line)) {
        ++number;
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (r.headers.empty())
                throw case_error("request.txt line " + std::to_string(number) + ": continuation line before any header");
            auto& h = r.headers.back();
            const auto start = line.find_first_not_of(" \t");
            if (start != std::string::npos) h.value += " " + line.substr(start);
            h.raw_lines.push_back(line);
            continue;
        }
        const auto colon = line.find(':');
        if (colon == std::string::npos || colon == 0)
            throw case_error("request.txt line " + std::to_string(number) + ": expected \"Name:value\", got \"" +
                             line + "\"");
        r.headers.push_back({line.substr(0, colon), line.substr(colon + 1), {line}});
    }
    return r;
}

signing_case load_case(const std::filesystem::path& case_dir)
{
    if (!std::filesystem::is_directory(case_dir)) throw case_error("not a directory: " + case_dir.string());
    signing_case c;
    try {
        c.ctx = parse_context(read_file(case_dir / "context.json"));
        c.request = parse_request(read_file(case_dir / "request.txt"));
    } catch (const case_error& e) {
        throw case_error(case_dir.string() + ": " + e.what());
    }
    return c;
}

}  // namespace cachestep::sigv4_case
