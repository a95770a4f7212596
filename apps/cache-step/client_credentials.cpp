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
    // Always through the chain, even when the engine already took AWS_ACCESS_KEY_ID: the chain is what says
    // "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" instead of signing with half a key.
    auto resolved = credentials::resolve_credentials(options);
    if (!resolved) return resolved.error();
    cfg.credentials = resolved->credentials;
    return resolved->source;
}

}  // namespace cachestep::app
