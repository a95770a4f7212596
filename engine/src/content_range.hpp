#pragma once
// The Content-Range header of a ranged GET's 206 response, and the Range header that asks for it
// (RFC 9110, sections 14.2 and 14.4). A parallel download checks every response's range against what it asked
// for, and learns the object size from the first, so the parser is strict: a range we cannot trust is
// treated as a bad response rather than guessed at.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cachestep::engine::detail {

// Bytes first..last (inclusive) of an object of `total` bytes; first <= last < total.
struct content_range {
    std::uint64_t first{0};
    std::uint64_t last{0};
    std::uint64_t total{0};

    std::uint64_t length() const { return last - first + 1; }
    friend bool operator==(const content_range&, const content_range&) = default;
};

// Parses "bytes FIRST-LAST/TOTAL", e.g. "bytes 0-99/1000". The unit is matched case-insensitively (RFC 9110
// says range units are); spaces and tabs are allowed before and after the value, nowhere else, and exactly
// one space follows the unit. Returns nullopt for anything else, including "bytes */1000" (the form of a 416
// answer, no range), an unknown total "bytes 0-99/*" (we need the size), last < first, last >= total, empty
// or non-digit numbers, a sign, and numbers beyond 2^64 - 1.
std::optional<content_range> parse_content_range(std::string_view value);

// The Range request header value for bytes first..last inclusive: "bytes=first-last". Requires first <= last.
std::string range_header(std::uint64_t first, std::uint64_t last);

}  // namespace cachestep::engine::detail
