#pragma once
// String helpers every S3 operation of the sink uses: Beast string views, hex, trimming and quoting, comma-separated
// header lists, and the two date formats S3 answers in (HTTP dates in headers, ISO 8601 in XML bodies). One place
// for them so the operation files (objects.cpp, multipart.cpp, listing.cpp, ...) parse and format the same way.

#include "store.hpp"

#include <boost/beast/core/string.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace s3sink {

inline std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

std::string hex(const unsigned char* p, std::size_t n);
inline std::string hex(std::string_view bytes)
{
    return hex(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}
bool unhex(std::string_view h, std::vector<unsigned char>& out);  // false when h is not an even run of hex digits

inline bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool lower_eq(std::string_view a, std::string_view b);  // ASCII case-insensitive
std::string_view trim_spaces(std::string_view s);
std::string unquote(std::string_view e);  // spaces and one pair of double quotes stripped
inline std::string quoted(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

// Calls f(item) for each space-trimmed item of a comma-separated header value, in order, until f returns true;
// returns whether one did.
template <class F>
bool any_list_item(std::string_view list, F&& f)
{
    while (!list.empty()) {
        auto comma = list.find(',');
        std::string_view item = trim_spaces(list.substr(0, comma));
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
        if (f(item)) return true;
    }
    return false;
}

std::string http_date(clock_type::time_point t);  // "Fri, 27 Nov 2026 12:00:00 GMT"
std::string iso_date(clock_type::time_point t);   // "2026-11-27T12:00:00.000Z"
const std::string& now_http_date();               // http_date(now), formatted once a second per thread

}  // namespace s3sink
