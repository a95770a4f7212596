#pragma once
// Cache key templates as the Drone cache plugin renders them: a Go text/template with the plugin's functions
// (checksum, hashFiles, epoch, arch, os) over its build metadata (.Repo.*, .Build.*, .Commit.*, filled from
// DRONE_* variables). Only what cache keys use is understood: text, {{ }} actions holding one field, one
// string, or one function call with string or field arguments, {{/* comments */}}, and the {{- / -}} trim
// markers. Anything else (pipes, if/range, variables, parentheses, Go's builtins) is refused with the offset
// and what was expected, never rendered differently from Go.
//
// Pure apart from what is passed in: the environment comes through template_context::getenv, the clock
// through now, and checksum/hashFiles read files under working_dir (the plugin reads them relative to its
// current directory).

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cachestep::app::plugin {

// Reads one environment variable: nullopt when unset (an empty value is "set and empty").
using getenv_function = std::function<std::optional<std::string>(std::string_view)>;

struct template_context {
    std::filesystem::path working_dir;  // relative checksum/hashFiles paths start here
    getenv_function getenv;             // DRONE_* metadata
    std::function<std::int64_t()> now;  // unix seconds, for {{ epoch }}
    std::string arch;                   // {{ arch }}: Go's runtime.GOARCH name ("amd64", "arm64")
    std::string os;                     // {{ os }}: Go's runtime.GOOS name ("linux")
};

// The real process: ::getenv, the system clock, this binary's CPU, "linux".
template_context host_template_context(std::filesystem::path working_dir);

struct key_error {
    static constexpr std::size_t no_position = static_cast<std::size_t>(-1);
    std::size_t position{no_position};  // byte offset into the template; no_position when not about a spot
    std::string message;                // what was wrong or expected

    // "column 7: unknown function \"chksum\"", or the bare message when there is no position.
    std::string to_string() const;
};

[[noreturn]] void throw_exception_from_error(const key_error& e, const boost::source_location& loc);

template <class T>
using key_result = boost::system::result<T, key_error>;

// Parses without evaluating (the plugin's Check()): a template that would fail to parse fails here.
key_result<void> check_key_template(std::string_view tmpl);

// Renders tmpl. Unknown functions and fields, wrong argument counts, a bad glob, an unreadable file matched by
// hashFiles and a malformed DRONE_* number or boolean are errors; a missing file is "" for checksum, as in the
// plugin. An empty template is an error ("cache key template is empty"), as in the plugin.
key_result<std::string> render_key(std::string_view tmpl, const template_context& ctx);

// The key the plugin uses when no cache_key is given: the MD5 hex of the commit branch (its Hash generator,
// NewHash(Commit.Branch)); "master" when DRONE_COMMIT_BRANCH is unset. The plugin also falls back to this key
// when a template fails while rendering; cache-step reports the failure instead.
std::string legacy_default_key(std::string_view commit_branch);
key_result<std::string> legacy_default_key(const getenv_function& getenv);

// The plugin's metadata, from DRONE_* variables exactly as its main.go maps them (urfave/cli flags): a string
// variable that is set but empty stays empty; an unset one takes the plugin's default; numbers and booleans
// must parse (the plugin refuses to start otherwise), an empty number or boolean reads as 0 / false.
struct drone_metadata {
    struct repo_t {
        std::string avatar, branch, link, name, namespace_, owner;  // .Repo.Namespace is namespace_ here
        bool is_private{false}, trusted{false};                      // .Repo.Private, .Repo.Trusted
    } repo;
    struct build_t {
        std::int64_t created{0}, finished{0}, number{0}, started{0};
        std::string deploy, event{"push"}, link, status{"success"};
    } build;
    struct commit_t {
        struct author_t {
            std::string avatar, email, name;
        } author;
        std::string branch{"master"}, link, message, ref, remote, sha;
    } commit;
};

key_result<drone_metadata> read_drone_metadata(const getenv_function& getenv);

// {{ checksum "path" }}: the MD5 hex of the file's bytes; "" when it cannot be opened or read (a missing
// file, a directory), which is what the plugin returns.
std::string checksum_file(const std::filesystem::path& working_dir, std::string_view path);

// {{ hashFiles "glob" ... }}: the files matching any pattern (path/filepath.Match syntax per segment, plus `**`
// for any number of directories as in GitHub Actions), de-duplicated and sorted by path; the SHA-256 of the
// concatenated raw SHA-256 digests of their contents, in hex. "" when nothing matches. Directories and
// dangling symbolic links are not files and never match; a matched file that cannot be read is an error.
// The combining rule is upstream meltwater/drone-cache's hashFiles (the drone-plugins fork has no hashFiles):
// for one pattern without `**` the result equals upstream's.
key_result<std::string> hash_files(const std::filesystem::path& working_dir, const std::vector<std::string>& patterns);

}  // namespace cachestep::app::plugin
