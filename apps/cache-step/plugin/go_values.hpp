#pragma once
// How the Go plugin (drone-plugins/drone-meltwater-cache, built on urfave/cli v2 and Go's standard library)
// reads values, redone so that a setting means the same thing to cache-step: strconv.ParseBool,
// strconv.ParseInt(s, 0, 64), time.ParseDuration and Duration.String, os.Expand, path.Clean,
// path/filepath.Match, and urfave/cli's comma lists. Pure functions: no environment, no files, no clock.

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace cachestep::app::plugin {

// Why a value was refused, in Go's own words (e.g. `time: unknown unit "x" in duration "1x"`), so a message
// reads the same as the plugin's.
struct go_error {
    std::string message;
};

[[noreturn]] void throw_exception_from_error(const go_error& e, const boost::source_location& loc);

template <class T>
using go_result = boost::system::result<T, go_error>;

// strconv.ParseBool: exactly "1", "t", "T", "TRUE", "true", "True" and their false twins; nothing is trimmed.
go_result<bool> parse_go_bool(std::string_view text);

// strconv.ParseInt(text, 0, 64), what urfave/cli's IntFlag uses: an optional sign, then decimal, 0x/0X hex,
// 0o/0O or a bare leading 0 for octal, 0b/0B binary; `_` between digits. Out of int64 range is an error.
go_result<std::int64_t> parse_go_int(std::string_view text);

// time.ParseDuration: "300ms", "-1.5h", "2h45m", "1h15m30.918273645s", "0"; units ns, us, µs, μs, ms, s, m, h.
go_result<std::chrono::nanoseconds> parse_go_duration(std::string_view text);

// time.Duration.String: "3m0s", "1h30m0s", "1.5s", "300ms", "0s".
std::string format_go_duration(std::chrono::nanoseconds d);

// os.Expand: $NAME and ${NAME} replaced by lookup(NAME) (an unset variable reads as ""), shell specials such as
// $1 or $* likewise by lookup("1"), a `$` before anything else kept, and a malformed "${" or "${}" dropped.
std::string go_expand(std::string_view text, const std::function<std::string(std::string_view)>& lookup);

// path.Clean: the shortest lexically equal path ("a//b/../c/." -> "a/c", "" -> ".", "/.." -> "/").
std::string go_clean_path(std::string_view path);

// path.Join: the non-empty elements joined with "/" and cleaned; "" when all are empty.
std::string go_join_path(const std::vector<std::string_view>& elements);

// strings.TrimSpace, for ASCII white space (Go also trims Unicode spaces such as U+00A0; we keep those).
std::string_view go_trim_space(std::string_view text);

// How urfave/cli's StringSliceFlag reads a list from the environment: split on every "," and trim each item.
// Empty items stay (",a," gives "", "a", ""); the caller decides whether that is an error.
std::vector<std::string> split_go_list(std::string_view text);

// path/filepath.Match on Linux: `*` (any run of non-'/' bytes), `?` (one character other than '/'),
// `[a-z]`, `[^...]`, and `\` escapes. A malformed pattern is an error (Go's ErrBadPattern).
go_result<bool> go_path_match(std::string_view pattern, std::string_view name);

// Whether a path segment uses any of Match's special characters (`*?[\`).
bool go_has_glob_meta(std::string_view text);

// runtime.GOARCH for a `uname -m` machine name: x86_64 -> amd64, aarch64 -> arm64, i686 -> 386, ...; an
// unknown name is returned unchanged.
std::string go_arch_from_machine(std::string_view machine);

// runtime.GOARCH of the CPU this binary was compiled for ("amd64", "arm64", ...).
std::string host_go_arch();

}  // namespace cachestep::app::plugin
