// cachestep-credentials-probe: resolves cache-step's credential chain from the environment (AWS_*, PLUGIN_*,
// the shared files, STS, IMDS) and prints, one "name: value" per line:
//   source, access_key_id, secret_sha256 (first 12 hex digits of the secret's SHA-256, to compare without
//   revealing it), session_token (yes/no), expiration (ISO 8601 or "none"), region
// With --bucket it then lists that bucket (ListObjectsV2, one key) with the credentials through --endpoint,
// and prints "list: ok". Exit 0 on success, 1 with "error: ..." on stderr otherwise.
// A test tool (tests/integration/test_credentials.py), not installed.

#include "credential_chain.hpp"
#include "plugin_environment.hpp"

#include <cachestep/engine/client.hpp>
#include <cachestep/engine/environment.hpp>
#include <cachestep/sigv4/crypto.hpp>

#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <iostream>

namespace creds = cachestep::app::credentials;
namespace engine = cachestep::engine;

int main(int argc, char** argv)
{
    CLI::App app{"Resolves cache-step's AWS credential chain and prints where the credentials came from"};
    std::string region, sts_endpoint, role_arn, session_name, external_id, endpoint, bucket, ca_bundle;
    bool path_style = false, no_verify_ssl = false;
    app.add_option("--region", region, "Region (else PLUGIN_REGION, AWS_REGION, ..., us-east-1)");
    app.add_option("--sts-endpoint", sts_endpoint, "STS endpoint URL (else AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL)");
    app.add_option("--assume-role-arn", role_arn, "Role to assume after the chain (else PLUGIN_ASSUME_ROLE_ARN)");
    app.add_option("--session-name", session_name, "Its session name");
    app.add_option("--external-id", external_id, "Its external id");
    app.add_option("--endpoint", endpoint, "S3 endpoint URL for --bucket");
    app.add_option("--bucket", bucket, "List this bucket with the credentials");
    app.add_flag("--path-style", path_style, "Path-style addressing");
    app.add_option("--ca-bundle", ca_bundle, "PEM file of trusted CAs");
    app.add_flag("--no-verify-ssl", no_verify_ssl, "Do not verify TLS certificates");
    CLI11_PARSE(app, argc, argv);

    const auto getenv = creds::process_environment();
    auto options = creds::chain_options_from_plugin_environment(getenv);
    if (!region.empty()) options.region = region;
    if (!sts_endpoint.empty()) options.sts_endpoint = sts_endpoint;
    if (!role_arn.empty()) options.assume_role_arn = role_arn;
    if (!session_name.empty()) options.session_name = session_name;
    if (!external_id.empty()) options.external_id = external_id;
    options.tls.ca_bundle = ca_bundle.empty() ? creds::env_value(getenv, "AWS_CA_BUNDLE") : ca_bundle;
    options.tls.verify_peer = !no_verify_ssl;

    auto resolved = creds::resolve_credentials(options);
    if (!resolved) {
        std::cerr << "error: " << resolved.error().to_string() << "\n";
        return 1;
    }
    auto resolved_region = creds::resolve_region(options.region, getenv);
    if (!resolved_region) {
        std::cerr << "error: " << resolved_region.error().to_string() << "\n";
        return 1;
    }
    const auto& c = resolved->credentials;
    std::cout << "source: " << resolved->source << "\n"
              << "access_key_id: " << c.access_key_id << "\n"
              << "secret_sha256: " << cachestep::sigv4::sha256_hex(c.secret_access_key).substr(0, 12) << "\n"
              << "session_token: " << (c.session_token.empty() ? "no" : "yes") << "\n"
              << "expiration: " << (resolved->expiration ? creds::format_iso8601_utc(*resolved->expiration) : "none")
              << "\n"
              << "region: " << *resolved_region << "\n"
              << std::flush;
    if (bucket.empty()) return 0;

    engine::client_config cfg;
    cfg.endpoint.url = endpoint;
    cfg.endpoint.region = *resolved_region;
    if (path_style) cfg.endpoint.addressing = engine::addressing_style::path;
    cfg.credentials = c;
    cfg.tls = options.tls;
    cfg.retry.max_attempts = 2;
    boost::asio::io_context io;
    auto client = engine::client::create(io.get_executor(), cfg);
    if (!client) {
        std::cerr << "error: " << client.error().to_string() << "\n";
        return 1;
    }
    const std::string prefix, token;
    auto listed = boost::asio::co_spawn(io, (*client)->list_objects_v2(bucket, prefix, token, 1), boost::asio::use_future);
    io.run();
    auto page = listed.get();
    if (!page) {
        std::cerr << "error: " << page.error().to_string() << "\n";
        return 1;
    }
    std::cout << "list: ok\n";
    return 0;
}
