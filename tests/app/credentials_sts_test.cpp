// STS query API: form bodies, answers and errors (apps/cache-step/credentials/sts.cpp), and the timestamps
// STS and IMDS write (resolved_credentials.cpp).
#include "sts.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::app::credentials;
namespace engine = cachestep::engine;

namespace {

// The shape AWS documents for AssumeRole (STS API reference, "AssumeRole", example response).
const char* const assume_role_answer = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>DevUser123</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/John</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:John</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764</SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>)";

}  // namespace

BOOST_AUTO_TEST_SUITE(credentials_sts)

BOOST_AUTO_TEST_CASE(parses_assume_role_credentials)
{
    auto r = parse_sts_response(200, assume_role_answer, "", "STS AssumeRole x", "assume role x");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->credentials.access_key_id == "ASIAIOSFODNN7EXAMPLE");
    BOOST_TEST(r->credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    BOOST_TEST(r->credentials.session_token == "AQoDYXdzEPT//////////wEXAMPLEtc764");
    BOOST_TEST_REQUIRE(r->expiration.has_value());
    BOOST_TEST(format_iso8601_utc(*r->expiration) == "2019-11-09T13:34:41Z");
    BOOST_TEST(r->source == "assume role x");
}

BOOST_AUTO_TEST_CASE(parses_web_identity_credentials_with_fractional_expiration)
{
    const char* answer = "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                         "<Credentials><AccessKeyId>ASIAWEB</AccessKeyId><SecretAccessKey>s</SecretAccessKey>"
                         "<SessionToken>t</SessionToken><Expiration>2026-11-27T12:00:01.123Z</Expiration>"
                         "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
    auto r = parse_sts_response(200, answer, "", "op", "web identity");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->credentials.access_key_id == "ASIAWEB");
    BOOST_TEST(format_iso8601_utc(*r->expiration) == "2026-11-27T12:00:01Z");
}

BOOST_AUTO_TEST_CASE(error_response_becomes_a_clear_error)
{
    const char* answer = R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole</Message>
  </Error>
  <RequestId>4f0a-req</RequestId>
</ErrorResponse>)";
    auto r = parse_sts_response(403, answer, "", "STS AssumeRole arn:aws:iam::1:role/x", "unused");
    BOOST_TEST_REQUIRE(!r.has_value());
    const auto& e = r.error();
    BOOST_TEST(e.code == make_error_code(engine::s3_errc::access_denied));
    BOOST_TEST(e.http_status == 403u);
    BOOST_TEST(e.s3_code == "AccessDenied");
    BOOST_TEST(e.message == "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: sts:AssumeRole");
    BOOST_TEST(e.request_id == "4f0a-req");
    BOOST_TEST(e.operation == "STS AssumeRole arn:aws:iam::1:role/x");
    BOOST_TEST(e.to_string().find("AccessDenied") != std::string::npos);

    const char* bad_token = "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>No OpenIDConnect "
                            "provider found</Message></Error></ErrorResponse>";
    r = parse_sts_response(400, bad_token, "hdr-id", "op", "unused");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == make_error_code(engine::s3_errc::invalid_token));
    BOOST_TEST(r.error().request_id == "hdr-id");

    r = parse_sts_response(400, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>", "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == make_error_code(engine::s3_errc::unknown));
    BOOST_TEST(r.error().s3_code == "Throttling");
}

BOOST_AUTO_TEST_CASE(refuses_answers_it_cannot_use)
{
    auto r = parse_sts_response(200, "not xml <", "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == make_error_code(engine::engine_errc::bad_response));

    r = parse_sts_response(200, "<AssumeRoleResponse/>", "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "STS answer without <Credentials>");

    r = parse_sts_response(200,
                           "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>S</SecretAccessKey>"
                           "</Credentials></R>",
                           "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == make_error_code(engine::engine_errc::bad_response));

    r = parse_sts_response(502, "<html>bad gateway</html>", "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().http_status == 502u);
    BOOST_TEST(r.error().message == "STS answered HTTP 502 without an <ErrorResponse>");

    // The secret never appears in an error about an unreadable expiration.
    r = parse_sts_response(200,
                           "<R><Credentials><AccessKeyId>A</AccessKeyId><SecretAccessKey>TOPSECRET</SecretAccessKey>"
                           "<SessionToken>TOKENVALUE</SessionToken><Expiration>tomorrow</Expiration></Credentials></R>",
                           "", "op", "");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().to_string().find("TOPSECRET") == std::string::npos);
    BOOST_TEST(r.error().to_string().find("TOKENVALUE") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(form_bodies)
{
    assume_role_request a;
    a.role_arn = "arn:aws:iam::123456789012:role/ci role";
    a.session_name = "build-7";
    a.external_id = "ext/1+2";
    a.duration_seconds = 900;
    BOOST_TEST(assume_role_body(a) ==
               "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci%20role"
               "&RoleSessionName=build-7&ExternalId=ext%2F1%2B2&DurationSeconds=900");

    web_identity_request w;
    w.role_arn = "arn:aws:iam::1:role/x";
    w.token = "eyJ.a-b_c.d=";
    const auto body = web_identity_body(w);
    BOOST_TEST(body.find("Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx"
                         "&RoleSessionName=cache-step-") == 0u);
    BOOST_TEST(body.find("&WebIdentityToken=eyJ.a-b_c.d%3D") != std::string::npos);
    BOOST_TEST(body.find("DurationSeconds") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(endpoint_urls)
{
    sts_settings s;
    BOOST_TEST(sts_endpoint_url(s) == "https://sts.us-east-1.amazonaws.com/");
    s.region = "eu-central-1";
    BOOST_TEST(sts_endpoint_url(s) == "https://sts.eu-central-1.amazonaws.com/");
    s.region = "cn-north-1";
    BOOST_TEST(sts_endpoint_url(s) == "https://sts.cn-north-1.amazonaws.com.cn/");
    s.endpoint = "http://127.0.0.1:5000";
    BOOST_TEST(sts_endpoint_url(s) == "http://127.0.0.1:5000");
}

BOOST_AUTO_TEST_CASE(iso8601_timestamps)
{
    BOOST_TEST(parse_iso8601_utc("2026-11-27T12:34:56+00:00").has_value());
    BOOST_TEST(format_iso8601_utc(*parse_iso8601_utc("2024-02-29T23:59:59Z")) == "2024-02-29T23:59:59Z");
    BOOST_TEST(!parse_iso8601_utc("2023-02-29T00:00:00Z").has_value());
    BOOST_TEST(!parse_iso8601_utc("2026-11-27T12:34:56+02:00").has_value());  // only UTC is written by AWS
    BOOST_TEST(!parse_iso8601_utc("2026-11-27").has_value());
    BOOST_TEST(!parse_iso8601_utc("2026-11-27T12:34:56.Z").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
