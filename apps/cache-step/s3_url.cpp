#include "s3_url.hpp"

#include <cctype>
#include <charconv>

namespace cachestep::app {

std::optional<s3_url> parse_s3_url(std::string_view text)
{
    constexpr std::string_view scheme = "s3://";
    if (text.substr(0, scheme.size()) != scheme) return std::nullopt;
    text.remove_prefix(scheme.size());
    const auto slash = text.find('/');
    s3_url u;
    u.bucket = std::string(text.substr(0, slash));
    if (slash != std::string_view::npos) u.key = std::string(text.substr(slash + 1));
    if (u.bucket.empty()) return std::nullopt;
    return u;
}

std::optional<std::uint64_t> parse_size(std::string_view text)
{
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data()) return std::nullopt;
    std::string unit(end, text.data() + text.size());
    for (auto& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    int shift = 0;
    if (unit.empty() || unit == "B") shift = 0;
    else if (unit == "K" || unit == "KB" || unit == "KIB") shift = 10;
    else if (unit == "M" || unit == "MB" || unit == "MIB") shift = 20;
    else if (unit == "G" || unit == "GB" || unit == "GIB") shift = 30;
    else if (unit == "T" || unit == "TB" || unit == "TIB") shift = 40;
    else return std::nullopt;
    if (shift && value > (UINT64_MAX >> shift)) return std::nullopt;
    return value << shift;
}

}  // namespace cachestep::app
