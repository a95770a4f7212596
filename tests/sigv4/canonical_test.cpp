// Canonicalisation rules, one function at a time (sigv4/src/canonical.cpp).
#include <cachestep/sigv4/canonical.hpp>

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

using namespace cachestep::sigv4;

BOOST_AUTO_TEST_SUITE(sigv4_canonical)

BOOST_AUTO_TEST_CASE(uri_encode_keeps_only_unreserved)
{
    BOOST_TEST(uri_encode("AZaz09-_.~", false) == "AZaz09-_.~");
    BOOST_TEST(uri_encode("a b+c=d&e/f", false) == "a%20b%2Bc%3Dd%26e%2Ff");
    BOOST_TEST(uri_encode("a b+c=d&e/f", true) == "a%20b%2Bc%3Dd%26e/f");
    BOOST_TEST(uri_encode("\xE1\x88\xB4", false) == "%E1%88%B4");  // upper-case hex, byte by byte
    BOOST_TEST(uri_encode("%2F", false) == "%252F");
    BOOST_TEST(uri_encode(std::string("\0x", 2), false) == "%00x");
}

BOOST_AUTO_TEST_CASE(percent_decode_is_lenient_and_keeps_plus)
{
    BOOST_TEST(percent_decode("a%20b%2fc") == "a b/c");
    BOOST_TEST(percent_decode("a+b") == "a+b");  // '+' is not a space in SigV4
    BOOST_TEST(percent_decode("100%") == "100%");
    BOOST_TEST(percent_decode("%zz%4") == "%zz%4");
    BOOST_TEST(percent_decode("%E1%88%B4") == "\xE1\x88\xB4");
}

BOOST_AUTO_TEST_CASE(normalize_path_removes_dot_segments_and_empty_segments)
{
    BOOST_TEST(normalize_path("") == "/");
    BOOST_TEST(normalize_path("/") == "/");
    BOOST_TEST(normalize_path("//") == "/");
    BOOST_TEST(normalize_path("/./") == "/");
    BOOST_TEST(normalize_path("/example/..") == "/");
    BOOST_TEST(normalize_path("/example1/example2/../..") == "/");
    BOOST_TEST(normalize_path("/./example") == "/example");
    BOOST_TEST(normalize_path("//example//") == "/example/");
    BOOST_TEST(normalize_path("/a/b/../c") == "/a/c");
    BOOST_TEST(normalize_path("/a/b/..") == "/a/");
    BOOST_TEST(normalize_path("/../../a") == "/a");  // never above the root
    BOOST_TEST(normalize_path("/a/.b/..c") == "/a/.b/..c");
}

BOOST_AUTO_TEST_CASE(s3_path_is_kept_as_sent_and_encoded_once)
{
    const auto s3 = canonical_rules::s3();
    BOOST_TEST(canonical_path("/bucket/a//b/./c/../d", s3) == "/bucket/a//b/./c/../d");
    BOOST_TEST(canonical_path("/bucket/my%20key%2Bx", s3) == "/bucket/my%20key%2Bx");
    // Bytes that cannot travel raw are escaped; existing escapes are not escaped again.
    BOOST_TEST(canonical_path("/b/a b\xC3\xBC%41", s3) == "/b/a%20b%C3%BC%41");
    BOOST_TEST(canonical_path("/b/100%", s3) == "/b/100%25");
    BOOST_TEST(canonical_path("", s3) == "/");
}

BOOST_AUTO_TEST_CASE(generic_path_is_normalised_then_encoded_again)
{
    const auto generic = canonical_rules::generic();
    BOOST_TEST(canonical_path("/example space/", generic) == "/example%20space/");
    BOOST_TEST(canonical_path("/a%20b", generic) == "/a%2520b");
    BOOST_TEST(canonical_path("//a/./b/../c", generic) == "/a/c");
    BOOST_TEST(canonical_path("//a/./b", canonical_rules{false, true}) == "//a/./b");
}

BOOST_AUTO_TEST_CASE(parse_query_splits_and_decodes)
{
    const auto p = parse_query("uploads&partNumber=3&&x=%2F%20&empty=");
    BOOST_TEST_REQUIRE(p.size() == 4u);
    BOOST_TEST(p[0].name == "uploads");
    BOOST_TEST(p[0].value == "");
    BOOST_TEST(p[1].value == "3");
    BOOST_TEST(p[2].name == "x");
    BOOST_TEST(p[2].value == "/ ");
    BOOST_TEST(p[3].name == "empty");
    BOOST_TEST(parse_query("").empty());
}

BOOST_AUTO_TEST_CASE(canonical_query_sorts_by_encoded_name_then_value)
{
    BOOST_TEST(canonical_query(parse_query("uploads")) == "uploads=");
    BOOST_TEST(canonical_query(parse_query("b=2&a=2&a=1")) == "a=1&a=2&b=2");
    // Upper case sorts before lower case (byte order), and "%E1..." before letters.
    BOOST_TEST(canonical_query(parse_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1")) ==
               "%E1%88%B4=Value1&Param=Value2&Param-3=Value3");
    BOOST_TEST(canonical_query(parse_query("prefix=a/b c&list-type=2")) == "list-type=2&prefix=a%2Fb%20c");
    // Lower-case escapes and needless escapes come out canonical.
    BOOST_TEST(canonical_query(parse_query("k=%7e%2f")) == "k=~%2F");
    // Sorting happens on the encoded form: "a%20" (from "a ") sorts before "a-".
    BOOST_TEST(canonical_query({{"a-", "1"}, {"a ", "2"}}) == "a%20=2&a-=1");
}

BOOST_AUTO_TEST_CASE(header_values_are_trimmed_and_folded)
{
    BOOST_TEST(canonical_header_value("  value1 ") == "value1");
    BOOST_TEST(canonical_header_value("\"a   b \t c\"") == "\"a b c\"");
    BOOST_TEST(canonical_header_value("") == "");
}

BOOST_AUTO_TEST_CASE(headers_are_lower_cased_joined_sorted_and_filtered)
{
    const std::vector<header_field> headers = {
        {"Host", "example.amazonaws.com"}, {"My-Header1", "value4"}, {"X-Amz-Date", "20150830T123600Z"},
        {"my-header1", " value1 "},        {"User-Agent", "curl"},   {"Authorization", "old"},
        {"Expect", "100-continue"},       {"X-Amzn-Trace-Id", "t"}, {"Range", "bytes=0-9"},
    };
    const auto block = canonical_headers(headers);
    BOOST_TEST(block.lines ==
               "host:example.amazonaws.com\nmy-header1:value4,value1\nrange:bytes=0-9\nx-amz-date:20150830T123600Z\n");
    BOOST_TEST(block.signed_headers == "host;my-header1;range;x-amz-date");
}

BOOST_AUTO_TEST_SUITE_END()
