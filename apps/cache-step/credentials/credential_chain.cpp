#include "credential_chain.hpp"

#include "instance_metadata.hpp"
#include "shared_config.hpp"
#include "sts.hpp"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace cachestep::app::credentials {
namespace {

using engine::engine_errc;

error_info refuse(std::string message)
{
    return error_info(engine_errc::invalid_argument, std::move(message));
}

// A provider either found credentials, was not configured (nullopt: the chain goes on), or failed.
using provider_result = result<std::optional<resolved_credentials>>;

struct chain_context {
    const chain_options& options;
    getenv_function getenv;
    sts_settings sts;
    shared_files files;
};

result<std::string> read_token_file(const std::string& path, std::string_view named_by)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        return refuse(std::string(named_by) + " " + path + ": " +
                      (err == ENOENT ? std::string("no such file") : std::string(std::strerror(err))));
    }
    std::ostringstream text;
    text << in.rdbuf();
    std::string token = text.str();
    while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
    std::size_t first = 0;
    while (first < token.size() && std::isspace(static_cast<unsigned char>(token[first]))) ++first;
    token.erase(0, first);
    if (token.empty()) return refuse(std::string(named_by) + " " + path + ": the file is empty");
    return token;
}

result<resolved_credentials> web_identity_from_file(const chain_context& ctx, const std::string& role_arn,
                                                    const std::string& token_file, std::string session_name,
                                                    int duration_seconds, std::string_view named_by)
{
    auto token = read_token_file(token_file, named_by);
    if (!token) return token.error();
    web_identity_request request;
    request.role_arn = role_arn;
    request.session_name = std::move(session_name);
    request.token = std::move(*token);
    request.duration_seconds = duration_seconds;
    return assume_role_with_web_identity(ctx.sts, request);
}

provider_result from_environment(const chain_context& ctx)
{
    const auto id = env_value(ctx.getenv, "AWS_ACCESS_KEY_ID");
    const auto secret = env_value(ctx.getenv, "AWS_SECRET_ACCESS_KEY");
    if (id.empty() && secret.empty()) return std::optional<resolved_credentials>();
    if (secret.empty()) return refuse("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
    if (id.empty()) return refuse("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
    resolved_credentials out;
    out.credentials = {id, secret, env_value(ctx.getenv, "AWS_SESSION_TOKEN")};
    out.source = "environment";
    return std::optional<resolved_credentials>(std::move(out));
}

provider_result from_web_identity_environment(const chain_context& ctx)
{
    const auto token_file = env_value(ctx.getenv, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const auto role_arn = env_value(ctx.getenv, "AWS_ROLE_ARN");
    if (token_file.empty() && role_arn.empty()) return std::optional<resolved_credentials>();
    if (role_arn.empty()) return refuse("AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not");
    // AWS_ROLE_ARN alone configures nothing here (other tools read it for their own purposes).
    if (token_file.empty()) return std::optional<resolved_credentials>();
    auto r = web_identity_from_file(ctx, role_arn, token_file, env_value(ctx.getenv, "AWS_ROLE_SESSION_NAME"), 0,
                                    "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (!r) return r.error();
    return std::optional<resolved_credentials>(std::move(*r));
}

provider_result from_instance_metadata(const chain_context& ctx)
{
    if (instance_metadata_disabled(ctx.getenv)) return std::optional<resolved_credentials>();
    auto r = fetch_instance_credentials(instance_metadata_endpoint(ctx.getenv));
    if (!r) return r.error();
    return std::optional<resolved_credentials>(std::move(*r));
}

int duration_of(const profile& p)
{
    const auto v = p.get("duration_seconds");
    if (v.empty()) return 0;
    try {
        return std::stoi(v);
    } catch (...) {
        return -1;
    }
}

// Credentials of a profile. `visited` catches source_profile cycles.
provider_result from_profile(const chain_context& ctx, const std::string& name, bool must_exist,
                             std::set<std::string>& visited)
{
    auto loaded = load_profile(name, ctx.files);
    if (!loaded) return loaded.error();
    if (!*loaded) {
        if (!must_exist) return std::optional<resolved_credentials>();
        return refuse("AWS profile \"" + name + "\" not found in " +
                      (ctx.files.credentials_path.empty() ? "(no credentials file)" : ctx.files.credentials_path) +
                      " or " + (ctx.files.config_path.empty() ? "(no config file)" : ctx.files.config_path));
    }
    const profile& p = **loaded;
    const std::string label = "profile " + name;
    if (!visited.insert(name).second) return refuse("AWS profile \"" + name + "\": source_profile loop");

    const auto id = p.get("aws_access_key_id");
    const auto secret = p.get("aws_secret_access_key");
    const auto role_arn = p.get("role_arn");
    if (!id.empty() && secret.empty()) return refuse("AWS " + label + " has aws_access_key_id but no aws_secret_access_key");
    if (id.empty() && !secret.empty()) return refuse("AWS " + label + " has aws_secret_access_key but no aws_access_key_id");

    // A source profile with static keys lends them even if it names a role too (botocore's rule: the keys of
    // the profile are used when it is reached as a source; otherwise its own role applies).
    const bool as_source = visited.size() > 1;
    if (!id.empty() && (role_arn.empty() || as_source)) {
        resolved_credentials out;
        out.credentials = {id, secret, p.get("aws_session_token")};
        out.source = label;
        return std::optional<resolved_credentials>(std::move(out));
    }
    if (role_arn.empty()) return std::optional<resolved_credentials>();  // e.g. a [default] with a region only

    const int duration = duration_of(p);
    if (duration < 0) return refuse("AWS " + label + ": duration_seconds is not a number");
    if (const auto token_file = p.get("web_identity_token_file"); !token_file.empty()) {
        auto r = web_identity_from_file(ctx, role_arn, token_file, p.get("role_session_name"), duration,
                                        "web_identity_token_file of " + label + ":");
        if (!r) return r.error();
        r->source += " (" + label + ")";
        return std::optional<resolved_credentials>(std::move(*r));
    }

    std::optional<resolved_credentials> base;
    const auto source_profile = p.get("source_profile");
    const auto credential_source = p.get("credential_source");
    if (!source_profile.empty() && !credential_source.empty())
        return refuse("AWS " + label + " has both source_profile and credential_source");
    if (!source_profile.empty() && source_profile == name && !id.empty()) {
        // A profile that is its own source: its keys assume its role (botocore allows this one self-reference).
        resolved_credentials self;
        self.credentials = {id, secret, p.get("aws_session_token")};
        self.source = label;
        base = std::move(self);
    } else if (!source_profile.empty()) {
        auto b = from_profile(ctx, source_profile, true, visited);
        if (!b) return b.error();
        if (!*b) return refuse("AWS " + label + ": its source_profile \"" + source_profile + "\" has no credentials");
        base = std::move(*b);
    } else if (credential_source == "Environment") {
        auto b = from_environment(ctx);
        if (!b) return b.error();
        if (!*b) return refuse("AWS " + label + ": credential_source Environment, but AWS_ACCESS_KEY_ID is not set");
        base = std::move(*b);
    } else if (credential_source == "Ec2InstanceMetadata") {
        auto b = fetch_instance_credentials(instance_metadata_endpoint(ctx.getenv));
        if (!b) return b.error();
        base = std::move(*b);
    } else if (!credential_source.empty()) {
        return refuse("AWS " + label + ": credential_source \"" + credential_source +
                      "\" is not supported (Environment and Ec2InstanceMetadata are)");
    } else {
        return refuse("AWS " + label + " has role_arn but none of source_profile, credential_source, web_identity_token_file");
    }

    assume_role_request request;
    request.role_arn = role_arn;
    request.session_name = p.get("role_session_name");
    request.external_id = p.get("external_id");
    request.duration_seconds = duration;
    auto r = assume_role(ctx.sts, base->credentials, request);
    if (!r) return r.error();
    r->source += " (" + label + ", base: " + base->source + ")";
    return std::optional<resolved_credentials>(std::move(*r));
}

std::string sts_endpoint_for(const chain_options& options, const getenv_function& getenv)
{
    if (!options.sts_endpoint.empty()) return options.sts_endpoint;
    auto e = env_value(getenv, "AWS_ENDPOINT_URL_STS");
    if (e.empty()) e = env_value(getenv, "AWS_ENDPOINT_URL");
    return e;
}

}  // namespace

result<std::string> resolve_region(const std::string& flag, const getenv_function& getenv)
{
    if (!flag.empty()) return flag;
    for (const char* name : {"AWS_REGION", "AWS_DEFAULT_REGION"})
        if (auto v = env_value(getenv, name); !v.empty()) return v;
    auto p = load_profile(profile_name(getenv), shared_file_paths(getenv));
    if (!p) return p.error();
    if (*p)
        if (auto v = (*p)->get("region"); !v.empty()) return v;
    return std::string("us-east-1");
}

result<resolved_credentials> resolve_credentials(const chain_options& options)
{
    const getenv_function getenv = options.getenv ? options.getenv : process_environment();
    auto region = resolve_region(options.region, getenv);
    if (!region) return region.error();
    chain_context ctx{options, getenv, {}, shared_file_paths(getenv)};
    ctx.sts.endpoint = sts_endpoint_for(options, getenv);
    ctx.sts.region = *region;
    ctx.sts.tls = options.tls;

    if (!options.oidc_token.empty()) {
        if (options.assume_role_arn.empty())
            return refuse("an OIDC token (PLUGIN_OIDC_TOKEN_ID) needs a role ARN to assume (PLUGIN_ASSUME_ROLE_ARN)");
        web_identity_request request;
        request.role_arn = options.assume_role_arn;
        request.session_name = options.session_name;
        request.token = options.oidc_token;
        request.duration_seconds = options.duration_seconds;
        auto r = assume_role_with_web_identity(ctx.sts, request);
        if (r) r->source += " (OIDC token)";
        return r;
    }

    std::optional<resolved_credentials> found;
    std::vector<std::string> tried;
    if (const auto& e = options.explicit_credentials;
        e && (!e->access_key_id.empty() || !e->secret_access_key.empty())) {
        if (e->access_key_id.empty() || e->secret_access_key.empty())
            return refuse(options.explicit_source + ": an access key needs both its id and its secret");
        found = resolved_credentials{*e, options.explicit_source, std::nullopt};
    }
    tried.push_back(options.explicit_source);

    const auto run = [&](provider_result r, std::string what) -> std::optional<error_info> {
        tried.push_back(std::move(what));
        if (!r) return r.error();
        found = std::move(*r);
        return std::nullopt;
    };
    if (!found)
        if (auto e = run(from_environment(ctx), "environment (AWS_ACCESS_KEY_ID)")) return *e;
    if (!found)
        if (auto e = run(from_web_identity_environment(ctx), "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)")) return *e;
    if (!found) {
        std::set<std::string> visited;
        const auto name = profile_name(getenv);
        if (auto e = run(from_profile(ctx, name, profile_named_explicitly(getenv), visited), "profile " + name)) return *e;
    }
    if (!found && !instance_metadata_disabled(getenv)) {
        auto r = from_instance_metadata(ctx);
        if (!r) {
            // Not on EC2 (or no role): the common case on CI machines, so the chain's verdict is "nothing
            // found", with the reason the metadata service gave.
            auto e = r.error();
            std::string list;
            for (const auto& t : tried) list += t + ", ";
            return refuse("no AWS credentials found (tried " + list + "EC2 instance metadata: " + e.to_string() + ")");
        }
        found = std::move(*r);
    }
    if (!found) {
        std::string list;
        for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
        return refuse("no AWS credentials found (tried " + list + "; EC2 instance metadata is disabled)");
    }

    if (options.assume_role_arn.empty()) return std::move(*found);
    assume_role_request request;
    request.role_arn = options.assume_role_arn;
    request.session_name = options.session_name;
    request.external_id = options.external_id;
    request.duration_seconds = options.duration_seconds;
    auto assumed = assume_role(ctx.sts, found->credentials, request);
    if (!assumed) return assumed.error();
    assumed->source += " (base: " + found->source + ")";
    return assumed;
}

}  // namespace cachestep::app::credentials
