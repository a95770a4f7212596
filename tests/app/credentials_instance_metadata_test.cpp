// IMDS: the credentials document and the endpoint settings (apps/cache-step/credentials/instance_metadata.cpp).
#include "instance_metadata.hpp"

#include "credentials_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::app::credentials;
using cachestep::app::credentials::testing::fake_env;

BOOST_AUTO_TEST_SUITE(credentials_instance_metadata)

BOOST_AUTO_TEST_CASE(parses_the_credentials_document)
{
    // The document EC2 serves (EC2 user guide, "Retrieve security credentials from instance metadata").
    const char* doc = R"({
  "Code" : "Success",
  "LastUpdated" : "2012-04-26T16:39:16Z",
  "Type" : "AWS-HMAC",
  "AccessKeyId" : "ASIAIOSFODNN7EXAMPLE",
  "SecretAccessKey" : "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
  "Token" : "token",
  "Expiration" : "2017-05-17T15:09:54Z"
})";
    auto r = parse_instance_credentials(doc, "ci-runner");
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->credentials.access_key_id == "ASIAIOSFODNN7EXAMPLE");
    BOOST_TEST(r->credentials.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
    BOOST_TEST(r->credentials.session_token == "token");
    BOOST_TEST(format_iso8601_utc(*r->expiration) == "2017-05-17T15:09:54Z");
    BOOST_TEST(r->source == "instance role ci-runner");
}

BOOST_AUTO_TEST_CASE(refuses_failed_or_incomplete_documents_without_quoting_them)
{
    auto r = parse_instance_credentials(R"({"Code":"AssumeRoleUnauthorizedAccess","Message":"x"})", "r");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "the instance metadata service reports Code \"AssumeRoleUnauthorizedAccess\"");

    r = parse_instance_credentials(R"({"Code":"Success","AccessKeyId":"A","Token":"SECRET-TOKEN"})", "r");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().to_string().find("SECRET-TOKEN") == std::string::npos);

    r = parse_instance_credentials("[1,2]", "r");
    BOOST_TEST(!r.has_value());
    r = parse_instance_credentials("{\"AccessKeyId\":", "r");
    BOOST_TEST(!r.has_value());
    r = parse_instance_credentials(R"({"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})", "r");
    BOOST_TEST(!r.has_value());
}

BOOST_AUTO_TEST_CASE(endpoint_and_switch_from_environment)
{
    BOOST_TEST(instance_metadata_endpoint(fake_env({})) == "http://169.254.169.254");
    BOOST_TEST(instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"}})) ==
               "http://[fd00:ec2::254]");
    BOOST_TEST(instance_metadata_endpoint(fake_env({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:8111/"}})) ==
               "http://127.0.0.1:8111");
    BOOST_TEST(!instance_metadata_disabled(fake_env({})));
    BOOST_TEST(instance_metadata_disabled(fake_env({{"AWS_EC2_METADATA_DISABLED", "TRUE"}})));
    BOOST_TEST(!instance_metadata_disabled(fake_env({{"AWS_EC2_METADATA_DISABLED", "false"}})));
}

BOOST_AUTO_TEST_CASE(an_absent_service_fails_fast_with_the_reason)
{
    // Nothing listens on port 1: refused at once, tried twice, and the error names the step.
    auto r = fetch_instance_credentials("http://127.0.0.1:1");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "IMDSv2 token from http://127.0.0.1:1");
    BOOST_TEST(r.error().attempts == 2);
}

BOOST_AUTO_TEST_SUITE_END()
