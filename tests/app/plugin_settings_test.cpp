// PLUGIN_* settings (apps/cache-step/plugin/plugin_settings.cpp): defaults, alias order, expansion, errors
// naming the variable, describe() never showing a secret, and where a mount's object and entries go.
#include "plugin/plugin_settings.hpp"

#include <boost/test/unit_test.hpp>

#include <map>
#include <string>
#include <vector>

using namespace cachestep::app::plugin;
using namespace std::chrono_literals;

namespace {

using vars = std::map<std::string, std::string>;

getenv_function env_of(vars v)
{
    return [v = std::move(v)](std::string_view name) -> std::optional<std::string> {
        const auto it = v.find(std::string(name));
        if (it == v.end())
            return std::nullopt;
        return it->second;
    };
}

// The least a valid rebuild needs.
vars minimal(vars extra = {})
{
    vars v = {{"PLUGIN_REBUILD", "true"}, {"PLUGIN_MOUNT", "node_modules"}, {"PLUGIN_BUCKET", "cache"}};
    for (auto& [k, val] : extra)
        v[k] = val;
    return v;
}

plugin_settings parse_ok(const vars& v)
{
    auto r = parse_plugin_settings(env_of(v));
    BOOST_REQUIRE_MESSAGE(r.has_value(), "parse_plugin_settings: " << (r ? "" : r.error().to_string()));
    return std::move(*r);
}

settings_error parse_error(const vars& v)
{
    auto r = parse_plugin_settings(env_of(v));
    BOOST_REQUIRE_MESSAGE(r.has_error(), "parse_plugin_settings should have failed");
    return r.error();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_plugin_settings)

BOOST_AUTO_TEST_CASE(defaults_follow_the_plugin)
{
    const auto s = parse_ok(minimal());
    BOOST_TEST((s.mode == plugin_mode::rebuild));
    BOOST_TEST((s.backend == backend_kind::s3));
    BOOST_TEST(s.mounts == std::vector<std::string>{"node_modules"});
    BOOST_TEST(s.cache_key.empty());
    BOOST_TEST(s.restore_keys.empty());
    BOOST_TEST((s.format == archive_format::tar));
    BOOST_TEST(s.compression_level == -1);  // compress/flate.DefaultCompression
    BOOST_TEST(s.override_existing == true);
    BOOST_TEST(s.fail_restore_if_key_not_present == false);
    BOOST_TEST(s.exit_code == false);
    BOOST_TEST(s.operation_timeout.count() == std::chrono::nanoseconds(3min).count());
    BOOST_TEST(s.skip_symlinks == false);
    BOOST_TEST(s.preserve_metadata == false);
    BOOST_TEST(s.strict_key_matching == true);
    BOOST_TEST(s.enable_separator == false);
    BOOST_TEST(s.bucket == "cache");
    BOOST_TEST(s.endpoint.empty());
    BOOST_TEST(s.region.empty());
    BOOST_TEST(s.path_style == false);
    BOOST_TEST(s.access_key.empty());
    BOOST_TEST(s.secret_key.empty());
    BOOST_TEST(s.session_token.empty());
    BOOST_TEST(s.encryption.empty());
    BOOST_TEST(s.assume_role_arn.empty());
    BOOST_TEST(s.assume_role_session_name == "drone-cache");
    BOOST_TEST(s.oidc_token.empty());
    BOOST_TEST(s.filesystem_cache_root == "/tmp/cache");
    BOOST_TEST(s.metrics_file.empty());
    BOOST_TEST(s.log_level == "info");
    BOOST_TEST((s.log_format_ == log_format::logfmt));
}

BOOST_AUTO_TEST_CASE(every_setting_is_read)
{
    const auto s = parse_ok({
        {"PLUGIN_RESTORE", "1"},
        {"PLUGIN_BACKEND", "filesystem"},
        {"PLUGIN_MOUNT", "a, ./b ,/c"},
        {"PLUGIN_CACHE_KEY", "npm-{{ checksum \"package-lock.json\" }}"},
        {"PLUGIN_RESTORE_KEYS", "npm-{{ .Commit.Branch }},npm-"},
        {"PLUGIN_ARCHIVE_FORMAT", "zstd"},
        {"PLUGIN_COMPRESSION_LEVEL", "19"},
        {"PLUGIN_OVERRIDE", "false"},
        {"PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT", "T"},
        {"PLUGIN_EXIT_CODE", "TRUE"},
        {"PLUGIN_BACKEND_OPERATION_TIMEOUT", "1h30m"},
        {"PLUGIN_SKIP_SYMLINKS", "true"},
        {"PLUGIN_PRESERVE_METADATA", "True"},
        {"PLUGIN_STRICT_KEY_MATCHING", "0"},
        {"PLUGIN_ENABLE_SEPARATOR", "t"},
        {"PLUGIN_BUCKET", "b"},
        {"PLUGIN_ENDPOINT", "minio:9000"},
        {"PLUGIN_REGION", "eu-west-1"},
        {"PLUGIN_PATH_STYLE", "true"},
        {"PLUGIN_ACCESS_KEY", "AKIAEXAMPLEKEY1234"},
        {"PLUGIN_SECRET_KEY", "sekrit/value"},
        {"PLUGIN_SESSION_TOKEN", "token-value"},
        {"PLUGIN_ACL", "private"},
        {"PLUGIN_ENCRYPTION", "aws:kms"},
        {"PLUGIN_STS_ENDPOINT", "http://127.0.0.1:5000"},
        {"PLUGIN_ASSUME_ROLE_ARN", "arn:aws:iam::1:role/r"},
        {"PLUGIN_ASSUME_ROLE_SESSION_NAME", "sess"},
        {"PLUGIN_EXTERNAL_ID", "ext"},
        {"PLUGIN_OIDC_TOKEN_ID", "eyJhbGciOi.oidc"},
        {"PLUGIN_FILESYSTEM_CACHE_ROOT", "/cache"},
        {"PLUGIN_CACHE_INTEL_METRICS_FILE", "/tmp/metrics.json"},
        {"PLUGIN_LOG_LEVEL", "warn"},
        {"PLUGIN_LOG_FORMAT", "json"},
    });
    BOOST_TEST((s.mode == plugin_mode::restore));
    BOOST_TEST((s.backend == backend_kind::filesystem));
    BOOST_TEST(s.mounts == (std::vector<std::string>{"a", "./b", "/c"}));
    BOOST_TEST(s.cache_key == "npm-{{ checksum \"package-lock.json\" }}");
    BOOST_TEST(s.restore_keys == (std::vector<std::string>{"npm-{{ .Commit.Branch }}", "npm-"}));
    BOOST_TEST((s.format == archive_format::zstd));
    BOOST_TEST(s.compression_level == 19);
    BOOST_TEST(s.override_existing == false);
    BOOST_TEST(s.fail_restore_if_key_not_present == true);
    BOOST_TEST(s.exit_code == true);
    BOOST_TEST(s.operation_timeout.count() == std::chrono::nanoseconds(90min).count());
    BOOST_TEST(s.skip_symlinks == true);
    BOOST_TEST(s.preserve_metadata == true);
    BOOST_TEST(s.strict_key_matching == false);
    BOOST_TEST(s.enable_separator == true);
    BOOST_TEST(s.bucket == "b");
    BOOST_TEST(s.endpoint == "https://minio:9000");
    BOOST_TEST(s.region == "eu-west-1");
    BOOST_TEST(s.path_style == true);
    BOOST_TEST(s.access_key == "AKIAEXAMPLEKEY1234");
    BOOST_TEST(s.secret_key.reveal() == "sekrit/value");
    BOOST_TEST(s.session_token.reveal() == "token-value");
    BOOST_TEST(s.acl == "private");
    BOOST_TEST(s.encryption == "aws:kms");
    BOOST_TEST(s.sts_endpoint == "http://127.0.0.1:5000");
    BOOST_TEST(s.assume_role_arn == "arn:aws:iam::1:role/r");
    BOOST_TEST(s.assume_role_session_name == "sess");
    BOOST_TEST(s.external_id == "ext");
    BOOST_TEST(s.oidc_token.reveal() == "eyJhbGciOi.oidc");
    BOOST_TEST(s.filesystem_cache_root == "/cache");
    BOOST_TEST(s.metrics_file == "/tmp/metrics.json");
    BOOST_TEST(s.log_level == "warn");
    BOOST_TEST((s.log_format_ == log_format::json));
}

BOOST_AUTO_TEST_CASE(aliases_first_set_wins_and_empty_is_unset)
{
    struct row {
        vars v;
        std::string plugin_settings::*field;
        std::string expected;
    };
    const std::vector<row> table = {
        {{{"PLUGIN_BUCKET", "p"}, {"S3_BUCKET", "s"}}, &plugin_settings::bucket, "p"},
        {{{"S3_BUCKET", "s"}, {"GCS_BUCKET", "g"}}, &plugin_settings::bucket, "s"},
        {{{"PLUGIN_BUCKET", ""}, {"S3_BUCKET", "s"}}, &plugin_settings::bucket, "s"},  // empty counts as unset
        {{{"GCS_BUCKET", "g"}}, &plugin_settings::bucket, "g"},
        {{{"PLUGIN_ENDPOINT", "http://p"}, {"S3_ENDPOINT", "http://s"}}, &plugin_settings::endpoint, "http://p"},
        {{{"S3_ENDPOINT", "http://s"}}, &plugin_settings::endpoint, "http://s"},
        {{{"PLUGIN_REGION", "p"}, {"S3_REGION", "s"}}, &plugin_settings::region, "p"},
        {{{"S3_REGION", "s"}}, &plugin_settings::region, "s"},
        {{{"PLUGIN_ACCESS_KEY", "p"}, {"AWS_ACCESS_KEY_ID", "a"}}, &plugin_settings::access_key, "p"},
        {{{"AWS_ACCESS_KEY_ID", "a"}, {"CACHE_AWS_ACCESS_KEY_ID", "c"}}, &plugin_settings::access_key, "a"},
        {{{"CACHE_AWS_ACCESS_KEY_ID", "c"}}, &plugin_settings::access_key, "c"},
        {{{"AWS_ACL", "a"}}, &plugin_settings::acl, "a"},
        {{{"AWS_ENCRYPTION", "AES256"}}, &plugin_settings::encryption, "AES256"},
        {{{"PLUGIN_ASSUME_ROLE", "r2"}, {"AWS_ASSUME_ROLE_ARN", "r3"}}, &plugin_settings::assume_role_arn, "r2"},
        {{{"PLUGIN_ASSUME_ROLE_ARN", "r1"}, {"PLUGIN_ASSUME_ROLE", "r2"}}, &plugin_settings::assume_role_arn, "r1"},
        {{{"AWS_ASSUME_ROLE_ARN", "r3"}}, &plugin_settings::assume_role_arn, "r3"},
        {{{"ASSUME_ROLE_SESSION_NAME", "n"}}, &plugin_settings::assume_role_session_name, "n"},
        {{{"FILESYSTEM_CACHE_ROOT", "/f"}}, &plugin_settings::filesystem_cache_root, "/f"},
        {{{"LOG_LEVEL", "debug"}}, &plugin_settings::log_level, "debug"},
        {{{"PLUGIN_LOG_LEVEL", "error"}, {"LOG_LEVEL", "debug"}}, &plugin_settings::log_level, "error"},
        {{{"PLUGIN_DEBUG", "true"}, {"PLUGIN_LOG_LEVEL", "error"}}, &plugin_settings::log_level, "debug"},
        {{{"AWS_STS_ENDPOINT", "http://sts"}}, &plugin_settings::sts_endpoint, "http://sts"},
    };
    for (const auto& r : table) {
        vars v = {{"PLUGIN_REBUILD", "true"}, {"PLUGIN_MOUNT", "m"}};
        if (!r.v.count("PLUGIN_BUCKET") && !r.v.count("S3_BUCKET") && !r.v.count("GCS_BUCKET"))
            v["PLUGIN_BUCKET"] = "cache";
        for (const auto& [k, val] : r.v)
            v[k] = val;
        BOOST_TEST_CONTEXT(r.v.begin()->first << "=" << r.v.begin()->second)
        {
            const std::string actual = parse_ok(v).*r.field;
            BOOST_TEST(actual == r.expected);
        }
    }

    BOOST_TEST(parse_ok(minimal({{"SKIP_SYMLINKS", "true"}})).skip_symlinks == true);
    BOOST_TEST(parse_ok(minimal({{"EXIT_CODE", "1"}})).exit_code == true);
    BOOST_TEST(parse_ok(minimal({{"AWS_PLUGIN_PATH_STYLE", "true"}})).path_style == true);
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_PATH_STYLE", "false"}, {"AWS_PLUGIN_PATH_STYLE", "true"}})).path_style ==
               false);
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_OVERRIDE", ""}})).override_existing == true);  // empty: default
    BOOST_TEST(parse_ok(minimal({{"BACKEND_OPERATION_TIMEOUT", "90s"}})).operation_timeout.count() ==
               std::chrono::nanoseconds(90s).count());
    BOOST_TEST((parse_ok(minimal({{"LOG_FORMAT", "json"}})).log_format_ == log_format::json));
    BOOST_TEST(parse_ok(minimal({{"AWS_SECRET_ACCESS_KEY", "a"}, {"CACHE_AWS_SECRET_ACCESS_KEY", "c"}}))
                   .secret_key.reveal() == "a");
    BOOST_TEST(parse_ok(minimal({{"CACHE_AWS_SECRET_ACCESS_KEY", "c"}})).secret_key.reveal() == "c");
}

BOOST_AUTO_TEST_CASE(session_token_stays_with_its_access_key)
{
    // AWS_SESSION_TOKEN goes with AWS_ACCESS_KEY_ID (or with no key at all) ...
    BOOST_TEST(parse_ok(minimal({{"AWS_ACCESS_KEY_ID", "a"}, {"AWS_SESSION_TOKEN", "t"}})).session_token.reveal() ==
               "t");
    BOOST_TEST(parse_ok(minimal({{"AWS_SESSION_TOKEN", "t"}})).session_token.reveal() == "t");
    // ... never beside a plugin-specific key, which only PLUGIN_SESSION_TOKEN completes.
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_ACCESS_KEY", "p"}, {"AWS_SESSION_TOKEN", "t"}})).session_token.empty());
    BOOST_TEST(parse_ok(minimal({{"CACHE_AWS_ACCESS_KEY_ID", "c"}, {"AWS_SESSION_TOKEN", "t"}}))
                   .session_token.empty());
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_ACCESS_KEY", "p"}, {"PLUGIN_SESSION_TOKEN", "pt"}, {"AWS_SESSION_TOKEN", "t"}}))
                   .session_token.reveal() == "pt");
}

BOOST_AUTO_TEST_CASE(endpoints_get_a_scheme)
{
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_ENDPOINT", "s3.example.com"}})).endpoint == "https://s3.example.com");
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_ENDPOINT", "http://127.0.0.1:9000"}})).endpoint == "http://127.0.0.1:9000");
    BOOST_TEST(parse_ok(minimal({{"PLUGIN_ENDPOINT", "HTTPS://X"}})).endpoint == "HTTPS://X");
}

BOOST_AUTO_TEST_CASE(mounts_are_expanded_like_the_plugin)
{
    const vars env = {{"HOME", "/root"}, {"GOPATH", "/go"}, {"DIR", "build"}};
    const auto expand = [&](const char* m) { return expand_mount(m, env_of(env)); };
    BOOST_TEST(expand("~/.m2") == "/root/.m2");
    BOOST_TEST(expand("~") == "/root");
    BOOST_TEST(expand("$GOPATH/pkg/mod") == "/go/pkg/mod");
    BOOST_TEST(expand("${GOPATH}/pkg") == "/go/pkg");
    BOOST_TEST(expand("./$DIR/out") == "./build/out");
    BOOST_TEST(expand("$UNSET/x") == "/x");
    BOOST_TEST(expand("a~b") == "a");         // the first `~` anywhere becomes $HOME: "a$HOMEb" names HOMEb
    BOOST_TEST(expand("~/a~b") == "/root/a~b");  // only the first

    vars v = minimal({{"PLUGIN_MOUNT", "~/.m2, $GOPATH/pkg/mod,./node_modules"}});
    v.insert(env.begin(), env.end());
    BOOST_TEST(parse_ok(v).mounts == (std::vector<std::string>{"/root/.m2", "/go/pkg/mod", "./node_modules"}));
}

BOOST_AUTO_TEST_CASE(errors_name_the_variable)
{
    struct row {
        vars v;
        const char* variable;
        const char* message;
    };
    const std::vector<row> table = {
        {minimal({{"PLUGIN_OVERRIDE", "yes"}}), "PLUGIN_OVERRIDE",
         "\"yes\" is not a boolean (true, false, 1, 0, t, f, T, F, TRUE, FALSE, True, False)"},
        {minimal({{"SKIP_SYMLINKS", "on"}}), "SKIP_SYMLINKS",
         "\"on\" is not a boolean (true, false, 1, 0, t, f, T, F, TRUE, FALSE, True, False)"},
        {{{"PLUGIN_REBUILD", "TrUe"}}, "PLUGIN_REBUILD",
         "\"TrUe\" is not a boolean (true, false, 1, 0, t, f, T, F, TRUE, FALSE, True, False)"},
        {minimal({{"PLUGIN_BACKEND_OPERATION_TIMEOUT", "3"}}), "PLUGIN_BACKEND_OPERATION_TIMEOUT",
         "time: missing unit in duration \"3\" (a Go duration such as 3m, 90s or 1h30m)"},
        {minimal({{"BACKEND_OPERATION_TIMEOUT", "1d"}}), "BACKEND_OPERATION_TIMEOUT",
         "time: unknown unit \"d\" in duration \"1d\" (a Go duration such as 3m, 90s or 1h30m)"},
        {minimal({{"PLUGIN_BACKEND_OPERATION_TIMEOUT", "-1m"}}), "PLUGIN_BACKEND_OPERATION_TIMEOUT",
         "\"-1m\" is not a positive duration"},
        {minimal({{"PLUGIN_ARCHIVE_FORMAT", "zip"}}), "PLUGIN_ARCHIVE_FORMAT",
         "\"zip\" is not one of tar, gzip, zstd, lz4"},
        {minimal({{"PLUGIN_COMPRESSION_LEVEL", "high"}}), "PLUGIN_COMPRESSION_LEVEL", "\"high\" is not an integer"},
        {minimal({{"PLUGIN_ARCHIVE_FORMAT", "gzip"}, {"PLUGIN_COMPRESSION_LEVEL", "12"}}), "PLUGIN_COMPRESSION_LEVEL",
         "\"12\" is not a gzip level (-2 to 9; -1: default)"},
        {minimal({{"PLUGIN_COMPRESSION_LEVEL", "9999999999"}}), "PLUGIN_COMPRESSION_LEVEL",
         "\"9999999999\" is out of range"},
        {minimal({{"PLUGIN_BACKEND", "gcs"}}), "PLUGIN_BACKEND",
         "the \"gcs\" backend is not supported by cache-step (s3, filesystem)"},
        {minimal({{"PLUGIN_BACKEND", "S3"}}), "PLUGIN_BACKEND", "unknown backend \"S3\" (s3, filesystem)"},
        {{{"PLUGIN_REBUILD", "true"}, {"PLUGIN_MOUNT", "m"}}, "PLUGIN_BUCKET",
         "the s3 backend needs a bucket (PLUGIN_BUCKET or S3_BUCKET)"},
        {{{"PLUGIN_REBUILD", "true"}, {"PLUGIN_BUCKET", "b"}}, "PLUGIN_MOUNT",
         "nothing to save: PLUGIN_MOUNT names no directory"},
        {minimal({{"PLUGIN_MOUNT", "a,,b"}}), "PLUGIN_MOUNT", "item 2 of \"a,,b\" is empty"},
        {minimal({{"PLUGIN_MOUNT", "a,"}}), "PLUGIN_MOUNT", "item 2 of \"a,\" is empty"},
        {minimal({{"PLUGIN_MOUNT", "$UNSET"}}), "PLUGIN_MOUNT", "\"$UNSET\" expands to an empty path"},
        {minimal({{"PLUGIN_MOUNT", "./../shared"}}), "PLUGIN_MOUNT",
         "\"./../shared\" leaves the working directory: its cache object would land outside the cache key; use "
         "an absolute path"},
        {minimal({{"PLUGIN_RESTORE", "true"}}), "PLUGIN_REBUILD",
         "PLUGIN_REBUILD and PLUGIN_RESTORE are both true; set exactly one"},
        {{{"PLUGIN_BUCKET", "b"}}, "PLUGIN_REBUILD", "neither PLUGIN_REBUILD nor PLUGIN_RESTORE is true; set exactly one"},
        {{{"PLUGIN_REBUILD", "false"}, {"PLUGIN_RESTORE", "0"}, {"PLUGIN_BUCKET", "b"}}, "PLUGIN_REBUILD",
         "neither PLUGIN_REBUILD nor PLUGIN_RESTORE is true; set exactly one"},
        {minimal({{"PLUGIN_ENCRYPTION", "aes256"}}), "PLUGIN_ENCRYPTION",
         "\"aes256\" is not a server-side encryption (AES256, aws:kms)"},
        {minimal({{"AWS_ENCRYPTION", "none"}}), "AWS_ENCRYPTION",
         "\"none\" is not a server-side encryption (AES256, aws:kms)"},
        {minimal({{"PLUGIN_ENDPOINT", "ftp://x"}}), "PLUGIN_ENDPOINT", "\"ftp://x\" is not an http:// or https:// URL"},
        {minimal({{"PLUGIN_LOG_LEVEL", "trace"}}), "PLUGIN_LOG_LEVEL",
         "\"trace\" is not a log level (error, warn, info, debug)"},
        {minimal({{"LOG_FORMAT", "text"}}), "LOG_FORMAT", "\"text\" is not one of logfmt, json"},
        {minimal({{"PLUGIN_DEBUG", "maybe"}}), "PLUGIN_DEBUG",
         "\"maybe\" is not a boolean (true, false, 1, 0, t, f, T, F, TRUE, FALSE, True, False)"},
        {minimal({{"PLUGIN_CACHE_KEY", "npm-{{ chksum \"a\" }}"}}), "PLUGIN_CACHE_KEY",
         "\"npm-{{ chksum \"a\" }}\": column 8: function \"chksum\" not defined; the functions are checksum, "
         "hashFiles, epoch, arch, os"},
        {minimal({{"PLUGIN_RESTORE_KEYS", "ok,{{ .Nope }}"}}), "PLUGIN_RESTORE_KEYS",
         "\"{{ .Nope }}\": column 4: unknown field .Nope; the fields are Build, Commit, Repo"},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.variable << ": " << r.message)
        {
            const auto e = parse_error(r.v);
            BOOST_TEST(e.variable == r.variable);
            BOOST_TEST(e.message == r.message);
            BOOST_TEST(e.to_string() == std::string(r.variable) + ": " + r.message);
        }
    }
    // A restore may name no mount (the plugin then restores every path under the key); filesystem needs no bucket.
    BOOST_TEST(parse_ok({{"PLUGIN_RESTORE", "true"}, {"PLUGIN_BUCKET", "b"}}).mounts.empty());
    BOOST_TEST(parse_ok({{"PLUGIN_REBUILD", "true"}, {"PLUGIN_MOUNT", "m"}, {"PLUGIN_BACKEND", "filesystem"}})
                   .bucket.empty());
}

BOOST_AUTO_TEST_CASE(describe_masks_secrets)
{
    const auto s = parse_ok(minimal({
        {"PLUGIN_ACCESS_KEY", "AKIAEXAMPLEKEY1234"},
        {"PLUGIN_SECRET_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"},
        {"PLUGIN_SESSION_TOKEN", "FwoGZXIvYXdzSESSIONTOKEN"},
        {"PLUGIN_OIDC_TOKEN_ID", "eyJhbGciOiJSUzI1NiJ9.OIDCTOKEN"},
        {"PLUGIN_MOUNT", "node_modules,.cache"},
        {"PLUGIN_CACHE_KEY", "npm-{{ checksum \"package-lock.json\" }}"},
        {"PLUGIN_ENDPOINT", "http://127.0.0.1:9000"},
    }));
    const std::string d = s.describe();
    BOOST_TEST(d ==
               "mode=rebuild backend=s3 mounts=node_modules,.cache "
               "cache_key=\"npm-{{ checksum \\\"package-lock.json\\\" }}\" restore_keys=\"\" archive_format=tar "
               "compression_level=-1 override=true fail_restore_if_key_not_present=false exit_code=false "
               "operation_timeout=3m0s skip_symlinks=false preserve_metadata=false strict_key_matching=true "
               "enable_separator=false bucket=cache endpoint=http://127.0.0.1:9000 region=\"\" path_style=false "
               "access_key=**************1234 secret_key=set session_token=set acl=\"\" encryption=\"\" "
               "sts_endpoint=\"\" assume_role_arn=\"\" assume_role_session_name=drone-cache external_id=\"\" "
               "oidc_token=set filesystem_cache_root=/tmp/cache metrics_file=\"\" log_level=info log_format=logfmt");
    for (const char* leak : {"SECRET", "SESSIONTOKEN", "OIDCTOKEN", "AKIAEXAMPLE"}) {
        BOOST_TEST_CONTEXT(leak) { BOOST_TEST(d.find(leak) == std::string::npos); }
    }
    const auto none = parse_ok(minimal()).describe();
    BOOST_TEST(none.find("access_key=\"\" secret_key=unset session_token=unset") != std::string::npos);
    BOOST_TEST(none.find("oidc_token=unset") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(secrets_copy_move_and_compare)
{
    secret a("value");
    secret b = a;
    BOOST_TEST(b.reveal() == "value");
    BOOST_TEST((a == b));
    secret c = std::move(a);
    BOOST_TEST(c.reveal() == "value");
    BOOST_TEST(a.empty());  // NOLINT(bugprone-use-after-move): the move wipes the source
    c = secret("other");
    BOOST_TEST(c.reveal() == "other");
}

BOOST_AUTO_TEST_CASE(mount_layout_like_the_plugin)
{
    const auto env = env_of({});
    struct row {
        const char* mount;
        const char* key_suffix;
        const char* archive_root;
        bool relative;
    };
    const std::vector<row> table = {
        {"node_modules", "node_modules", "/harness/node_modules", false},
        {"./node_modules", "node_modules", "node_modules", true},
        {"/root/.m2", "root/.m2", "/root/.m2", false},
        {"/root/.m2/", "root/.m2", "/root/.m2", false},
        {"a/../b", "b", "/harness/b", false},
        {"./a//b/", "a/b", "a/b", true},
        {".", "", "/harness", false},
        {"./", "", ".", true},
        {"/tmp/harness/abc/x", "tmp/harness/abc/x", "/tmp/harness/abc/x", false},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.mount)
        {
            const auto l = layout_mount(r.mount, "/harness", env).value();
            BOOST_TEST(l.mount == r.mount);
            BOOST_TEST(l.key_suffix == r.key_suffix);
            BOOST_TEST(l.archive_root == r.archive_root);
            BOOST_TEST(l.relative == r.relative);
        }
    }
    const auto l = layout_mount("node_modules", "/harness", env).value();
    BOOST_TEST(object_key("npm-abc", l) == "npm-abc/node_modules");
    BOOST_TEST(object_key("team/npm-abc/", l) == "team/npm-abc/node_modules");
    BOOST_TEST(object_key("npm-abc", layout_mount("/root/.m2", "/harness", env).value()) == "npm-abc/root/.m2");
    BOOST_TEST(object_key("npm-abc", layout_mount("./", "/harness", env).value()) == "npm-abc");

    // Harness Docker stages: the per-run directory is replaced in the key, never in the archive.
    const auto docker = env_of({{"DRONE_STAGE_TYPE", "DOCKER"}});
    const auto d = layout_mount("/tmp/harness/0f3c-uuid/node_modules", "/tmp/harness/0f3c-uuid", docker).value();
    BOOST_TEST(d.key_suffix == "docker/node_modules");
    BOOST_TEST(d.archive_root == "/tmp/harness/0f3c-uuid/node_modules");
    BOOST_TEST(layout_mount("/tmp/harness/only", "/", docker).value().key_suffix == "tmp/harness/only");
    BOOST_TEST(layout_mount("node_modules", "/tmp/harness/u", docker).value().key_suffix == "node_modules");

    const auto escape = layout_mount("../x", "/harness", env);
    BOOST_REQUIRE(escape.has_error());
    BOOST_TEST(escape.error().to_string() == "PLUGIN_MOUNT: \"../x\" leaves the working directory");
}

BOOST_AUTO_TEST_SUITE_END()
