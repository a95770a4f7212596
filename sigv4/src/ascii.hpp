#pragma once
// ASCII-only case handling for HTTP header names (locale-independent, unlike std::tolower).

#include <algorithm>
#include <string_view>

namespace cachestep::sigv4::detail {

inline char ascii_lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline bool ascii_iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

}  // namespace cachestep::sigv4::detail
