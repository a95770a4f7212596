#pragma once
// The standard AWS environment variables, for settings the caller left unset.

#include <cachestep/engine/config.hpp>

#include <cstdlib>
#include <functional>

namespace cachestep::engine {

using getenv_function = std::function<const char*(const char*)>;

// Fills, only where cfg is still empty (explicit settings win; empty variables count as unset):
//   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN), taken together
//   region       AWS_REGION, then AWS_DEFAULT_REGION
//   endpoint     AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL
//   CA bundle    AWS_CA_BUNDLE
// The full credential chain (profiles, web identity, STS) belongs to cache-step, not the engine.
void apply_environment(client_config& cfg, const getenv_function& getenv = [](const char* n) { return std::getenv(n); });

}  // namespace cachestep::engine
