#pragma once
// Completes an engine configuration with what the AWS credential provider chain finds (credentials/): flags
// and PLUGIN_* first (given in chain_options), then the environment, profiles, web identity, AssumeRole and the
// EC2 instance role; and the region from the profile when neither a flag nor AWS_REGION set it.

#include "credentials/credential_chain.hpp"

#include <cachestep/engine/config.hpp>

namespace cachestep::app {

// Returns where the credentials came from, for a log line ("environment", "profile ci", ...): never a secret.
engine::result<std::string> complete_credentials(engine::client_config& cfg, credentials::chain_options options);

}  // namespace cachestep::app
