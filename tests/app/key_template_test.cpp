// Cache key templates (apps/cache-step/plugin/key_template.cpp): every function and field, errors with their
// positions, trim markers, checksum of a missing file, hashFiles' order independence and `**`.
// Expected digests were computed independently (Python hashlib): checksum is md5(file), hashFiles is
// sha256(sha256(f1) || sha256(f2) || ...) over the sorted matches.
#include "plugin/key_template.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

using namespace cachestep::app::plugin;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path path;
    scratch_dir()
    {
        std::string tmpl = (fs::temp_directory_path() / "cachestep-key-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~scratch_dir()
    {
        std::error_code ec;
        fs::permissions(path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(path, ec);
    }
    void write(const std::string& relative, const std::string& content) const
    {
        const fs::path p = path / relative;
        fs::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }
};

// The files every hashFiles/checksum test sees.
void populate(const scratch_dir& d, bool reverse = false)
{
    std::vector<std::pair<std::string, std::string>> files = {
        {"package-lock.json", "lock\n"}, {"a/b/c.txt", "c\n"}, {"a/d.txt", "d\n"},
        {"a/b/e.json", "e\n"},           {"x.txt", "x\n"},
    };
    if (reverse)
        std::reverse(files.begin(), files.end());
    for (const auto& [name, content] : files)
        d.write(name, content);
}

getenv_function env_of(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end())
            return std::nullopt;
        return it->second;
    };
}

template_context context(const fs::path& dir, std::map<std::string, std::string> vars = {})
{
    template_context ctx;
    ctx.working_dir = dir;
    ctx.getenv = env_of(std::move(vars));
    ctx.now = [] { return std::int64_t{1550563151}; };
    ctx.arch = "arm64";
    ctx.os = "linux";
    return ctx;
}

std::string render(std::string_view tmpl, const template_context& ctx)
{
    auto r = render_key(tmpl, ctx);
    BOOST_REQUIRE_MESSAGE(r.has_value(), "render_key(" << tmpl << "): " << (r ? "" : r.error().to_string()));
    return *r;
}

key_error render_error(std::string_view tmpl, const template_context& ctx)
{
    auto r = render_key(tmpl, ctx);
    BOOST_REQUIRE_MESSAGE(r.has_error(), "render_key(" << tmpl << ") should fail, gave " << (r ? *r : ""));
    return r.error();
}

const std::string md5_lock = "300f139554327e63b13b44a2e3040ce0";  // md5("lock\n")
const std::string hash_x = "af783de711a03d4e784d3cd52d07738e879f8e3004e6bab584d4f5986f26ef1f";
const std::string hash_all_txt = "bd410dfd2f9c3debff68d9f8170371013adfea99df28653f3c61b9b167a7ce10";  // c, d, x
const std::string hash_a_d = "13f7360b238504ed649d7d7e1aed44f0dffd0635fdb4faf22c8df2d9866b6221";
const std::string hash_c = "714b7aa5b0763ea6582d2156f87491351460093fb4cbb05ec6f837b30936f40b";
const std::string hash_c_d = "c4d00884aa2a58cea798b0fa87b06afa631839902a04463676a8fe649e41d794";
const std::string hash_json = "8a3cca34f80a33c0852ce6744b7a7c61d453681b18691ab7ec86ee3c9f8ad1fc";  // e, lock
const std::string hash_under_a = "beaa5615823f0b9620fc81bb6bbb127f279f4658faa08cdb155db22541b9acb2";  // c, e, d

}  // namespace

BOOST_AUTO_TEST_SUITE(app_key_template)

BOOST_AUTO_TEST_CASE(plain_text_is_kept_verbatim)
{
    const auto ctx = context("/nonexistent");
    for (const char* t : {"npm-cache-v1", "a}}b", "with spaces  and\ttabs ", "{ not an action }", "x/y/z"}) {
        BOOST_TEST_CONTEXT(t) { BOOST_TEST(render(t, ctx) == t); }
    }
}

BOOST_AUTO_TEST_CASE(functions)
{
    scratch_dir d;
    populate(d);
    const auto ctx = context(d.path, {{"DRONE_REPO_NAME", "package-lock.json"}});
    const std::vector<std::pair<std::string, std::string>> table = {
        {R"(npm-{{ checksum "package-lock.json" }})", "npm-" + md5_lock},
        {R"({{checksum "package-lock.json"}})", md5_lock},
        {R"({{ checksum "./package-lock.json" }})", md5_lock},
        {R"({{ checksum "a/../package-lock.json" }})", md5_lock},
        {"{{ checksum `package-lock.json` }}", md5_lock},
        {"{{ checksum \"" + (d.path / "package-lock.json").string() + "\" }}", md5_lock},
        {R"({{ checksum .Repo.Name }})", md5_lock},
        // The plugin returns "" when the file cannot be read: missing, a directory, the working directory.
        {R"(k-{{ checksum "missing.json" }}-v)", "k--v"},
        {R"({{ checksum "a" }})", ""},
        {R"({{ checksum "" }})", ""},
        {R"({{ hashFiles "x.txt" }})", hash_x},
        {R"({{ epoch }})", "1550563151"},
        {R"({{ arch }}-{{ os }})", "arm64-linux"},
        {R"({{ "literal" }})", "literal"},
        {R"({{ "tab\there\x41\101\u00e9" }})", "tab\thereAA\xC3\xA9"},
        {"{{ `raw \\n \"quoted\"` }}", "raw \\n \"quoted\""},
    };
    for (const auto& [tmpl, expected] : table) {
        BOOST_TEST_CONTEXT(tmpl) { BOOST_TEST(render(tmpl, ctx) == expected); }
    }
}

BOOST_AUTO_TEST_CASE(fields_from_drone_variables)
{
    const auto ctx = context("/nonexistent", {
                                                 {"DRONE_REPO_NAMESPACE", "acme"},
                                                 {"DRONE_REPO_OWNER", "owner"},
                                                 {"DRONE_REPO_NAME", "shop"},
                                                 {"DRONE_REPO_LINK", "https://git/acme/shop"},
                                                 {"DRONE_REPO_AVATAR", "https://git/a.png"},
                                                 {"DRONE_REPO_BRANCH", "main"},
                                                 {"DRONE_REPO_PRIVATE", "true"},
                                                 {"DRONE_REPO_TRUSTED", "1"},
                                                 {"DRONE_BUILD_NUMBER", "42"},
                                                 {"DRONE_BUILD_EVENT", "pull_request"},
                                                 {"DRONE_BUILD_STATUS", "failure"},
                                                 {"DRONE_DEPLOY_TO", "prod"},
                                                 {"DRONE_BUILD_CREATED", "1700000000"},
                                                 {"DRONE_BUILD_STARTED", "1700000001"},
                                                 {"DRONE_BUILD_FINISHED", "1700000002"},
                                                 {"DRONE_BUILD_LINK", "https://ci/42"},
                                                 {"DRONE_REMOTE_URL", "https://git/acme/shop.git"},
                                                 {"DRONE_COMMIT_SHA", "abc123"},
                                                 {"DRONE_COMMIT_REF", "refs/heads/feature"},
                                                 {"DRONE_COMMIT_LINK", "https://git/c/abc123"},
                                                 {"DRONE_COMMIT_BRANCH", "feature"},
                                                 {"DRONE_COMMIT_MESSAGE", "fix it"},
                                                 {"DRONE_COMMIT_AUTHOR", "ann"},
                                                 {"DRONE_COMMIT_AUTHOR_EMAIL", "ann@acme"},
                                                 {"DRONE_COMMIT_AUTHOR_AVATAR", "https://git/ann.png"},
                                             });
    const std::vector<std::pair<const char*, const char*>> table = {
        {"{{ .Repo.Namespace }}", "acme"},
        {"{{ .Repo.Owner }}", "owner"},
        {"{{ .Repo.Name }}", "shop"},
        {"{{ .Repo.Link }}", "https://git/acme/shop"},
        {"{{ .Repo.Avatar }}", "https://git/a.png"},
        {"{{ .Repo.Branch }}", "main"},
        {"{{ .Repo.Private }}", "true"},
        {"{{ .Repo.Trusted }}", "true"},
        {"{{ .Build.Number }}", "42"},
        {"{{ .Build.Event }}", "pull_request"},
        {"{{ .Build.Status }}", "failure"},
        {"{{ .Build.Deploy }}", "prod"},
        {"{{ .Build.Created }}", "1700000000"},
        {"{{ .Build.Started }}", "1700000001"},
        {"{{ .Build.Finished }}", "1700000002"},
        {"{{ .Build.Link }}", "https://ci/42"},
        {"{{ .Commit.Remote }}", "https://git/acme/shop.git"},
        {"{{ .Commit.Sha }}", "abc123"},
        {"{{ .Commit.Ref }}", "abc123"},  // the plugin maps Ref from DRONE_COMMIT_SHA, not DRONE_COMMIT_REF
        {"{{ .Commit.Link }}", "https://git/c/abc123"},
        {"{{ .Commit.Branch }}", "feature"},
        {"{{ .Commit.Message }}", "fix it"},
        {"{{ .Commit.Author.Name }}", "ann"},
        {"{{ .Commit.Author.Email }}", "ann@acme"},
        {"{{ .Commit.Author.Avatar }}", "https://git/ann.png"},
        {"{{.Repo.Owner}}/{{.Repo.Name}}-{{ .Commit.Branch }}", "owner/shop-feature"},
    };
    for (const auto& [tmpl, expected] : table) {
        BOOST_TEST_CONTEXT(tmpl) { BOOST_TEST(render(tmpl, ctx) == expected); }
    }
}

BOOST_AUTO_TEST_CASE(field_defaults_and_empty_values)
{
    const auto unset = context("/nonexistent");
    BOOST_TEST(render("{{ .Commit.Branch }}", unset) == "master");
    BOOST_TEST(render("{{ .Build.Event }}", unset) == "push");
    BOOST_TEST(render("{{ .Build.Status }}", unset) == "success");
    BOOST_TEST(render("{{ .Build.Number }}", unset) == "0");
    BOOST_TEST(render("{{ .Repo.Private }}", unset) == "false");
    BOOST_TEST(render("[{{ .Repo.Name }}]", unset) == "[]");

    // urfave/cli: a string variable that is set but empty is empty (the default is for unset ones); an empty
    // number is 0 and an empty boolean false.
    const auto empty = context("/nonexistent", {{"DRONE_COMMIT_BRANCH", ""},
                                                {"DRONE_BUILD_NUMBER", ""},
                                                {"DRONE_REPO_PRIVATE", ""}});
    BOOST_TEST(render("[{{ .Commit.Branch }}]", empty) == "[]");
    BOOST_TEST(render("{{ .Build.Number }}", empty) == "0");
    BOOST_TEST(render("{{ .Repo.Private }}", empty) == "false");

    // Numbers are read as strconv.ParseInt(s, 0, 64) reads them.
    BOOST_TEST(render("{{ .Build.Number }}", context("/", {{"DRONE_BUILD_NUMBER", "0x10"}})) == "16");
}

BOOST_AUTO_TEST_CASE(malformed_drone_variables_are_errors)
{
    const auto number = render_error("static", context("/", {{"DRONE_BUILD_NUMBER", "abc"}}));
    BOOST_TEST(number.position == key_error::no_position);
    BOOST_TEST(number.message == "DRONE_BUILD_NUMBER: strconv.ParseInt: parsing \"abc\": invalid syntax");
    const auto flag = render_error("{{ .Repo.Name }}", context("/", {{"DRONE_REPO_PRIVATE", "yes"}}));
    BOOST_TEST(flag.message == "DRONE_REPO_PRIVATE: strconv.ParseBool: parsing \"yes\": invalid syntax");
    BOOST_TEST(flag.to_string() == flag.message);
}

BOOST_AUTO_TEST_CASE(trim_markers_and_comments)
{
    const auto ctx = context("/nonexistent", {{"DRONE_REPO_NAME", "shop"}});
    const std::vector<std::pair<const char*, const char*>> table = {
        {"a  {{- .Repo.Name -}}  b", "ashopb"},
        {"a \n\t{{- .Repo.Name }} b", "ashop b"},
        {"a {{ .Repo.Name -}} \r\n b", "a shopb"},
        {"a {{ .Repo.Name }} b", "a shop b"},
        {"a{{/* a comment */}}b", "ab"},
        {"a {{- /* trimmed */ -}} b", "ab"},
        {"a {{/* kept spaces */}} b", "a  b"},
        {"{{- .Repo.Name -}}", "shop"},
        {"x{{ \"-}}\" }}y", "x-}}y"},
    };
    for (const auto& [tmpl, expected] : table) {
        BOOST_TEST_CONTEXT(tmpl) { BOOST_TEST(render(tmpl, ctx) == expected); }
    }
}

BOOST_AUTO_TEST_CASE(errors_name_the_position_and_what_was_expected)
{
    scratch_dir d;
    populate(d);
    const auto ctx = context(d.path);
    struct row {
        const char* tmpl;
        std::size_t position;
        const char* message;
    };
    const std::vector<row> table = {
        {R"(npm-{{ chksum "a" }})", 7,
         "function \"chksum\" not defined; the functions are checksum, hashFiles, epoch, arch, os"},
        {"{{ .Repo.Nmae }}", 3,
         "unknown field .Repo.Nmae; .Repo has Avatar, Branch, Link, Name, Namespace, Owner, Private, Trusted"},
        {"{{ .repo.name }}", 3, "unknown field .repo; the fields are Build, Commit, Repo (did you mean .Repo?)"},
        {"{{ .Commit.Author.Login }}", 3,
         "unknown field .Commit.Author.Login; .Commit.Author has Avatar, Email, Name"},
        {"{{ .Repo }}", 3,
         "field .Repo is a struct; name one of its fields: Avatar, Branch, Link, Name, Namespace, Owner, Private, "
         "Trusted"},
        {"{{ . }}", 3, "{{ . }} (the whole metadata) cannot be part of a key: name a field such as .Commit.Branch"},
        {"abc{{ .Repo.Name", 3, "unclosed action: expected \"}}\""},
        {"{{ .Repo.Name | printf }}", 14, "pipelines (\"|\") are not supported in cache keys"},
        {"{{ checksum }}", 3, "wrong number of args for checksum: want 1 got 0"},
        {R"({{ checksum "a" "b" }})", 3, "wrong number of args for checksum: want 1 got 2"},
        {"{{ epoch \"x\" }}", 3, "wrong number of args for epoch: want 0 got 1"},
        {"{{ epoch 1 }}", 9, "numbers are not supported in cache keys: quote the text (\"...\")"},
        {"{{-3}}", 2, "numbers are not supported in cache keys: quote the text (\"...\")"},
        {R"({{ printf "%s" .Repo.Name }})", 3,
         "function \"printf\" is a Go template builtin that cache keys do not support; the functions are "
         "checksum, hashFiles, epoch, arch, os"},
        {"{{ if .Repo.Name }}x{{ end }}", 3, "\"if\" actions and constants are not supported in cache keys"},
        {"{{ }}", 0, "missing value for command: expected a field, a string or a function"},
        {"k-{{ \"abc }}", 5, "unterminated quoted string"},
        {R"({{ "\q" }})", 4, "invalid syntax in quoted string: unknown escape \\q"},
        {"{{ $x := 1 }}", 3, "variables ($) are not supported in cache keys"},
        {"{{ (checksum \"a\") }}", 3, "parentheses are not supported in cache keys"},
        {"{{ .Repo.Name \"x\" }}", 14, "field .Repo.Name takes no arguments"},
        {"{{ checksum epoch }}", 12, "expected a string (\"...\") or a field as argument of checksum"},
        {"{{ /* c */ }}", 3, "unexpected \"/\" in action"},
        {"{{/* c */ x }}", 9, "comment ends before closing delimiter: expected \"}}\" right after \"*/\""},
        {"{{/* c", 2, "unclosed comment"},
        {R"(key-{{ hashFiles "a/[" }})", 7, "hashFiles: bad pattern \"a/[\": syntax error in pattern"},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.tmpl)
        {
            const auto e = render_error(r.tmpl, ctx);
            BOOST_TEST(e.position == r.position);
            BOOST_TEST(e.message == r.message);
        }
    }
    const auto e = render_error(R"(npm-{{ chksum "a" }})", ctx);
    BOOST_TEST(e.to_string() ==
               "column 8: function \"chksum\" not defined; the functions are checksum, hashFiles, epoch, arch, os");

    const auto empty = render_error("", ctx);
    BOOST_TEST(empty.position == key_error::no_position);
    BOOST_TEST(empty.message == "cache key template is empty");
}

BOOST_AUTO_TEST_CASE(check_parses_without_reading_anything)
{
    BOOST_TEST(check_key_template(R"(npm-{{ checksum "package-lock.json" }}-{{ .Commit.Branch }})").has_value());
    BOOST_TEST(check_key_template("{{ hashFiles \"**/*.lock\" \"go.sum\" }}").has_value());
    const auto bad = check_key_template("{{ .Commit.Brnch }}");
    BOOST_REQUIRE(bad.has_error());
    BOOST_TEST(bad.error().position == 3u);
}

BOOST_AUTO_TEST_CASE(hash_files_matches_sorts_and_deduplicates)
{
    scratch_dir d;
    populate(d);
    const auto ctx = context(d.path);
    const std::vector<std::pair<std::string, std::string>> table = {
        {R"({{ hashFiles "x.txt" }})", hash_x},
        {R"({{ hashFiles "x.txt" "x.txt" }})", hash_x},  // each file once
        {R"({{ hashFiles "**/*.txt" }})", hash_all_txt},
        {R"({{ hashFiles "**/x.txt" }})", hash_x},         // `**` matches zero directories too
        {R"({{ hashFiles "a/**/c.txt" }})", hash_c},
        {R"({{ hashFiles "a/*.txt" }})", hash_a_d},        // `*` stays in one directory
        {R"({{ hashFiles "a/*/*.txt" "a/*.txt" }})", hash_c_d},
        {R"({{ hashFiles "a/*.txt" "a/*/*.txt" }})", hash_c_d},  // pattern order does not matter
        {R"({{ hashFiles "x.txt" "a/**/*.txt" }})", hash_all_txt},
        {R"({{ hashFiles "a/**/*.txt" "x.txt" "a/b/c.txt" }})", hash_all_txt},
        {R"({{ hashFiles "**/*.json" }})", hash_json},
        {R"({{ hashFiles "a/**" }})", hash_under_a},
        {R"({{ hashFiles "./a/?.txt" }})", hash_a_d},
        {R"({{ hashFiles "a/[d-e].txt" }})", hash_a_d},
        {"{{ hashFiles \"" + (d.path / "x.txt").string() + "\" }}", hash_x},
        {"{{ hashFiles \"" + (d.path / "*.txt").string() + "\" }}", hash_x},
        {R"(k{{ hashFiles "*.none" }}k)", "kk"},  // nothing matches: ""
        {R"(k{{ hashFiles "" }}k)", "kk"},
        {R"(k{{ hashFiles }}k)", "kk"},
        {R"(k{{ hashFiles "a" }}k)", "kk"},        // a directory is not a file
        {R"(k{{ hashFiles "a/" }}k)", "kk"},
    };
    for (const auto& [tmpl, expected] : table) {
        BOOST_TEST_CONTEXT(tmpl) { BOOST_TEST(render(tmpl, ctx) == expected); }
    }

    // The same files created in another order (so listed in another order) give the same digest.
    scratch_dir other;
    populate(other, true);
    BOOST_TEST(render(R"({{ hashFiles "**/*.txt" }})", context(other.path)) == hash_all_txt);
    BOOST_TEST(render(R"({{ hashFiles "**/*.json" "**/*.txt" }})", context(other.path)) ==
               render(R"({{ hashFiles "**/*.txt" "**/*.json" }})", ctx));

    // A changed byte changes the key.
    d.write("a/d.txt", "D\n");
    BOOST_TEST(render(R"({{ hashFiles "**/*.txt" }})", ctx) != hash_all_txt);
}

BOOST_AUTO_TEST_CASE(hash_files_links_and_unreadable_files)
{
    scratch_dir d;
    d.write("real/x.txt", "x\n");
    fs::create_symlink("real/x.txt", d.path / "link.txt");
    fs::create_symlink("missing.txt", d.path / "dangling.txt");
    const auto ctx = context(d.path);
    // A link to a file is that file's content; a dangling link is not a file.
    BOOST_TEST(render(R"({{ hashFiles "link.txt" }})", ctx) == hash_x);
    BOOST_TEST(render(R"(k{{ hashFiles "dangling.txt" }}k)", ctx) == "kk");
    BOOST_TEST(render(R"({{ hashFiles "*.txt" }})", ctx) == hash_x);

    // `**` does not descend through a link to a directory (no cycles).
    fs::create_directory_symlink(".", d.path / "real" / "loop");
    BOOST_TEST(render(R"({{ hashFiles "real/**/*.txt" }})", ctx) == hash_x);

    // A regular file whose read fails (even for root): page 0 of this process is not mapped.
    const auto io = render_error(R"({{ hashFiles "/proc/self/mem" }})", ctx);
    BOOST_TEST(io.position == 3u);
    BOOST_TEST(io.message == "hashFiles: cannot read /proc/self/mem: Input/output error");

    if (::geteuid() != 0) {  // root reads mode-000 files
        d.write("secret.txt", "s\n");
        fs::permissions(d.path / "secret.txt", fs::perms::none);
        const auto e = render_error(R"(k-{{ hashFiles "secret.txt" }})", ctx);
        BOOST_TEST(e.position == 5u);
        BOOST_TEST(e.message == "hashFiles: cannot read " + (d.path / "secret.txt").string() + ": Permission denied");
    }
}

BOOST_AUTO_TEST_CASE(legacy_default_key_is_md5_of_the_branch)
{
    BOOST_TEST(legacy_default_key("master") == "eb0a191797624dd3a48fa681d3061212");
    BOOST_TEST(legacy_default_key(env_of({})).value() == "eb0a191797624dd3a48fa681d3061212");
    BOOST_TEST(legacy_default_key(env_of({{"DRONE_COMMIT_BRANCH", "main"}})).value() ==
               "fad58de7366495db4650cfefac2fcd61");
    BOOST_TEST(legacy_default_key(env_of({{"DRONE_COMMIT_BRANCH", ""}})).value() ==
               "d41d8cd98f00b204e9800998ecf8427e");
}

BOOST_AUTO_TEST_CASE(host_context)
{
    const auto ctx = host_template_context("/");
    BOOST_TEST(ctx.os == "linux");
    BOOST_TEST(!ctx.arch.empty());
    BOOST_TEST(ctx.now() > 1'700'000'000);
    ::setenv("CACHESTEP_KEY_TEST_VAR", "v", 1);
    BOOST_TEST(ctx.getenv("CACHESTEP_KEY_TEST_VAR").value() == "v");
    BOOST_TEST(!ctx.getenv("CACHESTEP_KEY_TEST_UNSET_VAR").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
