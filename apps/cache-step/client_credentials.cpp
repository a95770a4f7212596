#include "client_credentials.hpp"

namespace cachestep::app {

engine::result<std::string> complete_credentials(engine::client_config& cfg, credentials::chain_options options)
{
    if (!options.getenv) options.getenv = credentials::process_environment();
    if (cfg.endpoint.region.empty()) {
        auto region = credentials::resolve_region(options.region, options.getenv);
        if (!region) return region.error();
        cfg.endpoint.region = *region;
    }
    if (options.region.empty()) options.region = cfg.endpoint.region;
    options.tls = cfg.tls;
    // Credentials the engine already took from AWS_ACCESS_KEY_ID & co count as the environment's, unless the
    // caller gave explicit ones or a role to assume with them.
    if (!options.explicit_credentials && options.assume_role_arn.empty() && options.oidc_token.empty() &&
        !cfg.credentials.access_key_id.empty())
        return std::string("environment");
    auto resolved = credentials::resolve_credentials(options);
    if (!resolved) return resolved.error();
    cfg.credentials = resolved->credentials;
    return resolved->source;
}

}  // namespace cachestep::app
