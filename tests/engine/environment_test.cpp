// AWS_* environment variables fill what the caller left unset (engine/src/environment.cpp).
#include <cachestep/engine/environment.hpp>

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

using namespace cachestep::engine;

namespace {

getenv_function fake_env(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_environment)

BOOST_AUTO_TEST_CASE(fills_unset_fields)
{
    client_config cfg;
    apply_environment(cfg, fake_env({{"AWS_ACCESS_KEY_ID", "AKID"},
                                     {"AWS_SECRET_ACCESS_KEY", "SECRET"},
                                     {"AWS_SESSION_TOKEN", "TOKEN"},
                                     {"AWS_DEFAULT_REGION", "eu-west-1"},
                                     {"AWS_ENDPOINT_URL", "http://127.0.0.1:9000"},
                                     {"AWS_CA_BUNDLE", "/etc/ca.pem"}}));
    BOOST_TEST(cfg.credentials.access_key_id == "AKID");
    BOOST_TEST(cfg.credentials.secret_access_key == "SECRET");
    BOOST_TEST(cfg.credentials.session_token == "TOKEN");
    BOOST_TEST(cfg.endpoint.region == "eu-west-1");
    BOOST_TEST(cfg.endpoint.url == "http://127.0.0.1:9000");
    BOOST_TEST(cfg.tls.ca_bundle == "/etc/ca.pem");
}

BOOST_AUTO_TEST_CASE(explicit_settings_win_and_precedence_holds)
{
    client_config cfg;
    cfg.credentials = {"GIVEN", "GIVEN-SECRET", ""};
    cfg.endpoint.url = "https://given";
    apply_environment(cfg, fake_env({{"AWS_ACCESS_KEY_ID", "ENV"},
                                     {"AWS_SECRET_ACCESS_KEY", "ENV-SECRET"},
                                     {"AWS_SESSION_TOKEN", "ENV-TOKEN"},
                                     {"AWS_REGION", "us-west-2"},
                                     {"AWS_DEFAULT_REGION", "eu-west-1"},
                                     {"AWS_ENDPOINT_URL_S3", "http://s3-specific"}}));
    BOOST_TEST(cfg.credentials.access_key_id == "GIVEN");
    BOOST_TEST(cfg.credentials.session_token == "");  // never mixed with given keys
    BOOST_TEST(cfg.endpoint.url == "https://given");
    BOOST_TEST(cfg.endpoint.region == "us-west-2");  // AWS_REGION before AWS_DEFAULT_REGION

    client_config other;
    apply_environment(other, fake_env({{"AWS_ENDPOINT_URL_S3", "http://s3-specific"}, {"AWS_ENDPOINT_URL", "http://generic"}}));
    BOOST_TEST(other.endpoint.url == "http://s3-specific");
}

BOOST_AUTO_TEST_CASE(empty_variables_count_as_unset)
{
    client_config cfg;
    apply_environment(cfg, fake_env({{"AWS_REGION", ""}, {"AWS_DEFAULT_REGION", "ap-south-1"}}));
    BOOST_TEST(cfg.endpoint.region == "ap-south-1");
    BOOST_TEST(cfg.credentials.access_key_id.empty());
}

BOOST_AUTO_TEST_SUITE_END()
