#pragma once
// The Drone/Harness S3 cache plugin's credential settings (PLUGIN_* variables) as chain_options, so that
// cache-step is a drop-in for it:
//   PLUGIN_ACCESS_KEY + PLUGIN_SECRET_KEY      explicit credentials (+ PLUGIN_SESSION_TOKEN)
//   PLUGIN_ASSUME_ROLE_ARN                     AssumeRole after the chain (or the role of the OIDC token)
//   PLUGIN_ASSUME_ROLE_SESSION_NAME            its session name
//   PLUGIN_EXTERNAL_ID                         its external id
//   PLUGIN_OIDC_TOKEN_ID                       an OIDC token value: AssumeRoleWithWebIdentity instead of the chain
//   PLUGIN_REGION                              the region
//   PLUGIN_STS_ENDPOINT                        an STS endpoint URL (cache-step's own addition)
// Flags the caller parsed afterwards override these fields one by one.

#include "credential_chain.hpp"

namespace cachestep::app::credentials {

chain_options chain_options_from_plugin_environment(const getenv_function& getenv);

}  // namespace cachestep::app::credentials
