#include "content_range.hpp"

#include <charconv>

namespace cachestep::engine::detail {
namespace {

bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

bool starts_with_ignoring_case(std::string_view s, std::string_view lower_prefix)
{
    if (s.size() < lower_prefix.size()) return false;
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        const char c = s[i] >= 'A' && s[i] <= 'Z' ? static_cast<char>(s[i] - 'A' + 'a') : s[i];
        if (c != lower_prefix[i]) return false;
    }
    return true;
}

// Reads 1*DIGIT from the front of s into out and removes it. std::from_chars for an unsigned type takes
// digits only (no sign, no space, no "0x") and fails on values beyond 2^64 - 1, which is exactly the grammar.
bool take_number(std::string_view& s, std::uint64_t& out)
{
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc{}) return false;  // invalid_argument (no digit) or result_out_of_range
    s.remove_prefix(static_cast<std::size_t>(end - s.data()));
    return true;
}

bool take_char(std::string_view& s, char c)
{
    if (s.empty() || s.front() != c) return false;
    s.remove_prefix(1);
    return true;
}

}  // namespace

std::optional<content_range> parse_content_range(std::string_view value)
{
    std::string_view s = trim(value);
    if (!starts_with_ignoring_case(s, "bytes ")) return std::nullopt;
    s.remove_prefix(6);
    content_range r;
    if (!take_number(s, r.first) || !take_char(s, '-') || !take_number(s, r.last) || !take_char(s, '/') ||
        !take_number(s, r.total) || !s.empty()) {
        return std::nullopt;
    }
    if (r.last < r.first || r.last >= r.total) return std::nullopt;
    return r;
}

std::string range_header(std::uint64_t first, std::uint64_t last)
{
    return "bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

}  // namespace cachestep::engine::detail
