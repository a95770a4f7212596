// From a failed S3 response to error_info (engine/src/s3_error_map.cpp).
#include "s3_error_map.hpp"

#include <boost/test/unit_test.hpp>

#include <string>
#include <utility>

using namespace cachestep::engine;
using namespace cachestep::engine::detail;

BOOST_AUTO_TEST_SUITE(engine_s3_error_map)

BOOST_AUTO_TEST_CASE(every_known_code_maps_to_its_enumerator)
{
    const std::pair<const char*, s3_errc> expected[] = {
        {"AccessDenied", s3_errc::access_denied},
        {"InvalidAccessKeyId", s3_errc::invalid_access_key_id},
        {"SignatureDoesNotMatch", s3_errc::signature_does_not_match},
        {"ExpiredToken", s3_errc::expired_token},
        {"InvalidToken", s3_errc::invalid_token},
        {"RequestTimeTooSkewed", s3_errc::request_time_too_skewed},
        {"NoSuchBucket", s3_errc::no_such_bucket},
        {"NoSuchKey", s3_errc::no_such_key},
        {"NoSuchUpload", s3_errc::no_such_upload},
        {"PreconditionFailed", s3_errc::precondition_failed},
        {"InvalidRange", s3_errc::invalid_range},
        {"EntityTooSmall", s3_errc::entity_too_small},
        {"EntityTooLarge", s3_errc::entity_too_large},
        {"InvalidPart", s3_errc::invalid_part},
        {"InvalidPartOrder", s3_errc::invalid_part_order},
        {"BadDigest", s3_errc::bad_digest},
        {"XAmzContentSHA256Mismatch", s3_errc::bad_digest},
        {"InvalidDigest", s3_errc::invalid_digest},
        {"InvalidArgument", s3_errc::invalid_argument},
        {"InvalidRequest", s3_errc::invalid_request},
        {"MalformedXML", s3_errc::malformed_xml},
        {"MethodNotAllowed", s3_errc::method_not_allowed},
        {"NotImplemented", s3_errc::not_implemented},
        {"SlowDown", s3_errc::slow_down},
        {"RequestTimeout", s3_errc::request_timeout},
        {"InternalError", s3_errc::internal_error},
        {"ServiceUnavailable", s3_errc::service_unavailable},
    };
    for (const auto& [code, value] : expected)
        BOOST_TEST((s3_errc_from_code(code) == value), code);
    // Case matters, and codes we do not act on stay unknown (error_info::s3_code keeps them).
    for (const char* other : {"", "nosuchkey", "NoSuchKey ", "BucketAlreadyOwnedByYou", "NoSuchBucketPolicy",
                              "XMinioServerNotInitialized"})
        BOOST_TEST((s3_errc_from_code(other) == s3_errc::unknown), other);
}

BOOST_AUTO_TEST_CASE(status_codes_of_body_less_responses)
{
    const std::pair<unsigned, s3_errc> expected[] = {
        {403, s3_errc::access_denied},       {404, s3_errc::no_such_key},       {405, s3_errc::method_not_allowed},
        {412, s3_errc::precondition_failed}, {416, s3_errc::invalid_range},     {500, s3_errc::internal_error},
        {501, s3_errc::not_implemented},     {502, s3_errc::bad_gateway},       {503, s3_errc::service_unavailable},
        {504, s3_errc::gateway_timeout},     {200, s3_errc::unknown},           {301, s3_errc::unknown},
        {400, s3_errc::unknown},             {409, s3_errc::unknown},           {429, s3_errc::unknown},
        {0, s3_errc::unknown},
    };
    for (const auto& [status, value] : expected)
        BOOST_TEST((s3_errc_from_status(status) == value), status);
}

BOOST_AUTO_TEST_CASE(aws_error_body_wins_over_the_header_and_the_status)
{
    const auto e = error_from_response(403, "HEADER-ID",
                                       R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message><AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256
20260101T000000Z
20260101/us-east-1/s3/aws4_request
abc</StringToSign><SignatureProvided>deadbeef</SignatureProvided><RequestId>4442587FB7D0A2F9</RequestId><HostId>Yn1aLj+3lEGh1p1xN0vH3Q==</HostId></Error>)",
                                       "UploadPart 7 of cache/npm");
    BOOST_TEST(e.code == make_error_code(s3_errc::signature_does_not_match));
    BOOST_TEST(e.s3_code == "SignatureDoesNotMatch");
    BOOST_TEST(e.message == "The request signature we calculated does not match the signature you provided. "
                            "Check your key and signing method.");
    BOOST_TEST(e.request_id == "4442587FB7D0A2F9");
    BOOST_TEST(e.http_status == 403u);
    BOOST_TEST(e.operation == "UploadPart 7 of cache/npm");
    BOOST_TEST(e.to_string() ==
               "UploadPart 7 of cache/npm: signature does not match (wrong secret access key?) [SignatureDoesNotMatch]"
               " (HTTP 403): The request signature we calculated does not match the signature you provided. Check "
               "your key and signing method.; request id 4442587FB7D0A2F9");
}

BOOST_AUTO_TEST_CASE(moto_rgw_and_s3rver_bodies)
{
    const auto moto = error_from_response(404, "", R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
    <Code>NoSuchUpload</Code>
    <Message><![CDATA[The specified upload does not exist.]]></Message>
    <UploadId>abc</UploadId>
    <RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID>
</Error>)", "CompleteMultipartUpload");
    BOOST_TEST(moto.code == make_error_code(s3_errc::no_such_upload));
    BOOST_TEST(moto.message == "The specified upload does not exist.");
    BOOST_TEST(moto.request_id == "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");

    const auto rgw = error_from_response(
        503, "tx-from-header",
        R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message></Message>)"
        R"(<BucketName>ci</BucketName><RequestId>tx000000000000000000004-0065a1b2c3-1014-default</RequestId>)"
        R"(<HostId>1014-default-default</HostId></Error>)",
        "PutObject");
    BOOST_TEST(rgw.code == make_error_code(s3_errc::slow_down));
    BOOST_TEST(rgw.message.empty());
    BOOST_TEST(rgw.request_id == "tx000000000000000000004-0065a1b2c3-1014-default");

    // s3rver sends no request id: the header's stands.
    const auto s3rver = error_from_response(404, "s3rver-id",
                                            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket"
                                            "</Code><Message>The specified bucket does not exist</Message>"
                                            "<BucketName>ci</BucketName></Error>",
                                            "HeadBucket");
    BOOST_TEST(s3rver.code == make_error_code(s3_errc::no_such_bucket));
    BOOST_TEST(s3rver.request_id == "s3rver-id");
}

BOOST_AUTO_TEST_CASE(body_less_responses_take_the_status)
{
    const auto head = error_from_response(404, "R1", "", "HeadObject cache/npm");
    BOOST_TEST(head.code == make_error_code(s3_errc::no_such_key));
    BOOST_TEST(head.s3_code.empty());
    BOOST_TEST(head.message.empty());
    BOOST_TEST(head.request_id == "R1");
    BOOST_TEST(head.http_status == 404u);

    const auto precondition = error_from_response(412, "", "\r\n", "GetObject bytes=0-99");
    BOOST_TEST(precondition.code == make_error_code(s3_errc::precondition_failed));

    // An <Error> without a Code says nothing more than the status.
    const auto codeless = error_from_response(503, "", "<Error><Message>busy</Message></Error>", "");
    BOOST_TEST(codeless.code == make_error_code(s3_errc::service_unavailable));
    BOOST_TEST(codeless.message == "busy");
}

BOOST_AUTO_TEST_CASE(proxy_pages_are_named_not_echoed)
{
    const auto nginx = error_from_response(502, "",
                                           "<html>\r\n<head><TITLE>502   Bad\r\nGateway</TITLE></head>\r\n<body>"
                                           "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>"
                                           "\r\n</body>\r\n</html>\r\n",
                                           "UploadPart 3");
    BOOST_TEST(nginx.code == make_error_code(s3_errc::bad_gateway));
    BOOST_TEST(nginx.message == "not an S3 error document: \"502 Bad Gateway\"");
    BOOST_TEST(nginx.s3_code.empty());

    const auto echo = error_from_response(504, "", "{\"headers\": {\"X-Amz-Security-Token\": \"FwoGZXIvYXdzE\"}}", "");
    BOOST_TEST(echo.code == make_error_code(s3_errc::gateway_timeout));
    BOOST_TEST(echo.message == "the 54-byte body is not an S3 error document");
    BOOST_TEST(echo.message.find("FwoG") == std::string::npos);

    // A truncated <Error> is not an error document either.
    const auto cut = error_from_response(500, "", "<Error><Code>InternalError</Code><Mess", "");
    BOOST_TEST(cut.code == make_error_code(s3_errc::internal_error));
    BOOST_TEST(cut.s3_code.empty());
}

BOOST_AUTO_TEST_CASE(unknown_codes_are_kept_for_people)
{
    const auto e = error_from_response(503, "", "<Error><Code>XMinioServerNotInitialized</Code><Message>Server not "
                                                "initialized, please try again.</Message></Error>",
                                       "ListObjectsV2");
    BOOST_TEST(e.code == make_error_code(s3_errc::unknown));
    BOOST_TEST(e.s3_code == "XMinioServerNotInitialized");
    BOOST_TEST(e.http_status == 503u);
    BOOST_TEST(e.to_string() == "ListObjectsV2: S3 error [XMinioServerNotInitialized] (HTTP 503): Server not "
                                "initialized, please try again.");
}

BOOST_AUTO_TEST_SUITE_END()
