#pragma once
// Log lines on stderr: logfmt (the Drone plugin's format: `time=... level=info msg="cache built" key=value`) or
// JSON, filtered by level. Values are quoted when they need it. Nothing secret is ever passed in: callers log
// keys, paths, sizes and the store's description, never credentials (tests grep every line for the secret).

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cachestep::app {

enum class log_level { debug = 0, info, warn, error, none };
enum class log_format { logfmt, json };

using log_field = std::pair<std::string, std::string>;

class logger {
public:
    logger(log_format format = log_format::logfmt, log_level threshold = log_level::info)
        : format_(format), threshold_(threshold)
    {
    }
    void log(log_level level, std::string_view msg, const std::vector<log_field>& fields = {}) const;
    void debug(std::string_view msg, const std::vector<log_field>& fields = {}) const { log(log_level::debug, msg, fields); }
    void info(std::string_view msg, const std::vector<log_field>& fields = {}) const { log(log_level::info, msg, fields); }
    void warn(std::string_view msg, const std::vector<log_field>& fields = {}) const { log(log_level::warn, msg, fields); }
    void error(std::string_view msg, const std::vector<log_field>& fields = {}) const { log(log_level::error, msg, fields); }
    bool enabled(log_level level) const { return level >= threshold_; }

    // The line as it would be written (tests).
    std::string format_line(log_level level, std::string_view msg, const std::vector<log_field>& fields,
                            std::string_view time) const;

private:
    log_format format_;
    log_level threshold_;
};

// "debug", "info", "warn"/"warning", "error", "none"; false on anything else.
bool parse_log_level(std::string_view text, log_level& out);

}  // namespace cachestep::app
