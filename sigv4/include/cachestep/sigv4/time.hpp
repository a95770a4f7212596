#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace cachestep::sigv4 {

// "20150830T123600Z", the X-Amz-Date form. Empty for a year outside 0000-9999.
std::string format_amz_date(std::chrono::sys_seconds t);

// Parses "2015-08-30T12:36:00Z" (ISO 8601, UTC, whole seconds), and also the compact "20150830T123600Z".
std::optional<std::chrono::sys_seconds> parse_iso8601_utc(std::string_view text);

}  // namespace cachestep::sigv4
