#include "logger.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <mutex>

namespace cachestep::app {
namespace {

std::string_view level_name(log_level l)
{
    switch (l) {
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::none: break;
    }
    return "none";
}

// JSON string escaping (also used for logfmt values that need quotes: the same rules).
std::string quoted(std::string_view v)
{
    std::string out = "\"";
    for (char c : v) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

std::string logfmt_value(std::string_view v)
{
    const bool plain = !v.empty() && v.find_first_of(" =\"\\\t\n\r") == std::string_view::npos;
    return plain ? std::string(v) : quoted(v);
}

std::string now_rfc3339()
{
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

}  // namespace

std::string logger::format_line(log_level level, std::string_view msg, const std::vector<log_field>& fields,
                                std::string_view time) const
{
    std::string line;
    if (format_ == log_format::json) {
        line = "{\"time\":" + quoted(time) + ",\"level\":" + quoted(level_name(level)) + ",\"msg\":" + quoted(msg);
        for (const auto& [k, v] : fields) line += "," + quoted(k) + ":" + quoted(v);
        line += "}";
    } else {
        line = "time=" + std::string(time) + " level=" + std::string(level_name(level)) + " msg=" + logfmt_value(msg);
        for (const auto& [k, v] : fields) line += " " + k + "=" + logfmt_value(v);
    }
    return line;
}

void logger::log(log_level level, std::string_view msg, const std::vector<log_field>& fields) const
{
    if (!enabled(level)) return;
    static std::mutex mutex;
    const std::string line = format_line(level, msg, fields, now_rfc3339());
    std::lock_guard lock(mutex);
    std::cerr << line << "\n";
}

bool parse_log_level(std::string_view text, log_level& out)
{
    if (text == "debug") out = log_level::debug;
    else if (text == "info") out = log_level::info;
    else if (text == "warn" || text == "warning") out = log_level::warn;
    else if (text == "error") out = log_level::error;
    else if (text == "none") out = log_level::none;
    else return false;
    return true;
}

}  // namespace cachestep::app
