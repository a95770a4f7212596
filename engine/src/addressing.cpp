#include "addressing.hpp"

#include <cachestep/sigv4/canonical.hpp>

#include <boost/url/parse.hpp>

#include <algorithm>

namespace cachestep::engine::detail {
namespace {

error_info refuse(std::string what)
{
    return error_info(engine_errc::invalid_argument, std::move(what));
}

bool ends_with(std::string_view s, std::string_view suffix)
{
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

result<endpoint> resolve_endpoint(const endpoint_config& cfg, std::string_view default_region)
{
    endpoint ep;
    ep.region = cfg.region.empty() ? std::string(default_region) : cfg.region;
    if (cfg.url.empty()) {
        const bool china = ep.region.rfind("cn-", 0) == 0;
        ep.host = "s3." + ep.region + (china ? ".amazonaws.com.cn" : ".amazonaws.com");
        ep.is_aws = true;
        return ep;
    }
    const auto url = boost::urls::parse_absolute_uri(cfg.url);
    if (!url && cfg.url.find("://") == std::string::npos)
        return refuse("endpoint \"" + cfg.url + "\" has no scheme: write http://" + cfg.url + " or https://" + cfg.url);
    if (!url) return refuse("endpoint \"" + cfg.url + "\" is not a valid URL (e.g. http://127.0.0.1:9000)");
    if (url->scheme() == "https")
        ep.tls = true;
    else if (url->scheme() == "http")
        ep.tls = false;
    else
        return refuse("endpoint \"" + cfg.url + "\": the scheme must be http or https");
    if (url->has_userinfo()) return refuse("endpoint \"" + cfg.url + "\" must not contain user information");
    if (url->has_query() || url->has_fragment())
        return refuse("endpoint \"" + cfg.url + "\" must not have a query or fragment");
    if (!url->encoded_path().empty() && url->encoded_path() != "/")
        return refuse("endpoint \"" + cfg.url + "\" must not have a path (the bucket is given separately)");
    ep.host = url->host_address();  // IPv6 without brackets
    if (ep.host.empty()) return refuse("endpoint \"" + cfg.url + "\" has no host");
    ep.port = ep.tls ? 443 : 80;
    if (url->has_port()) {
        const auto n = url->port_number();
        if (n == 0) return refuse("endpoint \"" + cfg.url + "\" has an invalid port");
        ep.port = n;
    }
    std::string lower = ep.host;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    ep.is_aws = ends_with(lower, ".amazonaws.com") || ends_with(lower, ".amazonaws.com.cn");
    return ep;
}

bool is_virtual_host_compatible(std::string_view bucket, bool tls)
{
    if (bucket.size() < 3 || bucket.size() > 63) return false;
    const auto ok_char = [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || (c == '.' && !tls);
    };
    if (!std::all_of(bucket.begin(), bucket.end(), ok_char)) return false;
    return bucket.front() != '-' && bucket.back() != '-' && bucket.front() != '.' && bucket.back() != '.' &&
           bucket.find("..") == std::string_view::npos;
}

result<request_target> make_target(const endpoint& ep, addressing_style style, std::string_view bucket,
                                   std::string_view key)
{
    if (bucket.empty()) return refuse("no bucket given");
    if (bucket.find('/') != std::string_view::npos) return refuse("bucket \"" + std::string(bucket) + "\" contains '/'");
    if (key.size() > 1024) return refuse("key is longer than S3's 1024-byte limit");

    bool virtual_hosted = false;
    switch (style) {
    case addressing_style::virtual_hosted:
        if (!is_virtual_host_compatible(bucket, ep.tls))
            return refuse("bucket \"" + std::string(bucket) + "\" cannot be addressed virtual-hosted style" +
                          (ep.tls ? " over TLS" : "") + "; use path-style addressing");
        virtual_hosted = true;
        break;
    case addressing_style::automatic: virtual_hosted = ep.is_aws && is_virtual_host_compatible(bucket, ep.tls); break;
    case addressing_style::path: break;
    }

    request_target t;
    t.tls = ep.tls;
    t.port = ep.port;
    t.connect_host = virtual_hosted ? std::string(bucket) + "." + ep.host : ep.host;
    const bool ipv6 = t.connect_host.find(':') != std::string::npos;
    t.host_header = ipv6 ? "[" + t.connect_host + "]" : t.connect_host;
    if (ep.port != (ep.tls ? 443 : 80)) t.host_header += ":" + std::to_string(ep.port);
    t.path = "/";
    if (!virtual_hosted) {
        t.path += sigv4::uri_encode(bucket, false);
        if (!key.empty()) t.path += "/";
    }
    sigv4::uri_encode(key, /*keep_slash=*/true, t.path);
    return t;
}

}  // namespace cachestep::engine::detail
