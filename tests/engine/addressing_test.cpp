// Endpoint URLs and request targets (engine/src/addressing.cpp).
#include "addressing.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::engine;
using namespace cachestep::engine::detail;

namespace {

endpoint ep_of(const std::string& url, const std::string& region = "")
{
    auto r = resolve_endpoint({url, region, addressing_style::automatic});
    BOOST_TEST_REQUIRE(r.has_value(), url);
    return *r;
}

std::string refusal(const std::string& url)
{
    auto r = resolve_endpoint({url, "", addressing_style::automatic});
    BOOST_TEST_REQUIRE(!r.has_value(), url);
    BOOST_TEST((r.error().code == engine_errc::invalid_argument));
    return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_addressing)

BOOST_AUTO_TEST_CASE(aws_regional_endpoints)
{
    const auto ep = ep_of("", "eu-west-1");
    BOOST_TEST(ep.host == "s3.eu-west-1.amazonaws.com");
    BOOST_TEST(ep.tls);
    BOOST_TEST(ep.port == 443);
    BOOST_TEST(ep.is_aws);
    BOOST_TEST(ep_of("", "").region == "us-east-1");
    BOOST_TEST(ep_of("", "cn-north-1").host == "s3.cn-north-1.amazonaws.com.cn");
}

BOOST_AUTO_TEST_CASE(custom_endpoints)
{
    const auto local = ep_of("http://127.0.0.1:9000");
    BOOST_TEST(!local.tls);
    BOOST_TEST(local.host == "127.0.0.1");
    BOOST_TEST(local.port == 9000);
    BOOST_TEST(!local.is_aws);
    BOOST_TEST(ep_of("https://minio.internal/").port == 443);
    BOOST_TEST(ep_of("http://[::1]:7480").host == "::1");
    BOOST_TEST(ep_of("https://s3.us-west-2.amazonaws.com").is_aws);
}

BOOST_AUTO_TEST_CASE(bad_endpoints_are_refused_with_a_reason)
{
    BOOST_TEST(refusal("127.0.0.1:9000").find("write http://127.0.0.1:9000 or https://") != std::string::npos);
    BOOST_TEST(refusal("localhost").find("has no scheme") != std::string::npos);
    BOOST_TEST(refusal("http://exa mple").find("not a valid URL") != std::string::npos);
    BOOST_TEST(refusal("ftp://host").find("scheme") != std::string::npos);
    BOOST_TEST(refusal("http://user:pw@host").find("user information") != std::string::npos);
    BOOST_TEST(refusal("http://host/bucket").find("must not have a path") != std::string::npos);
    BOOST_TEST(refusal("http://host?x=1").find("query") != std::string::npos);
    BOOST_TEST(refusal("http://host:0").find("invalid port") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(path_style_target_encodes_the_key_once)
{
    const auto t = make_target(ep_of("http://127.0.0.1:9000"), addressing_style::automatic, "cache",
                               "dir/a b+c=d&e~f/\xC3\xBC//x");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->connect_host == "127.0.0.1");
    BOOST_TEST(t->host_header == "127.0.0.1:9000");
    BOOST_TEST(t->path == "/cache/dir/a%20b%2Bc%3Dd%26e~f/%C3%BC//x");
    const auto bucket_only = make_target(ep_of("http://127.0.0.1:9000"), addressing_style::path, "cache", "");
    BOOST_TEST(bucket_only->path == "/cache");
}

BOOST_AUTO_TEST_CASE(virtual_hosted_on_aws_when_the_name_allows)
{
    const auto aws = ep_of("", "us-east-1");
    const auto t = make_target(aws, addressing_style::automatic, "my-cache", "npm/key");
    BOOST_TEST_REQUIRE(t.has_value());
    BOOST_TEST(t->connect_host == "my-cache.s3.us-east-1.amazonaws.com");
    BOOST_TEST(t->host_header == "my-cache.s3.us-east-1.amazonaws.com");
    BOOST_TEST(t->path == "/npm/key");
    // Dots break the wildcard certificate: automatic falls back to path style, forced virtual is refused.
    const auto dotted = make_target(aws, addressing_style::automatic, "my.cache", "k");
    BOOST_TEST(dotted->connect_host == "s3.us-east-1.amazonaws.com");
    BOOST_TEST(dotted->path == "/my.cache/k");
    BOOST_TEST(!make_target(aws, addressing_style::virtual_hosted, "my.cache", "k").has_value());
    BOOST_TEST(make_target(aws, addressing_style::path, "my-cache", "k")->path == "/my-cache/k");
    // Forced virtual-hosted on a custom endpoint (MinIO with a domain).
    const auto forced = make_target(ep_of("http://s3.local:9000"), addressing_style::virtual_hosted, "b1b", "k");
    BOOST_TEST(forced->host_header == "b1b.s3.local:9000");
}

BOOST_AUTO_TEST_CASE(bucket_name_rules)
{
    BOOST_TEST(is_virtual_host_compatible("abc", true));
    BOOST_TEST(!is_virtual_host_compatible("ab", true));
    BOOST_TEST(!is_virtual_host_compatible("Abc", true));
    BOOST_TEST(!is_virtual_host_compatible("a_bc", false));
    BOOST_TEST(is_virtual_host_compatible("a.bc", false));
    BOOST_TEST(!is_virtual_host_compatible("a.bc", true));
    BOOST_TEST(!is_virtual_host_compatible("-abc", false));
    BOOST_TEST(!is_virtual_host_compatible("a..bc", false));
}

BOOST_AUTO_TEST_CASE(bad_targets_are_refused)
{
    const auto ep = ep_of("http://127.0.0.1:9000");
    BOOST_TEST(!make_target(ep, addressing_style::path, "", "k").has_value());
    BOOST_TEST(!make_target(ep, addressing_style::path, "a/b", "k").has_value());
    BOOST_TEST(!make_target(ep, addressing_style::path, "b", std::string(1025, 'k')).has_value());
    BOOST_TEST(make_target(ep, addressing_style::path, "b", std::string(1024, 'k')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
