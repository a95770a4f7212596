#pragma once
// What every credential provider of the chain yields, and how providers read the environment.

#include <cachestep/engine/error.hpp>
#include <cachestep/sigv4/credentials.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace cachestep::app::credentials {

using engine::error_info;
using engine::result;

struct resolved_credentials {
    sigv4::credentials credentials;  // what engine::client_config::credentials takes
    // Where they came from, for a log line (never a secret): "flags", "environment", "profile ci",
    // "web identity arn:aws:iam::1:role/x", "assume role arn:... (base: environment)", "instance role r".
    std::string source;
    // When temporary credentials stop working (STS, IMDS); unset for long-term keys. The engine does not
    // refresh credentials: a caller whose work may outlast this should resolve again before it.
    std::optional<std::chrono::sys_seconds> expiration;
};

// Reads one environment variable: nullopt when unset. Empty values count as unset everywhere in this
// library (as in the engine's apply_environment and the AWS CLI), so callers need not filter them.
using getenv_function = std::function<std::optional<std::string>(std::string_view)>;

// The process environment (std::getenv).
getenv_function process_environment();

// The variable's value, or "" when unset or empty.
std::string env_value(const getenv_function& getenv, std::string_view name);

// "2026-11-27T12:34:56Z", "2026-11-27T12:34:56.789Z", "2026-11-27T12:34:56+00:00": the forms STS and IMDS
// write (ISO 8601, UTC). Fractions are dropped. nullopt for anything else.
std::optional<std::chrono::sys_seconds> parse_iso8601_utc(std::string_view text);

// "2026-11-27T12:34:56Z".
std::string format_iso8601_utc(std::chrono::sys_seconds t);

}  // namespace cachestep::app::credentials
