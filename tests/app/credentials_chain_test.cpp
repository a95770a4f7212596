// The provider chain's order and its refusals (apps/cache-step/credentials/credential_chain.cpp), with a fake
// environment and shared files in a scratch directory. Where a provider would call STS, the STS endpoint is
// a closed local port: the error then names the STS call the chain chose, which is what these tests check
// (the calls themselves are proven against moto in tests/integration/test_credentials.py).
#include "credential_chain.hpp"

#include "credentials_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::app::credentials;
using cachestep::app::credentials::testing::fake_env;
using cachestep::app::credentials::testing::scratch_dir;

namespace {

constexpr const char* closed_port = "http://127.0.0.1:1";

// An environment without instance metadata or real home files, plus the given variables.
getenv_function env_with(const scratch_dir& home, std::map<std::string, std::string> vars)
{
    vars.emplace("HOME", home.path());
    vars.emplace("AWS_EC2_METADATA_DISABLED", "true");
    return fake_env(std::move(vars));
}

chain_options options_with(getenv_function env)
{
    chain_options o;
    o.getenv = std::move(env);
    return o;
}

const std::string static_profile = "[ci]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n"
                                   "aws_session_token = profile-token\n"
                                   "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = default-secret\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(credentials_chain)

BOOST_AUTO_TEST_CASE(explicit_credentials_come_first)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    auto o = options_with(env_with(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}}));
    o.explicit_credentials = cachestep::sigv4::credentials{"AKIDFLAG", "flag-secret", ""};
    o.explicit_source = "PLUGIN_ACCESS_KEY";
    auto r = resolve_credentials(o);
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->credentials.access_key_id == "AKIDFLAG");
    BOOST_TEST(r->source == "PLUGIN_ACCESS_KEY");
    BOOST_TEST(!r->expiration.has_value());
}

BOOST_AUTO_TEST_CASE(environment_before_profiles)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    auto r = resolve_credentials(options_with(env_with(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                                             {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                                             {"AWS_SESSION_TOKEN", "env-token"},
                                                             {"AWS_PROFILE", "ci"}})));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->source == "environment");
    BOOST_TEST(r->credentials.secret_access_key == "env-secret");
    BOOST_TEST(r->credentials.session_token == "env-token");
}

BOOST_AUTO_TEST_CASE(half_a_key_pair_is_refused_without_quoting_it)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    auto r = resolve_credentials(options_with(env_with(home, {{"AWS_SECRET_ACCESS_KEY", "SUPERSECRET"}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");

    auto o = options_with(env_with(home, {}));
    o.explicit_credentials = cachestep::sigv4::credentials{"AKIDFLAG", "", ""};
    r = resolve_credentials(o);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "flags: an access key needs both its id and its secret");

    home.write(".aws/credentials", "[default]\naws_secret_access_key = SUPERSECRET\n");
    r = resolve_credentials(options_with(env_with(home, {})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS profile default has aws_secret_access_key but no aws_access_key_id");
    BOOST_TEST(r.error().to_string().find("SUPERSECRET") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_variables_count_as_unset)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    auto r = resolve_credentials(options_with(
        env_with(home, {{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}, {"AWS_PROFILE", ""}})));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->source == "profile default");
    BOOST_TEST(r->credentials.access_key_id == "AKIDDEFAULT");
}

BOOST_AUTO_TEST_CASE(named_profile_from_custom_files)
{
    scratch_dir dir;
    const auto credentials = dir.write("elsewhere/creds", static_profile);
    const auto config = dir.write("elsewhere/config", "[profile ci]\nregion = eu-north-1\n");
    auto env = env_with(dir, {{"AWS_PROFILE", "ci"},
                              {"AWS_SHARED_CREDENTIALS_FILE", credentials},
                              {"AWS_CONFIG_FILE", config}});
    auto r = resolve_credentials(options_with(env));
    BOOST_TEST_REQUIRE(r.has_value());
    BOOST_TEST(r->source == "profile ci");
    BOOST_TEST(r->credentials.access_key_id == "AKIDPROFILE");
    BOOST_TEST(r->credentials.session_token == "profile-token");
    auto region = resolve_region("", env);
    BOOST_TEST_REQUIRE(region.has_value());
    BOOST_TEST(*region == "eu-north-1");
}

BOOST_AUTO_TEST_CASE(a_named_profile_must_exist_the_default_need_not)
{
    scratch_dir home;
    auto r = resolve_credentials(options_with(env_with(home, {{"AWS_PROFILE", "nope"}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS profile \"nope\" not found in " + home.path() + "/.aws/credentials or " +
                                        home.path() + "/.aws/config");

    r = resolve_credentials(options_with(env_with(home, {})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message ==
               "no AWS credentials found (tried flags, environment (AWS_ACCESS_KEY_ID), web identity "
               "(AWS_WEB_IDENTITY_TOKEN_FILE), profile default; EC2 instance metadata is disabled)");
}

BOOST_AUTO_TEST_CASE(web_identity_token_file_must_be_readable)
{
    scratch_dir home;
    auto r = resolve_credentials(options_with(env_with(
        home, {{"AWS_WEB_IDENTITY_TOKEN_FILE", home.path() + "/x"}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS_WEB_IDENTITY_TOKEN_FILE " + home.path() + "/x: no such file");

    const auto empty = home.write("empty-token", "\n");
    r = resolve_credentials(options_with(
        env_with(home, {{"AWS_WEB_IDENTITY_TOKEN_FILE", empty}, {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS_WEB_IDENTITY_TOKEN_FILE " + empty + ": the file is empty");

    r = resolve_credentials(options_with(env_with(home, {{"AWS_WEB_IDENTITY_TOKEN_FILE", empty}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
}

BOOST_AUTO_TEST_CASE(web_identity_from_environment_before_profiles)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    const auto token = home.write("token", "eyJhbGciOi.SECRET-JWT.sig\n");
    auto r = resolve_credentials(options_with(env_with(home, {{"AWS_WEB_IDENTITY_TOKEN_FILE", token},
                                                             {"AWS_ROLE_ARN", "arn:aws:iam::1:role/web"},
                                                             {"AWS_ENDPOINT_URL_STS", closed_port}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "STS AssumeRoleWithWebIdentity arn:aws:iam::1:role/web");
    BOOST_TEST(r.error().to_string().find("SECRET-JWT") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(profile_roles_go_through_sts)
{
    scratch_dir home;
    home.write(".aws/credentials", static_profile);
    home.write(".aws/config", "[profile deploy]\nrole_arn = arn:aws:iam::1:role/deploy\nsource_profile = ci\n"
                              "external_id = e\nduration_seconds = 900\n"
                              "[profile web]\nrole_arn = arn:aws:iam::1:role/webp\nweb_identity_token_file = " +
                                  home.path() + "/missing-token\n"
                              "[profile loop-a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop-b\n"
                              "[profile loop-b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop-a\n"
                              "[profile self]\nrole_arn = arn:aws:iam::1:role/self\nsource_profile = self\n"
                              "aws_access_key_id = AKIDSELF\naws_secret_access_key = self-secret\n"
                              "[profile orphan]\nrole_arn = arn:aws:iam::1:role/o\n"
                              "[profile ecs]\nrole_arn = arn:aws:iam::1:role/o\ncredential_source = EcsContainer\n");
    const auto run = [&](const char* profile) {
        return resolve_credentials(options_with(
            env_with(home, {{"AWS_PROFILE", profile}, {"AWS_ENDPOINT_URL", closed_port}})));
    };
    auto r = run("deploy");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "STS AssumeRole arn:aws:iam::1:role/deploy");

    r = run("web");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message ==
               "web_identity_token_file of profile web: " + home.path() + "/missing-token: no such file");

    r = run("loop-a");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "AWS profile \"loop-a\": source_profile loop");

    r = run("self");  // its own source: its keys assume its role
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "STS AssumeRole arn:aws:iam::1:role/self");

    r = run("orphan");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message ==
               "AWS profile orphan has role_arn but none of source_profile, credential_source, web_identity_token_file");

    r = run("ecs");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.find("credential_source \"EcsContainer\" is not supported") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(assume_role_after_the_chain_and_oidc_tokens)
{
    scratch_dir home;
    auto o = options_with(env_with(home, {{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "s"}}));
    o.assume_role_arn = "arn:aws:iam::1:role/cache";
    o.sts_endpoint = closed_port;
    auto r = resolve_credentials(o);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "STS AssumeRole arn:aws:iam::1:role/cache");

    o.oidc_token = "eyJ.OIDC-SECRET.sig";
    r = resolve_credentials(o);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().operation == "STS AssumeRoleWithWebIdentity arn:aws:iam::1:role/cache");
    BOOST_TEST(r.error().to_string().find("OIDC-SECRET") == std::string::npos);

    o.assume_role_arn.clear();
    r = resolve_credentials(o);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message ==
               "an OIDC token (PLUGIN_OIDC_TOKEN_ID) needs a role ARN to assume (PLUGIN_ASSUME_ROLE_ARN)");
}

BOOST_AUTO_TEST_CASE(instance_metadata_last_and_its_failure_explained)
{
    scratch_dir home;
    auto r = resolve_credentials(options_with(
        fake_env({{"HOME", home.path()}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", closed_port}})));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.find("no AWS credentials found (tried flags, environment (AWS_ACCESS_KEY_ID), web "
                                      "identity (AWS_WEB_IDENTITY_TOKEN_FILE), profile default, EC2 instance "
                                      "metadata: IMDSv2 token from http://127.0.0.1:1") == 0u);
}

BOOST_AUTO_TEST_CASE(region_order)
{
    scratch_dir home;
    home.write(".aws/config", "[default]\nregion = from-profile\n");
    auto env = env_with(home, {{"AWS_REGION", "from-aws-region"}, {"AWS_DEFAULT_REGION", "from-default"}});
    BOOST_TEST(resolve_region("from-flag", env).value() == "from-flag");
    BOOST_TEST(resolve_region("", env).value() == "from-aws-region");
    BOOST_TEST(resolve_region("", env_with(home, {{"AWS_DEFAULT_REGION", "from-default"}})).value() == "from-default");
    BOOST_TEST(resolve_region("", env_with(home, {})).value() == "from-profile");
    scratch_dir empty_home;
    BOOST_TEST(resolve_region("", env_with(empty_home, {})).value() == "us-east-1");
}

BOOST_AUTO_TEST_SUITE_END()
