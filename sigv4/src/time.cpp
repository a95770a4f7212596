#include <cachestep/sigv4/time.hpp>

#include <charconv>
#include <cstdio>

namespace cachestep::sigv4 {

std::string format_amz_date(std::chrono::sys_seconds t)
{
    using namespace std::chrono;
    const auto day = floor<days>(t);
    const year_month_day ymd{day};
    const hh_mm_ss hms{t - day};
    const int y = static_cast<int>(ymd.year());
    if (y < 0 || y > 9999) return {};
    char buf[32];  // 16 needed; room for what -Wformat-truncation cannot prove
    std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", y, static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
    return buf;
}

namespace {

bool read_number(std::string_view text, std::size_t pos, std::size_t width, int& out)
{
    if (pos + width > text.size()) return false;
    for (std::size_t i = pos; i < pos + width; ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    std::from_chars(text.data() + pos, text.data() + pos + width, out);
    return true;
}

}  // namespace

std::optional<std::chrono::sys_seconds> parse_iso8601_utc(std::string_view text)
{
    using namespace std::chrono;
    // Field offsets for "YYYY-MM-DDTHH:MM:SSZ" (extended) and "YYYYMMDDTHHMMSSZ" (basic).
    const bool extended = text.size() == 20;
    if (!extended && text.size() != 16) return std::nullopt;
    const std::size_t mo = extended ? 5 : 4, d = extended ? 8 : 6, t = extended ? 10 : 8,
                      h = t + 1, mi = extended ? 14 : 11, s = extended ? 17 : 13;
    if (text[t] != 'T' || text.back() != 'Z') return std::nullopt;
    if (extended && (text[4] != '-' || text[7] != '-' || text[13] != ':' || text[16] != ':'))
        return std::nullopt;
    int Y = 0, M = 0, D = 0, hh = 0, mm = 0, ss = 0;
    if (!read_number(text, 0, 4, Y) || !read_number(text, mo, 2, M) || !read_number(text, d, 2, D) ||
        !read_number(text, h, 2, hh) || !read_number(text, mi, 2, mm) || !read_number(text, s, 2, ss))
        return std::nullopt;
    const year_month_day ymd{year{Y}, month{static_cast<unsigned>(M)}, day{static_cast<unsigned>(D)}};
    if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
    return sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
}

}  // namespace cachestep::sigv4
