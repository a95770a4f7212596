// String helpers shared by the sink's S3 operations (see text.hpp).

#include "text.hpp"

#include <cachestep/sigv4/crypto.hpp>

#include <cstdio>
#include <ctime>

namespace s3sink {

std::string hex(const unsigned char* p, std::size_t n)
{
    return cachestep::sigv4::to_hex({reinterpret_cast<const std::uint8_t*>(p), n});
}

bool unhex(std::string_view h, std::vector<unsigned char>& out)
{
    auto val = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (h.size() % 2) return false;
    out.clear();
    for (std::size_t i = 0; i < h.size(); i += 2) {
        int a = val(h[i]), b = val(h[i + 1]);
        if (a < 0 || b < 0) return false;
        out.push_back(static_cast<unsigned char>(a * 16 + b));
    }
    return true;
}

bool lower_eq(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && boost::beast::iequals(a, b);
}

std::string_view trim_spaces(std::string_view s)
{
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

std::string unquote(std::string_view e)
{
    e = trim_spaces(e);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    return std::string(e);
}

namespace {
std::tm utc(clock_type::time_point t)
{
    std::time_t tt = clock_type::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return tm;
}
}  // namespace

std::string http_date(clock_type::time_point t)
{
    std::tm tm = utc(t);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return buf;
}

std::string iso_date(clock_type::time_point t)
{
    std::tm tm = utc(t);
    char buf[64];
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
    return buf;
}

const std::string& now_http_date()
{
    thread_local std::time_t last = 0;
    thread_local std::string text;
    std::time_t now = std::time(nullptr);
    if (now != last) {
        last = now;
        text = http_date(clock_type::from_time_t(now));
    }
    return text;
}

}  // namespace s3sink
