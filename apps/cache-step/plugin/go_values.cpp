// Go's value parsers, ported from the Go 1.2x standard library sources (strconv/atoi.go, strconv/atob.go,
// time/format.go, time/time.go, os/env.go, path/path.go, path/filepath/match.go) rule for rule, so that every
// string the plugin accepts we accept with the same meaning, and every string it refuses we refuse.
#include "go_values.hpp"

#include <boost/throw_exception.hpp>

#include <limits>
#include <stdexcept>

namespace cachestep::app::plugin {

void throw_exception_from_error(const go_error& e, const boost::source_location& loc)
{
    boost::throw_exception(std::invalid_argument(e.message), loc);
}

namespace {

// strconv.Quote for the ASCII we expect in settings; other bytes are written as \xNN like Go does for
// invalid UTF-8 (valid multi-byte UTF-8 is passed through, as Go does for printable runes).
std::string go_quote(std::string_view s)
{
    std::string out = "\"";
    for (const unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c < 0x20 || c == 0x7f) {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
    return out;
}

constexpr char lower(char c)
{
    return static_cast<char>(c | ('x' - 'X'));
}

// strconv's underscoreOK: underscores only between digits (or right after a base prefix).
bool underscore_ok(std::string_view s)
{
    char saw = '^';
    std::size_t i = 0;
    if (!s.empty() && (s[0] == '-' || s[0] == '+'))
        s.remove_prefix(1);
    bool hex = false;
    if (s.size() >= 2 && s[0] == '0' && (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
        i = 2;
        saw = '0';
        hex = lower(s[1]) == 'x';
    }
    for (; i < s.size(); ++i) {
        const char c = s[i];
        if ((c >= '0' && c <= '9') || (hex && lower(c) >= 'a' && lower(c) <= 'f')) {
            saw = '0';
            continue;
        }
        if (c == '_') {
            if (saw != '0')
                return false;
            saw = '_';
            continue;
        }
        if (saw == '_')
            return false;
        saw = '!';
    }
    return saw != '_';
}

// One UTF-8 character at the front of s: its code point and length; an invalid byte gives (0xFFFD, 1) as
// utf8.DecodeRuneInString does.
std::pair<char32_t, std::size_t> decode_rune(std::string_view s)
{
    constexpr char32_t error = 0xFFFD;
    if (s.empty())
        return {error, 0};
    const auto b0 = static_cast<unsigned char>(s[0]);
    if (b0 < 0x80)
        return {b0, 1};
    std::size_t n = 0;
    char32_t r = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        n = 2, r = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        n = 3, r = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        n = 4, r = b0 & 0x07, min = 0x10000;
    } else {
        return {error, 1};
    }
    if (s.size() < n)
        return {error, 1};
    for (std::size_t i = 1; i < n; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xC0) != 0x80)
            return {error, 1};
        r = (r << 6) | (b & 0x3F);
    }
    if (r < min || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
        return {error, 1};
    return {r, n};
}

}  // namespace

go_result<bool> parse_go_bool(std::string_view text)
{
    if (text == "1" || text == "t" || text == "T" || text == "TRUE" || text == "true" || text == "True")
        return true;
    if (text == "0" || text == "f" || text == "F" || text == "FALSE" || text == "false" || text == "False")
        return false;
    return go_error{"strconv.ParseBool: parsing " + go_quote(text) + ": invalid syntax"};
}

go_result<std::int64_t> parse_go_int(std::string_view text)
{
    const auto syntax = [&] { return go_error{"strconv.ParseInt: parsing " + go_quote(text) + ": invalid syntax"}; };
    const auto range = [&] {
        return go_error{"strconv.ParseInt: parsing " + go_quote(text) + ": value out of range"};
    };
    if (text.empty())
        return syntax();
    std::string_view s = text;
    bool negative = false;
    if (s[0] == '+' || s[0] == '-') {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    // ParseUint(s, 0, 64)
    if (s.empty())
        return syntax();
    const std::string_view unsigned_text = s;
    unsigned base = 10;
    if (s[0] == '0') {
        if (s.size() >= 3 && lower(s[1]) == 'b') {
            base = 2, s.remove_prefix(2);
        } else if (s.size() >= 3 && lower(s[1]) == 'o') {
            base = 8, s.remove_prefix(2);
        } else if (s.size() >= 3 && lower(s[1]) == 'x') {
            base = 16, s.remove_prefix(2);
        } else {
            base = 8, s.remove_prefix(1);
        }
    }
    constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t cutoff = max_u64 / base + 1;
    std::uint64_t n = 0;
    bool underscores = false;
    bool out_of_range = false;
    for (const char c : s) {
        unsigned d = 0;
        if (c == '_') {
            underscores = true;
            continue;
        }
        if (c >= '0' && c <= '9') {
            d = static_cast<unsigned>(c - '0');
        } else if (lower(c) >= 'a' && lower(c) <= 'z') {
            d = static_cast<unsigned>(lower(c) - 'a' + 10);
        } else {
            return syntax();
        }
        if (d >= base)
            return syntax();
        if (out_of_range)
            continue;
        if (n >= cutoff) {
            out_of_range = true;
            continue;
        }
        n *= base;
        const std::uint64_t n1 = n + d;
        if (n1 < n) {
            out_of_range = true;
            continue;
        }
        n = n1;
    }
    if (underscores && !underscore_ok(unsigned_text))
        return syntax();
    if (out_of_range)
        return range();
    constexpr std::uint64_t limit = std::uint64_t{1} << 63;
    if (!negative && n >= limit)
        return range();
    if (negative && n > limit)
        return range();
    if (negative)
        return n == limit ? std::numeric_limits<std::int64_t>::min() : -static_cast<std::int64_t>(n);
    return static_cast<std::int64_t>(n);
}

go_result<std::chrono::nanoseconds> parse_go_duration(std::string_view text)
{
    const auto invalid = [&] { return go_error{"time: invalid duration " + go_quote(text)}; };
    constexpr std::uint64_t limit = std::uint64_t{1} << 63;
    std::string_view s = text;
    std::uint64_t d = 0;
    bool negative = false;
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
        negative = s[0] == '-';
        s.remove_prefix(1);
    }
    if (s == "0")
        return std::chrono::nanoseconds{0};
    if (s.empty())
        return invalid();
    while (!s.empty()) {
        if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9')))
            return invalid();
        // leadingInt
        std::uint64_t v = 0;
        std::size_t i = 0;
        for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
            if (v > limit / 10)
                return invalid();
            v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
            if (v > limit)
                return invalid();
        }
        const bool pre = i > 0;
        s.remove_prefix(i);
        // leadingFraction: stops gaining precision on overflow instead of failing
        std::uint64_t f = 0;
        double scale = 1;
        bool post = false;
        if (!s.empty() && s[0] == '.') {
            s.remove_prefix(1);
            bool overflow = false;
            std::size_t j = 0;
            for (; j < s.size() && s[j] >= '0' && s[j] <= '9'; ++j) {
                if (overflow)
                    continue;
                if (f > (limit - 1) / 10) {
                    overflow = true;
                    continue;
                }
                const std::uint64_t y = f * 10 + static_cast<std::uint64_t>(s[j] - '0');
                if (y > limit) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = j > 0;
            s.remove_prefix(j);
        }
        if (!pre && !post)
            return invalid();
        std::size_t u = 0;
        while (u < s.size() && s[u] != '.' && !(s[u] >= '0' && s[u] <= '9'))
            ++u;
        if (u == 0)
            return go_error{"time: missing unit in duration " + go_quote(text)};
        const std::string_view unit_name = s.substr(0, u);
        s.remove_prefix(u);
        std::uint64_t unit = 0;
        if (unit_name == "ns")
            unit = 1;
        else if (unit_name == "us" || unit_name == "\xC2\xB5s" || unit_name == "\xCE\xBCs")
            unit = 1'000;
        else if (unit_name == "ms")
            unit = 1'000'000;
        else if (unit_name == "s")
            unit = 1'000'000'000;
        else if (unit_name == "m")
            unit = 60'000'000'000;
        else if (unit_name == "h")
            unit = 3'600'000'000'000;
        else
            return go_error{"time: unknown unit " + go_quote(unit_name) + " in duration " + go_quote(text)};
        if (v > limit / unit)
            return invalid();
        v *= unit;
        if (f > 0) {
            // float64, as Go does, to be nanosecond-exact for fractions of hours
            v += static_cast<std::uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
            if (v > limit)
                return invalid();
        }
        d += v;
        if (d > limit)
            return invalid();
    }
    if (negative)
        return std::chrono::nanoseconds{d == limit ? std::numeric_limits<std::int64_t>::min()
                                                   : -static_cast<std::int64_t>(d)};
    if (d > limit - 1)
        return invalid();
    return std::chrono::nanoseconds{static_cast<std::int64_t>(d)};
}

std::string format_go_duration(std::chrono::nanoseconds duration)
{
    char buf[32];
    std::size_t w = sizeof buf;
    const std::int64_t d = duration.count();
    std::uint64_t u = static_cast<std::uint64_t>(d);
    const bool negative = d < 0;
    if (negative)
        u = ~u + 1;

    // fmtFrac: the fraction v/10^prec without trailing zeros (and without the point when it is zero)
    const auto frac = [&](std::uint64_t v, int prec) {
        bool print = false;
        for (int i = 0; i < prec; ++i) {
            const auto digit = static_cast<char>(v % 10);
            print = print || digit != 0;
            if (print)
                buf[--w] = static_cast<char>('0' + digit);
            v /= 10;
        }
        if (print)
            buf[--w] = '.';
        return v;
    };
    const auto integer = [&](std::uint64_t v) {
        if (v == 0) {
            buf[--w] = '0';
            return;
        }
        while (v > 0) {
            buf[--w] = static_cast<char>('0' + v % 10);
            v /= 10;
        }
    };

    if (u < 1'000'000'000) {
        int prec = 0;
        buf[--w] = 's';
        if (u == 0) {
            buf[--w] = '0';
            return std::string(buf + w, sizeof buf - w);
        }
        if (u < 1'000) {
            prec = 0;
            buf[--w] = 'n';
        } else if (u < 1'000'000) {
            prec = 3;
            buf[--w] = '\xB5';  // U+00B5 MICRO SIGN, as Go writes it
            buf[--w] = '\xC2';
        } else {
            prec = 6;
            buf[--w] = 'm';
        }
        u = frac(u, prec);
        integer(u);
    } else {
        buf[--w] = 's';
        u = frac(u, 9);
        integer(u % 60);
        u /= 60;
        if (u > 0) {
            buf[--w] = 'm';
            integer(u % 60);
            u /= 60;
            if (u > 0) {
                buf[--w] = 'h';
                integer(u);
            }
        }
    }
    if (negative)
        buf[--w] = '-';
    return std::string(buf + w, sizeof buf - w);
}

std::string go_expand(std::string_view s, const std::function<std::string(std::string_view)>& lookup)
{
    const auto is_special = [](char c) {
        switch (c) {
        case '*': case '#': case '$': case '@': case '!': case '?': case '-':
        case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9':
            return true;
        default:
            return false;
        }
    };
    const auto is_alnum = [](char c) {
        return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    };
    // getShellName: the name after a `$` and how many bytes it used; an empty name with a width is bad
    // syntax (eaten), an empty name with width 0 means "not a variable" (the `$` is kept).
    const auto shell_name = [&](std::string_view t) -> std::pair<std::string_view, std::size_t> {
        if (t[0] == '{') {
            if (t.size() > 2 && is_special(t[1]) && t[2] == '}')
                return {t.substr(1, 1), 3};
            for (std::size_t i = 1; i < t.size(); ++i) {
                if (t[i] == '}') {
                    if (i == 1)
                        return {{}, 2};  // "${}"
                    return {t.substr(1, i - 1), i + 1};
                }
            }
            return {{}, 1};  // "${" without "}"
        }
        if (is_special(t[0]))
            return {t.substr(0, 1), 1};
        std::size_t i = 0;
        while (i < t.size() && is_alnum(t[i]))
            ++i;
        return {t.substr(0, i), i};
    };

    std::string out;
    std::size_t i = 0;
    for (std::size_t j = 0; j < s.size(); ++j) {
        if (s[j] == '$' && j + 1 < s.size()) {
            out.append(s.substr(i, j - i));
            const auto [name, width] = shell_name(s.substr(j + 1));
            if (name.empty() && width > 0) {
                // bad syntax: the characters are eaten
            } else if (name.empty()) {
                out += s[j];
            } else {
                out += lookup(name);
            }
            j += width;
            i = j + 1;
        }
    }
    out.append(s.substr(std::min(i, s.size())));
    return out;
}

std::string go_clean_path(std::string_view path)
{
    if (path.empty())
        return ".";
    const bool rooted = path[0] == '/';
    const std::size_t n = path.size();
    std::string out;
    std::size_t r = 0;
    std::size_t dotdot = 0;
    if (rooted) {
        out += '/';
        r = 1, dotdot = 1;
    }
    while (r < n) {
        if (path[r] == '/') {
            ++r;
        } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
            ++r;
        } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
            r += 2;
            if (out.size() > dotdot) {
                std::size_t w = out.size() - 1;
                while (w > dotdot && out[w] != '/')
                    --w;
                out.resize(w);
            } else if (!rooted) {
                if (!out.empty())
                    out += '/';
                out += "..";
                dotdot = out.size();
            }
        } else {
            if ((rooted && out.size() != 1) || (!rooted && !out.empty()))
                out += '/';
            for (; r < n && path[r] != '/'; ++r)
                out += path[r];
        }
    }
    if (out.empty())
        return ".";
    return out;
}

std::string go_join_path(const std::vector<std::string_view>& elements)
{
    std::string joined;
    bool any = false;
    for (const auto e : elements) {
        if (e.empty() && !any)
            continue;
        if (any)
            joined += '/';
        joined.append(e);
        any = true;
    }
    return any ? go_clean_path(joined) : std::string{};
}

std::string_view go_trim_space(std::string_view text)
{
    constexpr std::string_view spaces = " \t\n\v\f\r";
    const auto first = text.find_first_not_of(spaces);
    if (first == std::string_view::npos)
        return {};
    const auto last = text.find_last_not_of(spaces);
    return text.substr(first, last - first + 1);
}

std::vector<std::string> split_go_list(std::string_view text)
{
    std::vector<std::string> items;
    std::size_t start = 0;
    while (true) {
        const auto comma = text.find(',', start);
        items.emplace_back(go_trim_space(text.substr(start, comma - start)));
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    return items;
}

namespace {

const go_error bad_pattern{"syntax error in pattern"};

// getEsc: one possibly escaped character of a [...] class.
go_result<char32_t> class_char(std::string_view& chunk)
{
    if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']')
        return bad_pattern;
    if (chunk[0] == '\\') {
        chunk.remove_prefix(1);
        if (chunk.empty())
            return bad_pattern;
    }
    const auto [r, n] = decode_rune(chunk);
    chunk.remove_prefix(n);
    if ((r == 0xFFFD && n == 1) || chunk.empty())
        return bad_pattern;
    return r;
}

// matchChunk: whether chunk (no `*`) matches a prefix of s; the rest of s when it does. The whole chunk is
// always walked so that a malformed pattern is reported even after a mismatch.
go_result<std::pair<bool, std::string_view>> match_chunk(std::string_view chunk, std::string_view s)
{
    bool failed = false;
    while (!chunk.empty()) {
        if (!failed && s.empty())
            failed = true;
        switch (chunk[0]) {
        case '[': {
            char32_t r = 0;
            if (!failed) {
                const auto [rune, n] = decode_rune(s);
                r = rune;
                s.remove_prefix(n);
            }
            chunk.remove_prefix(1);
            bool negated = false;
            if (!chunk.empty() && chunk[0] == '^') {
                negated = true;
                chunk.remove_prefix(1);
            }
            bool match = false;
            int ranges = 0;
            while (true) {
                if (!chunk.empty() && chunk[0] == ']' && ranges > 0) {
                    chunk.remove_prefix(1);
                    break;
                }
                auto lo = class_char(chunk);
                if (!lo)
                    return lo.error();
                char32_t hi = *lo;
                if (chunk[0] == '-') {
                    chunk.remove_prefix(1);
                    auto h = class_char(chunk);
                    if (!h)
                        return h.error();
                    hi = *h;
                }
                if (*lo <= r && r <= hi)
                    match = true;
                ++ranges;
            }
            if (match == negated)
                failed = true;
            break;
        }
        case '?':
            if (!failed) {
                if (s[0] == '/')
                    failed = true;
                s.remove_prefix(decode_rune(s).second);
            }
            chunk.remove_prefix(1);
            break;
        case '\\':
            chunk.remove_prefix(1);
            if (chunk.empty())
                return bad_pattern;
            [[fallthrough]];
        default:
            if (!failed) {
                if (chunk[0] != s[0])
                    failed = true;
                s.remove_prefix(1);
            }
            chunk.remove_prefix(1);
        }
    }
    if (failed)
        return std::pair<bool, std::string_view>{false, {}};
    return std::pair<bool, std::string_view>{true, s};
}

// scanChunk: leading stars, then the chunk up to the next `*` outside a class.
std::tuple<bool, std::string_view, std::string_view> scan_chunk(std::string_view pattern)
{
    bool star = false;
    while (!pattern.empty() && pattern[0] == '*') {
        pattern.remove_prefix(1);
        star = true;
    }
    bool in_range = false;
    std::size_t i = 0;
    for (; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\') {
            if (i + 1 < pattern.size())
                ++i;
        } else if (c == '[') {
            in_range = true;
        } else if (c == ']') {
            in_range = false;
        } else if (c == '*' && !in_range) {
            break;
        }
    }
    return {star, pattern.substr(0, i), pattern.substr(i)};
}

}  // namespace

go_result<bool> go_path_match(std::string_view pattern, std::string_view name)
{
    while (!pattern.empty()) {
        auto [star, chunk, rest] = scan_chunk(pattern);
        pattern = rest;
        if (star && chunk.empty())
            return name.find('/') == std::string_view::npos;
        auto m = match_chunk(chunk, name);
        if (m && m->first && (m->second.empty() || !pattern.empty())) {
            name = m->second;
            continue;
        }
        if (!m)
            return m.error();
        bool advanced = false;
        if (star) {
            for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
                auto t = match_chunk(chunk, name.substr(i + 1));
                if (t && t->first) {
                    if (pattern.empty() && !t->second.empty())
                        continue;
                    name = t->second;
                    advanced = true;
                    break;
                }
                if (!t)
                    return t.error();
            }
        }
        if (advanced)
            continue;
        // Before answering "no", make sure the rest of the pattern is well formed.
        while (!pattern.empty()) {
            auto [s2, c2, r2] = scan_chunk(pattern);
            (void)s2;
            pattern = r2;
            if (auto t = match_chunk(c2, {}); !t)
                return t.error();
        }
        return false;
    }
    return name.empty();
}

bool go_has_glob_meta(std::string_view text)
{
    return text.find_first_of("*?[\\") != std::string_view::npos;
}

std::string go_arch_from_machine(std::string_view machine)
{
    if (machine == "x86_64" || machine == "amd64")
        return "amd64";
    if (machine == "aarch64" || machine == "arm64" || machine == "aarch64_be")
        return "arm64";
    if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686")
        return "386";
    if (machine.starts_with("armv") || machine == "arm")
        return "arm";
    if (machine == "loongarch64")
        return "loong64";
    return std::string(machine);  // ppc64le, ppc64, s390x, riscv64, mips64 ... are spelled alike
}

std::string host_go_arch()
{
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "386";
#elif defined(__arm__)
    return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__powerpc64__)
    return "ppc64";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#elif defined(__loongarch64)
    return "loong64";
#else
#error "add this CPU's Go architecture name (runtime.GOARCH)"
#endif
}

}  // namespace cachestep::app::plugin
