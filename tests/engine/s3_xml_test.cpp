// S3 XML bodies (engine/src/s3_xml.cpp): what AWS documents and what RGW, moto and s3rver really send, and
// every way a body can be unusable.
#include "s3_xml.hpp"

#include <boost/test/unit_test.hpp>

#include <pugixml.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace cachestep::engine;
using namespace cachestep::engine::detail;
using namespace std::chrono;

namespace {

sys_seconds utc(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
    return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s};
}

// The call failed with bad_response and its message names the problem.
template <class T>
void check_bad(const result<T>& r, const std::string& needle)
{
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(engine_errc::bad_response));
    BOOST_TEST(r.error().message.find(needle) != std::string::npos,
               "\"" << r.error().message << "\" should mention \"" << needle << "\"");
}

// Every parser must refuse these the same way, whatever document it expects.
template <class Parse>
void check_refuses_garbage(Parse parse, const std::string& root)
{
    check_bad(parse(""), "empty body");
    check_bad(parse(" \r\n\t "), "empty body");
    check_bad(parse("{\"UploadId\": \"x\"}"), "not XML");
    check_bad(parse("Internal Server Error"), "not XML");
    check_bad(parse("<" + root + "><IsTruncated>false</IsTruncated>"), "not well-formed");   // truncated
    check_bad(parse("<" + root + "></" + root + ">junk"), "text outside the root");
    check_bad(parse("<" + root + "/><" + root + "/>"), "more than one root");
    check_bad(parse("<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><" + root + ">&e;</" + root + ">"),
              "DOCTYPE");
    check_bad(parse("<" + root + ">\x01</" + root + ">"), "control character 0x01");
    check_bad(parse("<" + root + ">a&#0;b</" + root + ">"), "&#0;");
    check_bad(parse("<" + root + ">&#x1F;</" + root + ">"), "&#x1F;");
    check_bad(parse("<html><head><title>502 Bad Gateway</title></head></html>"), "got <html>");
    check_bad(parse(std::string(max_xml_body_bytes + 1, ' ')), "exceeds");
    std::string many = "<" + root + ">";
    for (std::size_t i = 0; i < max_xml_markup; ++i) many += "<a/>";
    check_bad(parse(many + "</" + root + ">"), "elements");
}

// A 200 whose body is <Error>: the server's error, not a parse failure.
template <class T>
void check_error_root(const result<T>& r)
{
    BOOST_TEST_REQUIRE(r.has_error());
    BOOST_TEST(r.error().code == make_error_code(s3_errc::internal_error));
    BOOST_TEST(r.error().s3_code == "InternalError");
    BOOST_TEST(r.error().message == "We encountered an internal error. Please try again.");
    BOOST_TEST(r.error().request_id == "656c76696e6727732072657175657374");
    BOOST_TEST(r.error().http_status == 200u);
}

// AWS, CompleteMultipartUpload: "a 200 OK response can contain either a success or an error". S3 sends
// white space while it works, so the document may start late.
const std::string error_in_200 = "\n   \n<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n<Error>\n"
                                 "  <Code>InternalError</Code>\n"
                                 "  <Message>We encountered an internal error. Please try again.</Message>\n"
                                 "  <RequestId>656c76696e6727732072657175657374</RequestId>\n"
                                 "  <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>\n"
                                 "</Error>";

std::string listing(const std::string& inside)
{
    return R"(<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)" +
           inside + "</ListBucketResult>";
}

std::string one_object(const std::string& size, const std::string& modified = "2009-10-12T17:50:30.000Z")
{
    return listing("<IsTruncated>false</IsTruncated><Contents><Key>k</Key><LastModified>" + modified +
                   "</LastModified><Size>" + size + "</Size></Contents>");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_s3_xml)

BOOST_AUTO_TEST_CASE(error_bodies_of_aws_rgw_moto_and_s3rver)
{
    const auto aws = parse_error_body(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
  <Code>NoSuchKey</Code>
  <Message>The resource you requested does not exist</Message>
  <Resource>/mybucket/myfoto.jpg</Resource>
  <RequestId>4442587FB7D0A2F9</RequestId>
</Error>)");
    BOOST_TEST_REQUIRE(aws.has_value());
    BOOST_TEST(aws->code == "NoSuchKey");
    BOOST_TEST(aws->message == "The resource you requested does not exist");
    BOOST_TEST(aws->resource == "/mybucket/myfoto.jpg");
    BOOST_TEST(aws->request_id == "4442587FB7D0A2F9");
    BOOST_TEST(aws->host_id.empty());

    // Ceph RGW: one line, an empty Message, and BucketName / HostId.
    const auto rgw = parse_error_body(
        R"(<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchBucket</Code><Message></Message>)"
        R"(<BucketName>ci-cache</BucketName><RequestId>tx00000a1b2c3d4e5f60718-0065a1b2c3-1014-default</RequestId>)"
        R"(<HostId>1014-default-default</HostId></Error>)");
    BOOST_TEST_REQUIRE(rgw.has_value());
    BOOST_TEST(rgw->code == "NoSuchBucket");
    BOOST_TEST(rgw->message.empty());
    BOOST_TEST(rgw->request_id == "tx00000a1b2c3d4e5f60718-0065a1b2c3-1014-default");
    BOOST_TEST(rgw->host_id == "1014-default-default");

    // moto: the message in CDATA (with characters that would need escaping) and RequestID, not RequestId.
    const auto moto = parse_error_body(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error>
    <Code>NoSuchUpload</Code>
    <Message><![CDATA[The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed. <&>]]></Message>
    <UploadId>abc</UploadId>
    <RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestID>
</Error>)");
    BOOST_TEST_REQUIRE(moto.has_value());
    BOOST_TEST(moto->code == "NoSuchUpload");
    BOOST_TEST(moto->message == "The specified upload does not exist. The upload ID may be invalid, or the upload "
                                "may have been aborted or completed. <&>");
    BOOST_TEST(moto->request_id == "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE");

    // s3rver: no request id at all, a detail element instead.
    const auto s3rver = parse_error_body("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>"
                                         "<Message>The specified key does not exist.</Message><Key>npm.tar</Key></Error>");
    BOOST_TEST_REQUIRE(s3rver.has_value());
    BOOST_TEST(s3rver->code == "NoSuchKey");
    BOOST_TEST(s3rver->request_id.empty());
}

BOOST_AUTO_TEST_CASE(error_body_is_nullopt_for_anything_but_an_error_document)
{
    BOOST_TEST(!parse_error_body("").has_value());
    BOOST_TEST(!parse_error_body("<html><body>502 Bad Gateway</body></html>").has_value());
    BOOST_TEST(!parse_error_body("<Error><Code>NoSuchKey</Code>").has_value());  // truncated
    BOOST_TEST(!parse_error_body("not xml at all").has_value());
    // IAM / STS shape (wrapped): not what S3 sends.
    BOOST_TEST(!parse_error_body("<ErrorResponse><Error><Code>InvalidClientTokenId</Code></Error></ErrorResponse>")
                    .has_value());
}

BOOST_AUTO_TEST_CASE(initiate_multipart_upload_from_aws_and_rgw)
{
    const auto aws = parse_initiate_multipart_upload(R"(<?xml version="1.0" encoding="UTF-8"?>
<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>example-bucket</Bucket>
  <Key>example-object</Key>
  <UploadId>VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA</UploadId>
</InitiateMultipartUploadResult>)");
    BOOST_TEST_REQUIRE(aws.has_value());
    BOOST_TEST(*aws == "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA");

    const auto rgw = parse_initiate_multipart_upload(
        R"(<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">)"
        R"(<Tenant></Tenant><Bucket>ci</Bucket><Key>npm.tar.lz4</Key><UploadId>2~qB7bJ3fB5u0nqZ2-aAbBcCdDeEfF0123</UploadId>)"
        R"(</InitiateMultipartUploadResult>)");
    BOOST_TEST_REQUIRE(rgw.has_value());
    BOOST_TEST(*rgw == "2~qB7bJ3fB5u0nqZ2-aAbBcCdDeEfF0123");

    // A UTF-8 byte order mark, a comment and a processing instruction around the root are all XML.
    const auto decorated = parse_initiate_multipart_upload(
        "\xEF\xBB\xBF<?xml version=\"1.0\"?><!-- generated --><InitiateMultipartUploadResult><UploadId>u-1"
        "</UploadId></InitiateMultipartUploadResult><?proxy seen?>\n");
    BOOST_TEST_REQUIRE(decorated.has_value());
    BOOST_TEST(*decorated == "u-1");
}

BOOST_AUTO_TEST_CASE(initiate_multipart_upload_refusals)
{
    check_refuses_garbage(parse_initiate_multipart_upload, "InitiateMultipartUploadResult");
    check_bad(parse_initiate_multipart_upload("<CompleteMultipartUploadResult/>"),
              "expected <InitiateMultipartUploadResult>, got <CompleteMultipartUploadResult>");
    check_bad(parse_initiate_multipart_upload("<InitiateMultipartUploadResult><Key>k</Key>"
                                              "</InitiateMultipartUploadResult>"),
              "missing <UploadId>");
    check_bad(parse_initiate_multipart_upload("<InitiateMultipartUploadResult><UploadId></UploadId>"
                                              "</InitiateMultipartUploadResult>"),
              "<UploadId> is empty");
    check_bad(parse_initiate_multipart_upload("<InitiateMultipartUploadResult><UploadId>a</UploadId><UploadId>b"
                                              "</UploadId></InitiateMultipartUploadResult>"),
              "<UploadId> appears more than once");
    check_error_root(parse_initiate_multipart_upload(error_in_200));
}

BOOST_AUTO_TEST_CASE(complete_multipart_upload_success_and_the_error_inside_a_200)
{
    const auto ok = parse_complete_multipart_upload(R"(
    <?xml version="1.0" encoding="UTF-8"?>
<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Location>https://example-bucket.s3.us-east-1.amazonaws.com/Example-Object</Location>
  <Bucket>Example-Bucket</Bucket>
  <Key>Example-Object</Key>
  <ETag>"3858f62230ac3c915f300c664312c11f-9"</ETag>
</CompleteMultipartUploadResult>)");
    BOOST_TEST_REQUIRE(ok.has_value());
    BOOST_TEST(ok->etag == "\"3858f62230ac3c915f300c664312c11f-9\"");
    BOOST_TEST(ok->location == "https://example-bucket.s3.us-east-1.amazonaws.com/Example-Object");

    // RGW escapes the quotes of the ETag; no Location is fine.
    const auto rgw = parse_complete_multipart_upload(
        "<CompleteMultipartUploadResult><Bucket>ci</Bucket><Key>k</Key>"
        "<ETag>&quot;0f343b0931126a20f133d67c2b018a3b-2&quot;</ETag></CompleteMultipartUploadResult>");
    BOOST_TEST_REQUIRE(rgw.has_value());
    BOOST_TEST(rgw->etag == "\"0f343b0931126a20f133d67c2b018a3b-2\"");
    BOOST_TEST(rgw->location.empty());

    // moto 5.2 calls the root CompleteMultipartUploadResponse (seen in the fault tests against moto_server).
    const auto moto = parse_complete_multipart_upload(
        "<CompleteMultipartUploadResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket>"
        "<Key>k</Key><ETag>\"e-4\"</ETag></CompleteMultipartUploadResponse>");
    BOOST_TEST_REQUIRE(moto.has_value());
    BOOST_TEST(moto->etag == "\"e-4\"");

    check_error_root(parse_complete_multipart_upload(error_in_200));
}

BOOST_AUTO_TEST_CASE(complete_multipart_upload_refusals)
{
    check_refuses_garbage(parse_complete_multipart_upload, "CompleteMultipartUploadResult");
    check_bad(parse_complete_multipart_upload("<InitiateMultipartUploadResult><UploadId>x</UploadId>"
                                              "</InitiateMultipartUploadResult>"),
              "expected <CompleteMultipartUploadResult>");
    // RGW 16's first answer: <ETag></ETag>. Complete all the same.
    const auto rgw_empty = parse_complete_multipart_upload(
        "<CompleteMultipartUploadResult><Location>http://h/b/k</Location><Bucket>b</Bucket><Key>k</Key>"
        "<ETag></ETag></CompleteMultipartUploadResult>");
    BOOST_TEST_REQUIRE(rgw_empty.has_value());
    BOOST_TEST(rgw_empty->etag.empty());
}

BOOST_AUTO_TEST_CASE(list_objects_v2_aws_examples)
{
    const auto page = parse_list_objects_v2(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>example-bucket</Name>
  <Prefix></Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>3</KeyCount>
  <MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>happyface.jpg</Key>
    <LastModified>2014-11-21T19:40:05.000Z</LastModified>
    <ETag>"70ee1738b6b21e2c8a43f3a5ab0eee71"</ETag>
    <Size>11</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <Contents>
    <Key>sample.jpg</Key>
    <LastModified>2011-02-26T01:56:20.000Z</LastModified>
    <ETag>"bf1d737a4d46a19f3bced6905cc8b902"</ETag>
    <Size>142863</Size>
    <StorageClass>STANDARD</StorageClass>
  </Contents>
  <CommonPrefixes>
    <Prefix>photos/</Prefix>
  </CommonPrefixes>
</ListBucketResult>)");
    BOOST_TEST_REQUIRE(page.has_value());
    BOOST_TEST(page->is_truncated);
    BOOST_TEST(page->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    BOOST_TEST_REQUIRE(page->objects.size() == 2u);
    BOOST_TEST(page->objects[0].key == "happyface.jpg");
    BOOST_TEST(page->objects[0].size == 11u);
    BOOST_TEST(page->objects[0].etag == "\"70ee1738b6b21e2c8a43f3a5ab0eee71\"");
    BOOST_TEST((page->objects[0].last_modified == utc(2014, 11, 21, 19, 40, 5)));
    BOOST_TEST(page->objects[0].storage_class == "STANDARD");
    BOOST_TEST(page->objects[1].key == "sample.jpg");
    BOOST_TEST(page->objects[1].size == 142863u);
    BOOST_TEST((page->objects[1].last_modified == utc(2011, 2, 26, 1, 56, 20)));
    BOOST_TEST(page->common_prefixes == std::vector<std::string>{"photos/"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(list_objects_v2_from_rgw_and_s3rver)
{
    // RGW: one line, escaped ETag quotes, milliseconds, its own <Type> element.
    const auto rgw = parse_list_objects_v2(listing(
        "<Name>ci</Name><Prefix>npm/</Prefix><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated><Contents>"
        "<Key>npm/cache.tar.lz4</Key><LastModified>2024-01-12T10:00:00.123Z</LastModified>"
        "<ETag>&quot;9b2cf535f27731c974343645a3985328-3&quot;</ETag><Size>26214400</Size>"
        "<StorageClass>STANDARD</StorageClass><Owner><ID>ci</ID><DisplayName>ci</DisplayName></Owner>"
        "<Type>Normal</Type></Contents><Marker></Marker><KeyCount>1</KeyCount>"));
    BOOST_TEST_REQUIRE(rgw.has_value());
    BOOST_TEST(!rgw->is_truncated);
    BOOST_TEST_REQUIRE(rgw->objects.size() == 1u);
    BOOST_TEST(rgw->objects[0].key == "npm/cache.tar.lz4");
    BOOST_TEST(rgw->objects[0].size == 26214400u);
    BOOST_TEST(rgw->objects[0].etag == "\"9b2cf535f27731c974343645a3985328-3\"");
    BOOST_TEST((rgw->objects[0].last_modified == utc(2024, 1, 12, 10, 0, 0)));

    // s3rver: a wrong namespace, no EncodingType even when asked, no StorageClass on a prefix listing.
    const auto s3rver = parse_list_objects_v2(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult xmlns=\"http://doc.s3.amazonaws.com/2006-03-01/\">"
        "<Name>ci</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false"
        "</IsTruncated><Contents><Key>a b+c.txt</Key><LastModified>2024-03-05T08:09:10.456Z</LastModified>"
        "<ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag><Size>0</Size></Contents></ListBucketResult>");
    BOOST_TEST_REQUIRE(s3rver.has_value());
    BOOST_TEST_REQUIRE(s3rver->objects.size() == 1u);
    BOOST_TEST(s3rver->objects[0].key == "a b+c.txt");  // not decoded: no EncodingType
    BOOST_TEST(s3rver->objects[0].size == 0u);
    BOOST_TEST(s3rver->objects[0].storage_class.empty());
}

BOOST_AUTO_TEST_CASE(list_objects_v2_url_encoding_decodes_keys_and_prefixes_only)
{
    // As AWS answers encoding-type=url: space is '+', '+' is %2B; the token is left alone.
    const auto page = parse_list_objects_v2(listing(
        "<EncodingType>url</EncodingType><Prefix>run+books%2F</Prefix><IsTruncated>true</IsTruncated>"
        "<NextContinuationToken>1+Abc/def%3D=</NextContinuationToken>"
        "<Contents><Key>a+b.txt</Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>1</Size></Contents>"
        "<Contents><Key>a%2Bb.txt</Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>2</Size></Contents>"
        "<Contents><Key>100%25.csv</Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>3</Size></Contents>"
        "<Contents><Key>%ED%95%9C%EA%B8%80/%01%0D.txt</Key><LastModified>2026-01-02T03:04:05Z</LastModified>"
        "<Size>4</Size></Contents><CommonPrefixes><Prefix>run+books/</Prefix></CommonPrefixes>"));
    BOOST_TEST_REQUIRE(page.has_value());
    BOOST_TEST_REQUIRE(page->objects.size() == 4u);
    BOOST_TEST(page->objects[0].key == "a b.txt");
    BOOST_TEST(page->objects[1].key == "a+b.txt");
    BOOST_TEST(page->objects[2].key == "100%.csv");
    BOOST_TEST(page->objects[3].key == "\xED\x95\x9C\xEA\xB8\x80/\x01\r.txt");  // what XML could not carry
    BOOST_TEST(page->common_prefixes == std::vector<std::string>{"run books/"}, boost::test_tools::per_element());
    BOOST_TEST(page->next_continuation_token == "1+Abc/def%3D=");

    check_bad(parse_list_objects_v2(listing("<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
                                            "<Contents><Key>a%G1</Key><LastModified>2026-01-02T03:04:05Z"
                                            "</LastModified><Size>1</Size></Contents>")),
              "<Key> \"a%G1\" is not valid URL encoding");
    check_bad(parse_list_objects_v2(listing("<EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>"
                                            "<CommonPrefixes><Prefix>x%2</Prefix></CommonPrefixes>")),
              "<CommonPrefixes> #1: <Prefix> \"x%2\" is not valid URL encoding");
    check_bad(parse_list_objects_v2(listing("<EncodingType>base64</EncodingType><IsTruncated>false</IsTruncated>")),
              "unknown <EncodingType> \"base64\"");
}

BOOST_AUTO_TEST_CASE(list_objects_v2_keeps_key_text_exactly)
{
    const auto page = parse_list_objects_v2(listing(
        "<IsTruncated>\n  false\n</IsTruncated>"
        "<Contents><Key> spaced </Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>\n 7 \n</Size>"
        "</Contents><Contents><Key> </Key><LastModified>2026-01-02T03:04:05Z</LastModified><Size>18446744073709551615"
        "</Size></Contents><Contents><Key>a&amp;b&lt;c&gt;d\"e'f&#x1F600;</Key><LastModified>2026-01-02T03:04:05Z"
        "</LastModified><Size>1</Size></Contents><Contents><Key>x<![CDATA[<&>]]>y</Key>"
        "<LastModified>2026-01-02T03:04:05Z</LastModified><Size>1</Size></Contents>"));
    BOOST_TEST_REQUIRE(page.has_value());
    BOOST_TEST_REQUIRE(page->objects.size() == 4u);
    BOOST_TEST(page->objects[0].key == " spaced ");
    BOOST_TEST(page->objects[0].size == 7u);
    BOOST_TEST(page->objects[1].key == " ");
    BOOST_TEST(page->objects[1].size == 18446744073709551615u);
    BOOST_TEST(page->objects[2].key == "a&b<c>d\"e'f\xF0\x9F\x98\x80");
    BOOST_TEST(page->objects[3].key == "x<&>y");
}

BOOST_AUTO_TEST_CASE(list_objects_v2_refusals)
{
    check_refuses_garbage(parse_list_objects_v2, "ListBucketResult");
    check_bad(parse_list_objects_v2("<ListAllMyBucketsResult/>"), "expected <ListBucketResult>");
    check_bad(parse_list_objects_v2(listing("<Name>b</Name>")), "missing <IsTruncated>");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>yes</IsTruncated>")), "<IsTruncated> \"yes\" is not true");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>true</IsTruncated>")),
              "truncated, but no <NextContinuationToken>");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>false</IsTruncated><Contents><Size>1</Size>"
                                            "<LastModified>2026-01-02T03:04:05Z</LastModified></Contents>")),
              "<Contents> #1: missing <Key>");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>false</IsTruncated><Contents><Key>k</Key>"
                                            "<LastModified>2026-01-02T03:04:05Z</LastModified></Contents>")),
              "missing <Size>");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>1</Size>"
                                            "</Contents>")),
              "missing <LastModified>");
    check_bad(parse_list_objects_v2(one_object("12abc")), "<Size> \"12abc\" is not an unsigned 64-bit number");
    check_bad(parse_list_objects_v2(one_object("-1")), "<Size> \"-1\"");
    check_bad(parse_list_objects_v2(one_object("+1")), "<Size> \"+1\"");
    check_bad(parse_list_objects_v2(one_object("1 2")), "<Size> \"1 2\"");
    check_bad(parse_list_objects_v2(one_object("18446744073709551616")), "<Size> \"18446744073709551616\"");
    check_bad(parse_list_objects_v2(one_object("")), "<Size> is empty");
    check_bad(parse_list_objects_v2(one_object("1", "Mon, 12 Oct 2009 17:50:30 GMT")),
              "<LastModified> \"Mon, 12 Oct 2009 17:50:30 GMT\" is not an ISO 8601 timestamp");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>false</IsTruncated><Contents><Key>a</Key><Key>b</Key>"
                                            "<Size>1</Size><LastModified>2026-01-02T03:04:05Z</LastModified>"
                                            "</Contents>")),
              "<Key> appears more than once");
    check_bad(parse_list_objects_v2(listing("<IsTruncated>false</IsTruncated><CommonPrefixes/>")),
              "<CommonPrefixes> #1: missing <Prefix>");
    check_error_root(parse_list_objects_v2(error_in_200));
}

BOOST_AUTO_TEST_CASE(list_multipart_uploads_aws_example_and_moto)
{
    const auto aws = parse_list_multipart_uploads(R"(<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>bucket</Bucket>
  <KeyMarker></KeyMarker>
  <UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>my-movie.m2ts</NextKeyMarker>
  <NextUploadIdMarker>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</NextUploadIdMarker>
  <MaxUploads>3</MaxUploads>
  <IsTruncated>true</IsTruncated>
  <Upload>
    <Key>my-divisor</Key>
    <UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>
    <Initiator>
      <ID>arn:aws:iam::111122223333:user/user1-11111a31-17b5-4fb7-9df5-b111111f13de</ID>
      <DisplayName>user1-11111a31-17b5-4fb7-9df5-b111111f13de</DisplayName>
    </Initiator>
    <Owner>
      <ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID>
      <DisplayName>OwnerDisplayName</DisplayName>
    </Owner>
    <StorageClass>REDUCED_REDUNDANCY</StorageClass>
    <Initiated>2010-11-10T20:48:33.000Z</Initiated>
  </Upload>
  <Upload>
    <Key>my-movie.m2ts</Key>
    <UploadId>YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ</UploadId>
    <StorageClass>STANDARD</StorageClass>
    <Initiated>2010-11-10T20:49:33.000Z</Initiated>
  </Upload>
</ListMultipartUploadsResult>)");
    BOOST_TEST_REQUIRE(aws.has_value());
    BOOST_TEST(aws->is_truncated);
    BOOST_TEST(aws->next_key_marker == "my-movie.m2ts");
    BOOST_TEST(aws->next_upload_id_marker == "YW55IGlkZWEgd2h5IGVsdmluZydzIHVwbG9hZCBmYWlsZWQ");
    BOOST_TEST_REQUIRE(aws->uploads.size() == 2u);
    BOOST_TEST(aws->uploads[0].key == "my-divisor");
    BOOST_TEST(aws->uploads[0].upload_id == "XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw");
    BOOST_TEST((aws->uploads[0].initiated == utc(2010, 11, 10, 20, 48, 33)));
    BOOST_TEST(aws->uploads[1].key == "my-movie.m2ts");
    BOOST_TEST((aws->uploads[1].initiated == utc(2010, 11, 10, 20, 49, 33)));

    // moto, with encoding-type=url: Key and NextKeyMarker decoded, the upload id marker not.
    const auto moto = parse_list_multipart_uploads(
        "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n  <Bucket>ci</Bucket>\n"
        "  <EncodingType>url</EncodingType>\n  <IsTruncated>false</IsTruncated>\n  <NextKeyMarker>cache%2Fnode+"
        "modules.tar</NextKeyMarker>\n  <NextUploadIdMarker>a+b%2F</NextUploadIdMarker>\n  <Upload>\n    <Key>"
        "cache/node+modules.tar</Key>\n    <UploadId>Gr0jkGQpmsE4ccJjWLvsDrqPe1TNcZLF1XtLRWvn8Ec6jGPVvmRM</UploadId>\n"
        "    <Initiated>2024-05-06T07:08:09.000Z</Initiated>\n  </Upload>\n</ListMultipartUploadsResult>\n");
    BOOST_TEST_REQUIRE(moto.has_value());
    BOOST_TEST(!moto->is_truncated);
    BOOST_TEST(moto->next_key_marker == "cache/node modules.tar");
    BOOST_TEST(moto->next_upload_id_marker == "a+b%2F");
    BOOST_TEST_REQUIRE(moto->uploads.size() == 1u);
    BOOST_TEST(moto->uploads[0].key == "cache/node modules.tar");
    BOOST_TEST(moto->uploads[0].upload_id == "Gr0jkGQpmsE4ccJjWLvsDrqPe1TNcZLF1XtLRWvn8Ec6jGPVvmRM");

    const auto none = parse_list_multipart_uploads("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                                                    "</ListMultipartUploadsResult>");
    BOOST_TEST_REQUIRE(none.has_value());
    BOOST_TEST(none->uploads.empty());
}

BOOST_AUTO_TEST_CASE(list_multipart_uploads_refusals)
{
    const auto uploads = [](const std::string& inside) {
        return "<ListMultipartUploadsResult>" + inside + "</ListMultipartUploadsResult>";
    };
    const auto one = [&](const std::string& upload) {
        return uploads("<IsTruncated>false</IsTruncated><Upload>" + upload + "</Upload>");
    };
    check_refuses_garbage(parse_list_multipart_uploads, "ListMultipartUploadsResult");
    check_bad(parse_list_multipart_uploads("<ListBucketResult/>"), "expected <ListMultipartUploadsResult>");
    check_bad(parse_list_multipart_uploads(uploads("<Bucket>b</Bucket>")), "missing <IsTruncated>");
    check_bad(parse_list_multipart_uploads(uploads("<IsTruncated>TRUE</IsTruncated>")), "\"TRUE\" is not true");
    check_bad(parse_list_multipart_uploads(uploads("<IsTruncated>1</IsTruncated><NextKeyMarker></NextKeyMarker>")),
              "truncated, but no <NextKeyMarker> or <NextUploadIdMarker>");
    check_bad(parse_list_multipart_uploads(one("<UploadId>u</UploadId><Initiated>2010-11-10T20:48:33Z</Initiated>")),
              "<Upload> #1: missing <Key>");
    check_bad(parse_list_multipart_uploads(one("<Key>k</Key><Initiated>2010-11-10T20:48:33Z</Initiated>")),
              "missing <UploadId>");
    check_bad(parse_list_multipart_uploads(one("<Key>k</Key><UploadId>u</UploadId>")), "missing <Initiated>");
    check_bad(parse_list_multipart_uploads(one("<Key>k</Key><UploadId>u</UploadId><Initiated>1289422113</Initiated>")),
              "<Initiated> \"1289422113\" is not an ISO 8601 timestamp");
    check_error_root(parse_list_multipart_uploads(error_in_200));
}

BOOST_AUTO_TEST_CASE(delete_objects_results)
{
    const auto aws = parse_delete_objects(R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Deleted>
    <Key>sample1.txt</Key>
  </Deleted>
  <Error>
    <Key>sample2.txt</Key>
    <Code>AccessDenied</Code>
    <Message>Access Denied</Message>
  </Error>
</DeleteResult>)");
    BOOST_TEST_REQUIRE(aws.has_value());
    BOOST_TEST(aws->deleted == std::vector<std::string>{"sample1.txt"}, boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(aws->errors.size() == 1u);
    BOOST_TEST(aws->errors[0].first == "sample2.txt");
    BOOST_TEST(aws->errors[0].second.code == "AccessDenied");
    BOOST_TEST(aws->errors[0].second.message == "Access Denied");

    // moto, versioned bucket: extra elements in <Deleted>; an error without a message.
    const auto moto = parse_delete_objects(
        "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n<Deleted>\n<Key>a &amp; b</Key>\n"
        "<VersionId>null</VersionId>\n<DeleteMarker>true</DeleteMarker></Deleted>\n<Deleted><Key>c</Key></Deleted>"
        "<Error><Key>d</Key><Code>InternalError</Code></Error>\n</DeleteResult>");
    BOOST_TEST_REQUIRE(moto.has_value());
    BOOST_TEST(moto->deleted == (std::vector<std::string>{"a & b", "c"}), boost::test_tools::per_element());
    BOOST_TEST_REQUIRE(moto->errors.size() == 1u);
    BOOST_TEST(moto->errors[0].second.code == "InternalError");
    BOOST_TEST(moto->errors[0].second.message.empty());

    const auto quiet_all_deleted = parse_delete_objects("<DeleteResult/>");  // Quiet mode, nothing failed
    BOOST_TEST_REQUIRE(quiet_all_deleted.has_value());
    BOOST_TEST(quiet_all_deleted->deleted.empty());
    BOOST_TEST(quiet_all_deleted->errors.empty());
}

BOOST_AUTO_TEST_CASE(delete_objects_refusals)
{
    check_refuses_garbage(parse_delete_objects, "DeleteResult");
    check_bad(parse_delete_objects("<Delete><Object><Key>k</Key></Object></Delete>"), "expected <DeleteResult>");
    check_bad(parse_delete_objects("<DeleteResult><Deleted><VersionId>1</VersionId></Deleted></DeleteResult>"),
              "<Deleted> #1: missing <Key>");
    check_bad(parse_delete_objects("<DeleteResult><Error><Key>k</Key><Message>m</Message></Error></DeleteResult>"),
              "<Error> #1: missing <Code>");
    check_bad(parse_delete_objects("<DeleteResult><Error><Code>AccessDenied</Code></Error></DeleteResult>"),
              "missing <Key>");
    check_error_root(parse_delete_objects(error_in_200));
}

BOOST_AUTO_TEST_CASE(iso8601_timestamps)
{
    BOOST_TEST((parse_iso8601_timestamp("2009-10-12T17:50:30.000Z") == utc(2009, 10, 12, 17, 50, 30)));
    BOOST_TEST((parse_iso8601_timestamp("2009-10-12T17:50:30Z") == utc(2009, 10, 12, 17, 50, 30)));
    BOOST_TEST((parse_iso8601_timestamp("2009-10-12T17:50:30.999999999Z") == utc(2009, 10, 12, 17, 50, 30)));
    BOOST_TEST((parse_iso8601_timestamp("2024-02-29t23:59:59z") == utc(2024, 2, 29, 23, 59, 59)));
    BOOST_TEST((parse_iso8601_timestamp("2009-10-12T19:50:30+02:00") == utc(2009, 10, 12, 17, 50, 30)));
    BOOST_TEST((parse_iso8601_timestamp("2009-10-11T22:20:30.5-05:30") == utc(2009, 10, 12, 3, 50, 30)));
    for (const char* bad : {"", "2009-10-12", "2009-10-12T17:50:30", "2009-10-12T17:50:30.Z", "2009-10-12 17:50:30Z",
                            "2023-02-29T00:00:00Z", "2009-13-01T00:00:00Z", "2009-10-12T24:00:00Z",
                            "2009-10-12T17:60:00Z", "2009-10-12T17:50:60Z", "2009-10-12T17:50:30+0200",
                            "2009-10-12T17:50:30ZZ", "20091012T175030Z", "2009-1O-12T17:50:30Z", "-009-10-12T17:50:30Z"})
        BOOST_TEST(!parse_iso8601_timestamp(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(complete_multipart_upload_body)
{
    const std::vector<completed_part> parts{{1, "\"a54357aff0632cce46d942af68356b38\"", ""},
                                            {2, "\"0c78aef83f66abc1fa1e8477f296d394\"", "ZPe5Ng=="},
                                            {3, "<&>", ""}};
    BOOST_TEST(build_complete_multipart_upload(parts) ==
               "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
               "<Part><PartNumber>1</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
               "<Part><PartNumber>2</PartNumber><ETag>\"0c78aef83f66abc1fa1e8477f296d394\"</ETag>"
               "<ChecksumCRC32C>ZPe5Ng==</ChecksumCRC32C></Part>"
               "<Part><PartNumber>3</PartNumber><ETag>&lt;&amp;&gt;</ETag></Part>"
               "</CompleteMultipartUpload>");
}

BOOST_AUTO_TEST_CASE(delete_objects_body_and_round_trip)
{
    const std::vector<std::string> simple{"cache/a.tar", "cache/b.tar"};
    const auto loud = build_delete_objects(simple, false);
    BOOST_TEST_REQUIRE(loud.has_value());
    BOOST_TEST(*loud == "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Object><Key>cache/a.tar</Key>"
                        "</Object><Object><Key>cache/b.tar</Key></Object></Delete>");
    const auto quiet = build_delete_objects(simple, true);
    BOOST_TEST_REQUIRE(quiet.has_value());
    BOOST_TEST(quiet->starts_with("<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
                                  "<Object><Key>cache/a.tar</Key></Object>"));

    // Whatever XML can carry comes back byte for byte from a real parser, CR included.
    const std::vector<std::string> hard{"a&b<c>d\"e'f", " lead and trail ", " ", "tab\there\nnew\r\nline\r",
                                        "\xED\x95\x9C\xEA\xB8\x80/\xF0\x9F\x98\x80", "]]>", "\xC2\x85\x7F"};
    const auto body = build_delete_objects(hard, true);
    BOOST_TEST_REQUIRE(body.has_value());
    pugi::xml_document doc;
    BOOST_TEST_REQUIRE(static_cast<bool>(doc.load_string(body->c_str(), pugi::parse_default | pugi::parse_ws_pcdata_single)));
    std::vector<std::string> back;
    for (const auto object : doc.child("Delete").children("Object")) back.emplace_back(object.child_value("Key"));
    BOOST_TEST(back == hard, boost::test_tools::per_element());
    BOOST_TEST(std::string(doc.child("Delete").child_value("Quiet")) == "true");
}

BOOST_AUTO_TEST_CASE(delete_objects_body_refuses_what_xml_cannot_carry)
{
    const auto refused = [](std::vector<std::string> keys, const std::string& needle) {
        const auto r = build_delete_objects(keys, false);
        BOOST_TEST_REQUIRE(r.has_error());
        BOOST_TEST(r.error().code == make_error_code(engine_errc::invalid_argument));
        BOOST_TEST(r.error().message.find(needle) != std::string::npos, r.error().message);
    };
    refused({"ok", "bell\x07key"}, "cannot carry key \"bell\\x07key\": character U+0007 at byte 4");
    refused({std::string("nul\0key", 7)}, "U+0000 at byte 3");
    refused({"\xEF\xBF\xBE"}, "U+FFFE");
    refused({"bad\xFFutf8"}, "invalid UTF-8 at byte 3");
    refused({"cut\xE2\x82"}, "invalid UTF-8 at byte 3");
    refused({"\xC0\xAF"}, "overlong");
    refused({"\xED\xA0\x80"}, "surrogate");
    refused({"\xF4\x90\x80\x80"}, "U+110000");
    refused({"a", ""}, "an empty key");
    refused({}, "at least one key");
    refused(std::vector<std::string>(1001, "k"), "at most 1000 keys, got 1001");
    BOOST_TEST(build_delete_objects(std::vector<std::string>(1000, "k"), true).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
