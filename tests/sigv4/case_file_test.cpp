// The test-case reader behind sigv4-sign (apps/sigv4-sign/case_parse.cpp): good input parsed exactly, bad
// input refused with a message that names the problem.
#include "signing_case.hpp"

#include <boost/test/unit_test.hpp>

#include <string>

using namespace cachestep::sigv4_case;

namespace {

const std::string good_context = R"({"credentials":{"access_key_id":"AKID","secret_access_key":"SECRET"},
  "region":"us-east-1","service":"s3","timestamp":"2015-08-30T12:36:00Z","expiration_in_seconds":60})";

std::string error_of_context(const std::string& json)
{
    try {
        parse_context(json);
    } catch (const case_error& e) {
        return e.what();
    }
    return "<accepted>";
}

std::string error_of_request(const std::string& text)
{
    try {
        parse_request(text);
    } catch (const case_error& e) {
        return e.what();
    }
    return "<accepted>";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4_case_file)

BOOST_AUTO_TEST_CASE(s3_service_selects_s3_defaults)
{
    const auto c = parse_context(good_context);
    BOOST_TEST(c.is_s3());
    BOOST_TEST(!c.normalize);
    BOOST_TEST(!c.double_uri_encode);
    BOOST_TEST(c.expires.count() == 60);
    BOOST_TEST(!c.signed_body_value.has_value());
}

BOOST_AUTO_TEST_CASE(overrides_are_honoured)
{
    auto json = good_context;
    json.insert(json.size() - 1, R"(,"double_uri_encode":true,"normalize":true,"signed_body_value":"UNSIGNED-PAYLOAD")");
    const auto c = parse_context(json);
    BOOST_TEST(c.double_uri_encode);
    BOOST_TEST(c.normalize);
    BOOST_TEST(*c.signed_body_value == "UNSIGNED-PAYLOAD");
}

BOOST_AUTO_TEST_CASE(bad_contexts_are_named)
{
    BOOST_TEST(error_of_context("[1]").find("top level must be an object") != std::string::npos);
    BOOST_TEST(error_of_context("{").find("not valid JSON") != std::string::npos);
    auto no_service = good_context;
    no_service.replace(no_service.find(R"("service":"s3",)"), 15, "");
    BOOST_TEST(error_of_context(no_service).find(R"(missing "service")") != std::string::npos);
    auto bad_bool = good_context;
    bad_bool.insert(bad_bool.size() - 1, R"(,"normalize":"yes")");
    BOOST_TEST(error_of_context(bad_bool).find(R"("normalize" must be true or false)") != std::string::npos);
    auto bad_exp = good_context;
    bad_exp.replace(bad_exp.find("60}"), 2, "1.5");
    BOOST_TEST(error_of_context(bad_exp).find("must be an integer") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(request_with_spaces_in_target_continuations_and_body)
{
    const auto r = parse_request("POST /a b/?x=1 HTTP/1.1\r\nHost:h\r\nMy:v1\r\n  v2\r\n\r\nbody\nline");
    BOOST_TEST(r.method == "POST");
    BOOST_TEST(r.target == "/a b/?x=1");
    BOOST_TEST_REQUIRE(r.headers.size() == 2u);
    BOOST_TEST(r.headers[1].value == "v1 v2");
    BOOST_TEST(r.headers[1].raw_lines.size() == 2u);
    BOOST_TEST(r.has_body);
    BOOST_TEST(r.body == "body\nline");
}

BOOST_AUTO_TEST_CASE(bad_requests_are_named)
{
    BOOST_TEST(error_of_request("").find("empty") != std::string::npos);
    BOOST_TEST(error_of_request("GET /\n").find("METHOD TARGET HTTP/1.1") != std::string::npos);
    BOOST_TEST(error_of_request("GET x HTTP/1.1\n").find("must start with '/'") != std::string::npos);
    BOOST_TEST(error_of_request("GET / HTTP/1.1\n  cont\n").find("continuation line before any header") !=
               std::string::npos);
    BOOST_TEST(error_of_request("GET / HTTP/1.1\nHost\n").find("line 2") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
