// Go-compatible parsing (apps/cache-step/plugin/go_values.cpp). The tables are Go's own test tables and
// documented examples (strconv, time, os, path, path/filepath), so a difference from Go fails here.
#include "plugin/go_values.hpp"

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

using namespace cachestep::app::plugin;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(app_go_values)

BOOST_AUTO_TEST_CASE(parse_bool_accepts_exactly_go_spellings)
{
    for (const char* t : {"1", "t", "T", "TRUE", "true", "True"}) {
        BOOST_TEST_CONTEXT(t) { BOOST_TEST(parse_go_bool(t).value() == true); }
    }
    for (const char* f : {"0", "f", "F", "FALSE", "false", "False"}) {
        BOOST_TEST_CONTEXT(f) { BOOST_TEST(parse_go_bool(f).value() == false); }
    }
    for (const char* bad : {"", "yes", "no", "on", "TrUe", " true", "true ", "2", "tRUE"}) {
        BOOST_TEST_CONTEXT('"' << bad << '"')
        {
            const auto r = parse_go_bool(bad);
            BOOST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().message == "strconv.ParseBool: parsing \"" + std::string(bad) + "\": invalid syntax");
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_int_base_zero)
{
    const std::vector<std::pair<const char*, std::int64_t>> ok = {
        {"0", 0},      {"-0", 0},      {"+1", 1},       {"-1", -1},       {"12345", 12345},
        {"0x10", 16},  {"0X1f", 31},   {"0o17", 15},    {"0O17", 15},     {"017", 15},
        {"0b101", 5},  {"0B11", 3},    {"1_000", 1000}, {"0x_1f", 31},    {"-0x10", -16},
        {"9223372036854775807", std::numeric_limits<std::int64_t>::max()},
        {"-9223372036854775808", std::numeric_limits<std::int64_t>::min()},
    };
    for (const auto& [text, value] : ok) {
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(parse_go_int(text).value() == value); }
    }
    for (const char* bad : {"", "+", "-", "08", "1__0", "_1", "1_", "0x", "12a", " 1", "1 ", "1.0", "0b2"}) {
        BOOST_TEST_CONTEXT('"' << bad << '"')
        {
            const auto r = parse_go_int(bad);
            BOOST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().message == "strconv.ParseInt: parsing \"" + std::string(bad) + "\": invalid syntax");
        }
    }
    for (const char* big : {"9223372036854775808", "-9223372036854775809", "99999999999999999999999"}) {
        BOOST_TEST_CONTEXT(big)
        {
            const auto r = parse_go_int(big);
            BOOST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().message ==
                       "strconv.ParseInt: parsing \"" + std::string(big) + "\": value out of range");
        }
    }
}

BOOST_AUTO_TEST_CASE(parse_duration_go_table)
{
    using ns = std::chrono::nanoseconds;
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    constexpr auto min = std::numeric_limits<std::int64_t>::min();
    // time/time_test.go parseDurationTests, plus the package documentation's examples.
    const std::vector<std::pair<const char*, ns>> ok = {
        {"0", 0ns},
        {"5s", 5s},
        {"30s", 30s},
        {"1478s", 1478s},
        {"-5s", -5s},
        {"+5s", 5s},
        {"-0", 0ns},
        {"+0", 0ns},
        {"5.0s", 5s},
        {"5.6s", 5s + 600ms},
        {"5.s", 5s},
        {".5s", 500ms},
        {"1.0s", 1s},
        {"1.00s", 1s},
        {"1.004s", 1s + 4ms},
        {"1.0040s", 1s + 4ms},
        {"100.00100s", 100s + 1ms},
        {"10ns", 10ns},
        {"11us", 11us},
        {"12\xC2\xB5s", 12us},  // U+00B5 micro sign
        {"12\xCE\xBCs", 12us},  // U+03BC Greek mu
        {"13ms", 13ms},
        {"14s", 14s},
        {"15m", 15min},
        {"16h", 16h},
        {"3h30m", 3h + 30min},
        {"10.5s4m", 4min + 10s + 500ms},
        {"-2m3.4s", -(2min + 3s + 400ms)},
        {"1h2m3s4ms5us6ns", 1h + 2min + 3s + 4ms + 5us + 6ns},
        {"39h9m14.425s", 39h + 9min + 14s + 425ms},
        {"52763797000ns", 52763797000ns},
        {"0.3333333333333333333h", 20min},
        {"9007199254740993ns", ns((std::int64_t{1} << 53) + 1)},
        {"9223372036854775807ns", ns(max)},
        {"9223372036854775.807us", ns(max)},
        {"9223372036s854ms775us807ns", ns(max)},
        {"-9223372036854775808ns", ns(min)},
        {"-9223372036854775.808us", ns(min)},
        {"-9223372036s854ms775us808ns", ns(min)},
        {"-2562047h47m16.854775808s", ns(min)},
        {"0.100000000000000000000h", 6min},
        {"0.830103483285477580700h", 49min + 48s + 372539827ns},
        // what cache step settings use
        {"3m", 3min},
        {"1h30m", 1h + 30min},
        {"90s", 90s},
        {"1.5h", 1h + 30min},
        {"10h", 10h},
        {"1h10m10s", 4210s},
    };
    for (const auto& [text, value] : ok) {
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(parse_go_duration(text).value().count() == value.count()); }
    }
    const std::map<std::string, std::string> bad = {
        {"", "time: invalid duration \"\""},
        {"3", "time: missing unit in duration \"3\""},
        {"-", "time: invalid duration \"-\""},
        {"s", "time: invalid duration \"s\""},
        {".", "time: invalid duration \".\""},
        {"-.", "time: invalid duration \"-.\""},
        {".s", "time: invalid duration \".s\""},
        {"+.s", "time: invalid duration \"+.s\""},
        {"1d", "time: unknown unit \"d\" in duration \"1d\""},
        {"3 m", "time: unknown unit \" m\" in duration \"3 m\""},
        {"1.5", "time: missing unit in duration \"1.5\""},
        {"9223372036854775808ns", "time: invalid duration \"9223372036854775808ns\""},
        {"9223372036854775.808us", "time: invalid duration \"9223372036854775.808us\""},
        {"9223372036854ms775us808ns", "time: invalid duration \"9223372036854ms775us808ns\""},
        {"9223372036s854ms775us808ns", "time: invalid duration \"9223372036s854ms775us808ns\""},
        {"-9223372036854775809ns", "time: invalid duration \"-9223372036854775809ns\""},
    };
    for (const auto& [text, message] : bad) {
        BOOST_TEST_CONTEXT('"' << text << '"')
        {
            const auto r = parse_go_duration(text);
            BOOST_REQUIRE(r.has_error());
            BOOST_TEST(r.error().message == message);
        }
    }
}

BOOST_AUTO_TEST_CASE(format_duration_go_table)
{
    using ns = std::chrono::nanoseconds;
    // time/time_test.go durationTests
    const std::vector<std::pair<const char*, ns>> table = {
        {"0s", 0ns},
        {"1ns", 1ns},
        {"1.1\xC2\xB5s", 1100ns},
        {"2.2ms", 2200us},
        {"3.3s", 3300ms},
        {"4m5s", 4min + 5s},
        {"4m5.001s", 4min + 5001ms},
        {"5h6m7.001s", 5h + 6min + 7001ms},
        {"8m0.000000001s", 8min + 1ns},
        {"2562047h47m16.854775807s", ns(std::numeric_limits<std::int64_t>::max())},
        {"-2562047h47m16.854775808s", ns(std::numeric_limits<std::int64_t>::min())},
        {"3m0s", 3min},
        {"1h30m0s", 90min},
        {"-1.5s", -1500ms},
    };
    for (const auto& [text, value] : table) {
        BOOST_TEST_CONTEXT(text) { BOOST_TEST(format_go_duration(value) == text); }
    }
}

BOOST_AUTO_TEST_CASE(expand_like_os_expand)
{
    const std::map<std::string, std::string> vars = {
        {"HOME", "/root"}, {"A", "a"}, {"1", "one"}, {"-", "dash"}, {"*", "star"}, {"$", "dollar"}};
    const auto lookup = [&](std::string_view name) {
        const auto it = vars.find(std::string(name));
        return it == vars.end() ? std::string{} : it->second;
    };
    const std::vector<std::pair<const char*, const char*>> table = {
        {"", ""},
        {"plain", "plain"},
        {"$HOME/.m2", "/root/.m2"},
        {"${HOME}/.m2", "/root/.m2"},
        {"$UNSET/x", "/x"},
        {"${A}b", "ab"},
        {"$Ab", ""},           // the name is "Ab", unset
        {"$A.b", "a.b"},
        {"x$", "x$"},          // a `$` at the end stays
        {"$ x", "$ x"},        // not followed by a name: stays
        {"$/x", "$/x"},
        {"$1", "one"},
        {"${1}", "one"},
        {"$-", "dash"},
        {"$*", "star"},
        {"$$", "dollar"},
        {"x${}y", "xy"},       // bad syntax: "${}" is eaten
        {"x${abc", "xabc"},    // bad syntax: "${" is eaten
        {"${A}${HOME}", "a/root"},
    };
    for (const auto& [in, out] : table) {
        BOOST_TEST_CONTEXT('"' << in << '"') { BOOST_TEST(go_expand(in, lookup) == out); }
    }
}

BOOST_AUTO_TEST_CASE(clean_path_go_table)
{
    // path/path_test.go cleantests
    const std::vector<std::pair<const char*, const char*>> table = {
        {"", "."},
        {"abc", "abc"},
        {"abc/def", "abc/def"},
        {"a/b/c", "a/b/c"},
        {".", "."},
        {"..", ".."},
        {"../..", "../.."},
        {"../../abc", "../../abc"},
        {"/abc", "/abc"},
        {"/", "/"},
        {"abc/", "abc"},
        {"abc/def/", "abc/def"},
        {"a/b/c/", "a/b/c"},
        {"./", "."},
        {"../", ".."},
        {"../../", "../.."},
        {"/abc/", "/abc"},
        {"abc//def//ghi", "abc/def/ghi"},
        {"//abc", "/abc"},
        {"///abc", "/abc"},
        {"//abc//", "/abc"},
        {"abc//", "abc"},
        {"abc/./def", "abc/def"},
        {"/./abc/def", "/abc/def"},
        {"abc/.", "abc"},
        {"abc/def/ghi/../jkl", "abc/def/jkl"},
        {"abc/def/../ghi/../jkl", "abc/jkl"},
        {"abc/def/..", "abc"},
        {"abc/def/../..", "."},
        {"/abc/def/../..", "/"},
        {"abc/def/../../..", ".."},
        {"/abc/def/../../..", "/"},
        {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
        {"abc/./../def", "def"},
        {"abc//./../def", "def"},
        {"abc/../../././../def", "../../def"},
    };
    for (const auto& [in, out] : table) {
        BOOST_TEST_CONTEXT('"' << in << '"') { BOOST_TEST(go_clean_path(in) == out); }
    }
    BOOST_TEST(go_join_path({"key", "/harness/node_modules"}) == "key/harness/node_modules");
    BOOST_TEST(go_join_path({"", "", "a"}) == "a");
    BOOST_TEST(go_join_path({"", ""}) == "");
    BOOST_TEST(go_join_path({"key", "./x/"}) == "key/x");
    BOOST_TEST(go_join_path({"key", ""}) == "key");
}

BOOST_AUTO_TEST_CASE(split_list_like_urfave_cli)
{
    using v = std::vector<std::string>;
    BOOST_TEST(split_go_list("a") == v({"a"}));
    BOOST_TEST(split_go_list("a,b") == v({"a", "b"}));
    BOOST_TEST(split_go_list(" a , b\t,\nc ") == v({"a", "b", "c"}));
    BOOST_TEST(split_go_list("a,,b") == v({"a", "", "b"}));
    BOOST_TEST(split_go_list("a,") == v({"a", ""}));
    BOOST_TEST(split_go_list("") == v({""}));
    BOOST_TEST(go_trim_space("  x y \r\n") == "x y");
}

BOOST_AUTO_TEST_CASE(match_go_table)
{
    struct row {
        const char* pattern;
        const char* name;
        bool match;
        bool bad;
    };
    // path/filepath/match_test.go matchTests
    const std::vector<row> table = {
        {"abc", "abc", true, false},
        {"*", "abc", true, false},
        {"*c", "abc", true, false},
        {"a*", "a", true, false},
        {"a*", "abc", true, false},
        {"a*", "ab/c", false, false},
        {"a*/b", "abc/b", true, false},
        {"a*/b", "a/c/b", false, false},
        {"a*b*c*d*e*/f", "axbxcxdxe/f", true, false},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/f", true, false},
        {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", false, false},
        {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", false, false},
        {"a*b?c*x", "abxbbxdbxebxczzx", true, false},
        {"a*b?c*x", "abxbbxdbxebxczzy", false, false},
        {"ab[c]", "abc", true, false},
        {"ab[b-d]", "abc", true, false},
        {"ab[e-g]", "abc", false, false},
        {"ab[^c]", "abc", false, false},
        {"ab[^b-d]", "abc", false, false},
        {"ab[^e-g]", "abc", true, false},
        {"a\\*b", "a*b", true, false},
        {"a\\*b", "ab", false, false},
        {"a?b", "a\xE2\x98\xBA" "b", true, false},
        {"a[^a]b", "a\xE2\x98\xBA" "b", true, false},
        {"a???b", "a\xE2\x98\xBA" "b", false, false},
        {"a[^a][^a][^a]b", "a\xE2\x98\xBA" "b", false, false},
        {"[a-\xCE\xB6]*", "\xCE\xB1", true, false},
        {"*[a-\xCE\xB6]", "A", false, false},
        {"a?b", "a/b", false, false},
        {"a*b", "a/b", false, false},
        {"[\\]a]", "]", true, false},
        {"[\\-]", "-", true, false},
        {"[x\\-]", "x", true, false},
        {"[x\\-]", "-", true, false},
        {"[x\\-]", "z", false, false},
        {"[\\-x]", "x", true, false},
        {"[\\-x]", "-", true, false},
        {"[\\-x]", "a", false, false},
        {"[]a]", "]", false, true},
        {"[-]", "-", false, true},
        {"[x-]", "x", false, true},
        {"[x-]", "-", false, true},
        {"[x-]", "z", false, true},
        {"[-x]", "x", false, true},
        {"[-x]", "-", false, true},
        {"[-x]", "a", false, true},
        {"\\", "a", false, true},
        {"[a-b-c]", "a", false, true},
        {"[", "a", false, true},
        {"[^", "a", false, true},
        {"[^bc", "a", false, true},
        {"a[", "a", false, true},
        {"a[", "ab", false, true},
        {"a[", "x", false, true},
        {"a/b[", "x", false, true},
        {"*x", "xxx", true, false},
    };
    for (const auto& r : table) {
        BOOST_TEST_CONTEXT(r.pattern << " ~ " << r.name)
        {
            const auto m = go_path_match(r.pattern, r.name);
            if (r.bad) {
                BOOST_REQUIRE(m.has_error());
                BOOST_TEST(m.error().message == "syntax error in pattern");
            } else {
                BOOST_REQUIRE(m.has_value());
                BOOST_TEST(*m == r.match);
            }
        }
    }
    BOOST_TEST(go_has_glob_meta("a*"));
    BOOST_TEST(go_has_glob_meta("a\\b"));
    BOOST_TEST(!go_has_glob_meta("package-lock.json"));
}

BOOST_AUTO_TEST_CASE(go_arch_names)
{
    BOOST_TEST(go_arch_from_machine("x86_64") == "amd64");
    BOOST_TEST(go_arch_from_machine("aarch64") == "arm64");
    BOOST_TEST(go_arch_from_machine("arm64") == "arm64");
    BOOST_TEST(go_arch_from_machine("i686") == "386");
    BOOST_TEST(go_arch_from_machine("armv7l") == "arm");
    BOOST_TEST(go_arch_from_machine("ppc64le") == "ppc64le");
    BOOST_TEST(go_arch_from_machine("s390x") == "s390x");
#if defined(__x86_64__)
    BOOST_TEST(host_go_arch() == "amd64");
#elif defined(__aarch64__)
    BOOST_TEST(host_go_arch() == "arm64");
#endif
}

BOOST_AUTO_TEST_SUITE_END()
