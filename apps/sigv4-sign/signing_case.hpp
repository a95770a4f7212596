#pragma once
// A SigV4 test case in the aws-c-auth layout (context.json + request.txt), parsed, and the eight files the
// suite expects, computed. Shared by the sigv4-sign tool and the tests. Format: tests/sigv4/FORMAT.md.

#include <cachestep/sigv4/credentials.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace cachestep::sigv4_case {

// A malformed case: the message names the file and what is wrong.
class case_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct context {
    sigv4::credentials creds;
    std::string region;
    std::string service;
    std::chrono::sys_seconds time{};
    std::chrono::seconds expires{};
    bool normalize{true};
    bool sign_body{false};
    bool omit_session_token{false};
    bool double_uri_encode{true};
    std::optional<std::string> signed_body_value;

    bool is_s3() const { return service == "s3"; }
};

struct parsed_header {
    std::string name;
    std::string value;                    // continuation lines joined with one space
    std::vector<std::string> raw_lines;   // as written, for the signed-request files
};

struct http_request {
    std::string request_line;  // "GET /path?q HTTP/1.1"
    std::string method;
    std::string target;        // path and query as on the wire
    std::vector<parsed_header> headers;
    std::string body;
    bool has_body{false};      // an empty line followed the headers
};

context parse_context(const std::string& json_text);
http_request parse_request(const std::string& request_text);

// Reads CASE_DIR/context.json and CASE_DIR/request.txt.
struct signing_case {
    context ctx;
    http_request request;
};
signing_case load_case(const std::filesystem::path& case_dir);

// File name (e.g. "header-signature.txt") -> exact contents.
using case_outputs = std::map<std::string, std::string>;
case_outputs sign_case(const signing_case& c);

// The eight output file names, in a fixed order.
const std::vector<std::string>& output_file_names();

}  // namespace cachestep::sigv4_case
