// Signatures per second for an S3 UploadPart request (header signing, UNSIGNED-PAYLOAD, session token),
// the request the engine signs most. Reports the median of several rounds, with the signing key cached
// (the engine's case) and derived afresh each time (a new signer per request).
//
// usage: sigv4_bench [rounds=7] [signatures_per_round=200000]
#include <cachestep/sigv4/signer.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace cachestep::sigv4;
using clock_type = std::chrono::steady_clock;

namespace {

struct fixture {
    credentials creds{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", std::string(300, 'T')};
    std::vector<header_field> headers{{"Host", "my-ci-cache.s3.us-east-1.amazonaws.com"},
                                      {"Content-Length", "8388608"},
                                      {"x-amz-checksum-crc32c", "yZRlqg=="}};
    signing_params params;
    std::string query = "partNumber=17&uploadId=VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRz";

    fixture()
    {
        params.region = "us-east-1";
        params.service = "s3";
        params.time = std::chrono::sys_days{std::chrono::year{2026} / 11 / 27};
        params.rules = canonical_rules::s3();
        params.payload_hash = unsigned_payload;
    }

    request_view request() const
    {
        return {"PUT", "/node_modules/npm-3f2a9c.tar.lz4", query, headers};
    }
};

template <class SignOnce>
double signatures_per_second(int count, SignOnce sign_once)
{
    const auto start = clock_type::now();
    std::size_t sink = 0;
    for (int i = 0; i < count; ++i) sink += sign_once(i);
    const std::chrono::duration<double> elapsed = clock_type::now() - start;
    if (sink == 0) std::abort();  // keeps the work observable
    return count / elapsed.count();
}

double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv)
{
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 7;
    const int per_round = argc > 2 ? std::atoi(argv[2]) : 200000;
    if (rounds < 1 || per_round < 1) {
        std::fprintf(stderr, "usage: sigv4_bench [rounds>=1] [signatures_per_round>=1]\n");
        return 2;
    }
    fixture f;
    const signer warm;
    std::vector<double> cached, uncached;
    for (int r = 0; r < rounds; ++r) {
        cached.push_back(signatures_per_second(per_round, [&](int) {
            const auto res = warm.sign_headers(f.request(), f.creds, f.params);
            return res ? res->signature.size() : 0;
        }));
        uncached.push_back(signatures_per_second(per_round / 4, [&](int) {
            const signer cold;  // derives the key (4 more HMACs) every time
            const auto res = cold.sign_headers(f.request(), f.creds, f.params);
            return res ? res->signature.size() : 0;
        }));
    }
    std::printf("{\"benchmark\":\"sigv4_upload_part\",\"rounds\":%d,\"signatures_per_round\":%d,"
                "\"cached_key_per_s\":%.0f,\"cached_key_min_per_s\":%.0f,\"cached_key_max_per_s\":%.0f,"
                "\"fresh_key_per_s\":%.0f,\"us_per_signature\":%.2f}\n",
                rounds, per_round, median(cached), *std::min_element(cached.begin(), cached.end()),
                *std::max_element(cached.begin(), cached.end()), median(uncached), 1e6 / median(cached));
    return 0;
}
