// The AWS shared files: INI rules and profile lookup (apps/cache-step/credentials/shared_config.cpp).
#include "shared_config.hpp"

#include "credentials_test_support.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::app::credentials;
using cachestep::app::credentials::testing::fake_env;
using cachestep::app::credentials::testing::scratch_dir;

BOOST_AUTO_TEST_SUITE(credentials_shared_config)

BOOST_AUTO_TEST_CASE(parses_sections_keys_comments_and_whitespace)
{
    const auto doc = parse_ini("# a comment\n"
                               "; another\n"
                               "\n"
                               "[default]\n"
                               "aws_access_key_id = AKIDEXAMPLE\n"
                               "Aws_Secret_Access_Key  =  secret/with+chars\t\n"
                               "region = eu-west-1 # inline comment\n"
                               "note = a#b;c\n"
                               "[ spaced name ]   ; comment after the section\n"
                               "key=value\r\n",
                               "credentials");
    BOOST_TEST_REQUIRE(doc.has_value());
    BOOST_TEST(doc->size() == 2u);
    const auto& d = doc->at("default");
    BOOST_TEST(d.at("aws_access_key_id") == "AKIDEXAMPLE");
    BOOST_TEST(d.at("aws_secret_access_key") == "secret/with+chars");  // keys are case-insensitive
    BOOST_TEST(d.at("region") == "eu-west-1");
    BOOST_TEST(d.at("note") == "a#b;c");  // '#' and ';' start a comment only after a blank
    BOOST_TEST(doc->at("spaced name").at("key") == "value");
}

BOOST_AUTO_TEST_CASE(continuation_lines_merged_sections_and_last_key_wins)
{
    const auto doc = parse_ini("[profile a]\n"
                               "s3 =\n"
                               "  addressing_style = path\n"
                               "  max_concurrent_requests = 4\n"
                               "region = us-west-2\n"
                               "[profile a]\n"
                               "region = ap-south-1\n",
                               "config");
    BOOST_TEST_REQUIRE(doc.has_value());
    const auto& a = doc->at("profile a");
    BOOST_TEST(a.at("s3") == "\naddressing_style = path\nmax_concurrent_requests = 4");
    BOOST_TEST(a.at("region") == "ap-south-1");
}

BOOST_AUTO_TEST_CASE(refuses_malformed_lines_with_file_and_line)
{
    auto r = parse_ini("key = before any section\n", "/home/u/.aws/credentials");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "/home/u/.aws/credentials:1: property before any [section]");

    r = parse_ini("[default]\n[broken\n", "cfg");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message == "cfg:2: section line without ']'");

    r = parse_ini("[default]\njust words\n", "cfg");
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().message.find("cfg:2:") == 0u);
}

BOOST_AUTO_TEST_CASE(profile_sections_follow_each_files_naming)
{
    const std::string credentials = "[ci]\naws_access_key_id = FROM_CREDENTIALS\n"
                                    "[profile other]\naws_access_key_id = NOT_A_PROFILE_HERE\n";
    const std::string config = "[default]\nregion = eu-west-1\n"
                               "[profile ci]\naws_access_key_id = FROM_CONFIG\nregion = us-west-2\n"
                               "[other]\nregion = ignored-bare-section\n"
                               "[sso-session x]\nregion = ignored\n";
    auto ci = profile_from_texts("ci", credentials, config);
    BOOST_TEST_REQUIRE(ci.has_value());
    BOOST_TEST_REQUIRE(ci->has_value());
    BOOST_TEST((*ci)->get("aws_access_key_id") == "FROM_CREDENTIALS");  // the credentials file wins
    BOOST_TEST((*ci)->get("region") == "us-west-2");                     // config keys still come through
    BOOST_TEST((*ci)->get("missing") == "");

    auto def = profile_from_texts("default", credentials, config);
    BOOST_TEST_REQUIRE(def.has_value());
    BOOST_TEST_REQUIRE(def->has_value());
    BOOST_TEST((*def)->get("region") == "eu-west-1");

    // "[other]" in config and "[profile other]" in credentials are not the profile "other"
    auto other = profile_from_texts("other", credentials, config);
    BOOST_TEST_REQUIRE(other.has_value());
    BOOST_TEST(!other->has_value());
}

BOOST_AUTO_TEST_CASE(profile_default_section_wins_over_bare_default)
{
    auto p = profile_from_texts("default", "", "[default]\nregion = a\n[profile default]\nregion = b\n");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST_REQUIRE(p->has_value());
    BOOST_TEST((*p)->get("region") == "b");
}

BOOST_AUTO_TEST_CASE(file_paths_from_environment_and_home)
{
    auto f = shared_file_paths(fake_env({{"HOME", "/home/u"}}));
    BOOST_TEST(f.credentials_path == "/home/u/.aws/credentials");
    BOOST_TEST(f.config_path == "/home/u/.aws/config");
    f = shared_file_paths(fake_env({{"HOME", "/home/u"},
                                    {"AWS_SHARED_CREDENTIALS_FILE", "~/creds"},
                                    {"AWS_CONFIG_FILE", "/etc/aws.conf"}}));
    BOOST_TEST(f.credentials_path == "/home/u/creds");
    BOOST_TEST(f.config_path == "/etc/aws.conf");
    BOOST_TEST(profile_name(fake_env({})) == "default");
    BOOST_TEST(!profile_named_explicitly(fake_env({{"AWS_PROFILE", ""}})));
    BOOST_TEST(profile_name(fake_env({{"AWS_DEFAULT_PROFILE", "b"}})) == "b");
    BOOST_TEST(profile_name(fake_env({{"AWS_PROFILE", "a"}, {"AWS_DEFAULT_PROFILE", "b"}})) == "a");
}

BOOST_AUTO_TEST_CASE(load_profile_reads_files_and_tolerates_missing_ones)
{
    scratch_dir dir;
    shared_files files;
    files.credentials_path = dir.write("credentials", "[p]\naws_access_key_id = A\naws_secret_access_key = S\n");
    files.config_path = dir.path() + "/does-not-exist";
    auto p = load_profile("p", files);
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST_REQUIRE(p->has_value());
    BOOST_TEST((*p)->get("aws_secret_access_key") == "S");

    files.config_path = dir.write("config", "[profile p]\nnot a property\n");
    p = load_profile("p", files);
    BOOST_TEST_REQUIRE(!p.has_value());
    BOOST_TEST(p.error().message == files.config_path + ":2: expected \"key = value\", a [section] or a comment");
}

BOOST_AUTO_TEST_SUITE_END()
