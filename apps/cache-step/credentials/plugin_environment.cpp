#include "plugin_environment.hpp"

namespace cachestep::app::credentials {

chain_options chain_options_from_plugin_environment(const getenv_function& getenv)
{
    chain_options o;
    o.getenv = getenv;
    sigv4::credentials c{env_value(getenv, "PLUGIN_ACCESS_KEY"), env_value(getenv, "PLUGIN_SECRET_KEY"),
                         env_value(getenv, "PLUGIN_SESSION_TOKEN")};
    if (!c.access_key_id.empty() || !c.secret_access_key.empty()) {
        o.explicit_credentials = std::move(c);
        o.explicit_source = "PLUGIN_ACCESS_KEY";
    }
    o.assume_role_arn = env_value(getenv, "PLUGIN_ASSUME_ROLE_ARN");
    o.session_name = env_value(getenv, "PLUGIN_ASSUME_ROLE_SESSION_NAME");
    o.external_id = env_value(getenv, "PLUGIN_EXTERNAL_ID");
    o.oidc_token = env_value(getenv, "PLUGIN_OIDC_TOKEN_ID");
    o.region = env_value(getenv, "PLUGIN_REGION");
    o.sts_endpoint = env_value(getenv, "PLUGIN_STS_ENDPOINT");
    return o;
}

}  // namespace cachestep::app::credentials
