// The signer as the engine uses it (sigv4/src/signer.cpp). The S3 vectors come from the worked examples in
// the Amazon S3 API reference, "Signature Calculations for the Authorization Header" and "Authenticating
// Requests: Using Query Parameters" (credentials AKIAIOSFODNN7EXAMPLE, 2013-05-24, bucket examplebucket);
// botocore 1.43 computes the same signatures for them.
#include <cachestep/sigv4/signer.hpp>

#include <cachestep/sigv4/crypto.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace cachestep::sigv4;
using namespace std::chrono;

namespace {

const credentials doc_creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
const sys_seconds doc_time = sys_days{2013y / May / 24};

signing_params s3_params(std::string_view payload_hash)
{
    signing_params p;
    p.region = "us-east-1";
    p.service = "s3";
    p.time = doc_time;
    p.rules = canonical_rules::s3();
    p.payload_hash = payload_hash;
    return p;
}

std::string header_value(const header_signing_result& r, std::string_view name)
{
    for (const auto& h : r.headers)
        if (h.name == name) return h.value;
    return "<missing " + std::string(name) + ">";
}

const std::vector<header_field> host_only = {{"Host", "examplebucket.s3.amazonaws.com"}};

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4_signer)

BOOST_AUTO_TEST_CASE(s3_doc_get_object_with_range)
{
    const std::vector<header_field> headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}};
    const signer s;
    const auto r = s.sign_headers({"GET", "/test.txt", "", headers}, doc_creds, s3_params(empty_payload_sha256));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    BOOST_TEST(header_value(*r, "Authorization") ==
               "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
               "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
               "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    BOOST_TEST(header_value(*r, "X-Amz-Date") == "20130524T000000Z");
    BOOST_TEST(header_value(*r, "x-amz-content-sha256") == std::string(empty_payload_sha256));
}

BOOST_AUTO_TEST_CASE(s3_doc_put_object_with_signed_payload)
{
    const std::string body = "Welcome to Amazon S3.";
    const std::string hash = sha256_hex(body);
    BOOST_TEST(hash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
    const std::vector<header_field> headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                                               {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                                               {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
    const auto r = signer{}.sign_headers({"PUT", "/test%24file.text", "", headers}, doc_creds, s3_params(hash));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

BOOST_AUTO_TEST_CASE(s3_doc_get_bucket_lifecycle_and_list_objects)
{
    const signer s;
    const auto lifecycle = s.sign_headers({"GET", "/", "lifecycle", host_only}, doc_creds, s3_params(empty_payload_sha256));
    BOOST_TEST_REQUIRE(lifecycle.has_value());
    BOOST_TEST(lifecycle->signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    const auto list = s.sign_headers({"GET", "/", "max-keys=2&prefix=J", host_only}, doc_creds,
                                     s3_params(empty_payload_sha256));
    BOOST_TEST_REQUIRE(list.has_value());
    BOOST_TEST(list->signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

BOOST_AUTO_TEST_CASE(s3_doc_presigned_get)
{
    const auto p = s3_params(unsigned_payload);
    const auto r = signer{}.presign({"GET", "/test.txt", "", host_only}, doc_creds, p, hours{24});
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->signature == "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
    BOOST_TEST(r->query ==
               "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
               "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=86400&"
               "X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
}

BOOST_AUTO_TEST_CASE(content_sha256_header_follows_the_rules)
{
    auto p = s3_params(unsigned_payload);
    const auto s3 = signer{}.sign_headers({"GET", "/k", "", host_only}, doc_creds, p);
    BOOST_TEST_REQUIRE(s3.has_value());
    BOOST_TEST(s3->canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n") != std::string::npos);
    BOOST_TEST(header_value(*s3, "x-amz-content-sha256") == "UNSIGNED-PAYLOAD");

    p.rules = canonical_rules::generic();
    p.payload_hash = empty_payload_sha256;
    const auto generic = signer{}.sign_headers({"GET", "/k", "", host_only}, doc_creds, p);
    BOOST_TEST_REQUIRE(generic.has_value());
    BOOST_TEST(generic->canonical_request.find("x-amz-content-sha256") == std::string::npos);
    for (const auto& h : generic->headers) BOOST_TEST(h.name != "x-amz-content-sha256");
}

BOOST_AUTO_TEST_CASE(signing_key_is_derived_once_per_day_and_scope)
{
    const signer s;
    auto p = s3_params(unsigned_payload);
    for (int i = 0; i < 5; ++i) BOOST_TEST_REQUIRE(s.sign_headers({"GET", "/k", "", host_only}, doc_creds, p).has_value());
    BOOST_TEST(s.key_cache().derivations() == 1u);
    p.time += hours{23};  // same day: same key
    BOOST_TEST_REQUIRE(s.sign_headers({"GET", "/k", "", host_only}, doc_creds, p).has_value());
    BOOST_TEST(s.key_cache().derivations() == 1u);
    p.time += hours{1};  // next day
    BOOST_TEST_REQUIRE(s.sign_headers({"GET", "/k", "", host_only}, doc_creds, p).has_value());
    BOOST_TEST(s.key_cache().derivations() == 2u);
    p.region = "eu-west-1";
    BOOST_TEST_REQUIRE(s.sign_headers({"GET", "/k", "", host_only}, doc_creds, p).has_value());
    BOOST_TEST(s.key_cache().derivations() == 3u);
}

BOOST_AUTO_TEST_CASE(cached_key_equals_fresh_derivation)
{
    // A reused key must sign exactly as a freshly derived one: sign with a warm signer and a cold one.
    const signer warm;
    const auto p = s3_params(unsigned_payload);
    BOOST_TEST_REQUIRE(warm.sign_headers({"GET", "/a", "", host_only}, doc_creds, p).has_value());
    const auto again = warm.sign_headers({"GET", "/b", "", host_only}, doc_creds, p);
    const auto cold = signer{}.sign_headers({"GET", "/b", "", host_only}, doc_creds, p);
    BOOST_TEST_REQUIRE((again.has_value() && cold.has_value()));
    BOOST_TEST(again->signature == cold->signature);
}

BOOST_AUTO_TEST_CASE(session_token_is_signed_and_added)
{
    credentials temp = doc_creds;
    temp.session_token = "FQoGZXIvYXdzE//token+with/slashes=";
    const auto p = s3_params(unsigned_payload);
    const auto h = signer{}.sign_headers({"GET", "/k", "", host_only}, temp, p);
    BOOST_TEST_REQUIRE(h.has_value());
    BOOST_TEST(h->headers.front().name == "X-Amz-Security-Token");
    BOOST_TEST(h->headers.front().value == temp.session_token);
    BOOST_TEST(h->canonical_request.find("x-amz-security-token:" + temp.session_token + "\n") != std::string::npos);
    BOOST_TEST(header_value(*h, "Authorization").find("x-amz-date;x-amz-security-token") != std::string::npos);

    auto unsigned_token = p;
    unsigned_token.omit_session_token = true;
    const auto o = signer{}.sign_headers({"GET", "/k", "", host_only}, temp, unsigned_token);
    BOOST_TEST_REQUIRE(o.has_value());
    BOOST_TEST(o->canonical_request.find("x-amz-security-token") == std::string::npos);
    BOOST_TEST(o->headers.front().name == "X-Amz-Security-Token");  // still sent

    const auto pre = signer{}.presign({"GET", "/k", "", host_only}, temp, p, seconds{60});
    BOOST_TEST_REQUIRE(pre.has_value());
    BOOST_TEST(pre->query.find("X-Amz-Security-Token=FQoGZXIvYXdzE%2F%2Ftoken%2Bwith%2Fslashes%3D&X-Amz-Signature=") !=
               std::string::npos);
    BOOST_TEST(pre->canonical_request.find("X-Amz-Security-Token=") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(replaced_headers_are_not_signed_twice)
{
    // A request re-signed on retry still carries the previous attempt's headers; they must not leak in.
    const std::vector<header_field> headers = {{"Host", "h"},
                                               {"X-Amz-Date", "19990101T000000Z"},
                                               {"Authorization", "AWS4-HMAC-SHA256 old"},
                                               {"x-amz-content-sha256", "stale"}};
    const auto r = signer{}.sign_headers({"PUT", "/k", "", headers}, doc_creds, s3_params(unsigned_payload));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->canonical_request.find("19990101") == std::string::npos);
    BOOST_TEST(r->canonical_request.find("stale") == std::string::npos);
    BOOST_TEST(r->canonical_request.find("x-amz-content-sha256:UNSIGNED-PAYLOAD\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused_with_a_named_error)
{
    const signer s;
    const auto p = s3_params(unsigned_payload);
    const auto error_of = [&](const request_view& r, const credentials& c, const signing_params& sp) {
        const auto res = s.sign_headers(r, c, sp);
        return res ? boost::system::error_code{} : res.error();
    };
    const std::vector<header_field> no_host = {{"Range", "bytes=0-1"}};
    const std::vector<header_field> crlf = {{"Host", "h"}, {"X-Bad", "a\r\nInjected: yes"}};
    const std::vector<header_field> bad_name = {{"Host", "h"}, {"Bad Name", "v"}};
    BOOST_TEST(error_of({"GET", "/k", "", no_host}, doc_creds, p) == make_error_code(sigv4_errc::missing_host_header));
    BOOST_TEST(error_of({"GET", "/k", "", crlf}, doc_creds, p) == make_error_code(sigv4_errc::invalid_header));
    BOOST_TEST(error_of({"GET", "/k", "", bad_name}, doc_creds, p) == make_error_code(sigv4_errc::invalid_header));
    BOOST_TEST(error_of({"GET", "k", "", host_only}, doc_creds, p) == make_error_code(sigv4_errc::invalid_path));
    BOOST_TEST(error_of({"", "/k", "", host_only}, doc_creds, p) == make_error_code(sigv4_errc::invalid_method));
    for (const credentials& bad : {credentials{"AKID", "", ""}, credentials{"", "secret", ""},
                                   credentials{"AK/ID", "secret", ""}, credentials{"AKID", "secret", "tok\r\nX: y"}})
        BOOST_TEST(error_of({"GET", "/k", "", host_only}, bad, p) == make_error_code(sigv4_errc::invalid_credentials));
    auto bad_region = p;
    bad_region.region = "us/east";
    BOOST_TEST(error_of({"GET", "/k", "", host_only}, doc_creds, bad_region) == make_error_code(sigv4_errc::invalid_scope));
    auto bad_hash = p;
    bad_hash.payload_hash = "";
    BOOST_TEST(error_of({"GET", "/k", "", host_only}, doc_creds, bad_hash) == make_error_code(sigv4_errc::invalid_payload_hash));
    auto bad_time = p;
    bad_time.time = sys_days{10000y / January / 1};
    BOOST_TEST(error_of({"GET", "/k", "", host_only}, doc_creds, bad_time) == make_error_code(sigv4_errc::invalid_time));

    BOOST_TEST(!s.presign({"GET", "/k", "", host_only}, doc_creds, p, seconds{0}).has_value());
    BOOST_TEST(!s.presign({"GET", "/k", "", host_only}, doc_creds, p, max_presign_expiry + seconds{1}).has_value());
    BOOST_TEST(s.presign({"GET", "/k", "", host_only}, doc_creds, p, max_presign_expiry).has_value());
    BOOST_TEST(make_error_code(sigv4_errc::missing_host_header).message().find("Host") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secret_never_appears_in_results)
{
    const auto r = signer{}.sign_headers({"GET", "/k", "", host_only}, doc_creds, s3_params(unsigned_payload));
    BOOST_TEST_REQUIRE(r.has_value());
    const std::string secret = doc_creds.secret_access_key;
    BOOST_TEST(r->canonical_request.find(secret) == std::string::npos);
    BOOST_TEST(r->string_to_sign.find(secret) == std::string::npos);
    for (const auto& h : r->headers) BOOST_TEST(h.value.find(secret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
