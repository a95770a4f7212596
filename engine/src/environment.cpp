#include <cachestep/engine/environment.hpp>

#include <string>

namespace cachestep::engine {
namespace {

std::string variable(const getenv_function& getenv, const char* name)
{
    const char* v = getenv(name);
    return v ? std::string(v) : std::string();
}

}  // namespace

void apply_environment(client_config& cfg, const getenv_function& getenv)
{
    if (cfg.credentials.access_key_id.empty() && cfg.credentials.secret_access_key.empty()) {
        cfg.credentials.access_key_id = variable(getenv, "AWS_ACCESS_KEY_ID");
        cfg.credentials.secret_access_key = variable(getenv, "AWS_SECRET_ACCESS_KEY");
        // A token belongs to the key pair it came with; never pair an environment token with given keys.
        cfg.credentials.session_token = variable(getenv, "AWS_SESSION_TOKEN");
    }
    if (cfg.endpoint.region.empty()) cfg.endpoint.region = variable(getenv, "AWS_REGION");
    if (cfg.endpoint.region.empty()) cfg.endpoint.region = variable(getenv, "AWS_DEFAULT_REGION");
    if (cfg.endpoint.url.empty()) cfg.endpoint.url = variable(getenv, "AWS_ENDPOINT_URL_S3");
    if (cfg.endpoint.url.empty()) cfg.endpoint.url = variable(getenv, "AWS_ENDPOINT_URL");
    if (cfg.tls.ca_bundle.empty()) cfg.tls.ca_bundle = variable(getenv, "AWS_CA_BUNDLE");
}

}  // namespace cachestep::engine
