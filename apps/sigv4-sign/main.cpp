// sigv4-sign CASE_DIR OUT_DIR
//
// Signs the request of a SigV4 test case (aws-c-auth layout: CASE_DIR/context.json, CASE_DIR/request.txt;
// see tests/sigv4/FORMAT.md) with cachestep::sigv4 and writes the canonical request, string to sign,
// signature and signed request, for header and query signing, into OUT_DIR. OUT_DIR "-" prints them instead,
// which is how to debug a SignatureDoesNotMatch: put the failing request in a case, compare with what the
// server says it expected (S3 returns its CanonicalRequest and StringToSign in the error body).
#include "signing_case.hpp"

#include <cstring>
#include <fstream>
#include <iostream>

namespace {

constexpr const char* usage =
    "usage: sigv4-sign CASE_DIR OUT_DIR\n"
    "  Reads CASE_DIR/context.json and CASE_DIR/request.txt (the aws-c-auth SigV4 test-suite layout) and\n"
    "  writes header-/query- canonical-request, string-to-sign, signature and signed-request .txt files\n"
    "  into OUT_DIR (created if missing). OUT_DIR '-' prints them to stdout.\n"
    "  context.json: credentials{access_key_id,secret_access_key,token?}, region, service (\"s3\" selects\n"
    "  the S3 rules), timestamp, expiration_in_seconds, normalize?, sign_body?, omit_session_token?,\n"
    "  double_uri_encode? (default true, false for s3), signed_body_value? (e.g. UNSIGNED-PAYLOAD).\n";

}  // namespace

int main(int argc, char** argv)
{
    namespace fs = std::filesystem;
    using namespace cachestep::sigv4_case;
    if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
        std::cout << usage;
        return 0;
    }
    if (argc != 3) {
        std::cerr << usage;
        return 2;
    }
    try {
        const auto outputs = sign_case(load_case(argv[1]));
        const std::string out_dir = argv[2];
        if (out_dir == "-") {
            for (const auto& name : output_file_names())
                std::cout << "==> " << name << " <==\n" << outputs.at(name) << "\n\n";
            return 0;
        }
        std::error_code ec;
        fs::create_directories(out_dir, ec);
        if (ec) throw case_error("cannot create " + out_dir + ": " + ec.message());
        for (const auto& name : output_file_names()) {
            const fs::path path = fs::path(out_dir) / name;
            std::ofstream f(path, std::ios::binary | std::ios::trunc);
            f << outputs.at(name);
            f.close();
            if (!f) throw case_error("cannot write " + path.string());
        }
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "sigv4-sign: " << e.what() << "\n";
        return 1;
    }
}
