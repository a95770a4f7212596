#include <cachestep/sigv4/signing_key.hpp>

#include <string>

namespace cachestep::sigv4 {

digest derive_signing_key(std::string_view secret_access_key, std::string_view date, std::string_view region,
                          std::string_view service)
{
    std::string root;
    root.reserve(4 + secret_access_key.size());
    root.append("AWS4").append(secret_access_key);
    const auto as_bytes = [](std::string_view s) {
        return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    };
    const digest k_date = hmac_sha256(as_bytes(root), date);
    const digest k_region = hmac_sha256(k_date, region);
    const digest k_service = hmac_sha256(k_region, service);
    return hmac_sha256(k_service, "aws4_request");
}

digest signing_key_cache::get(std::string_view secret_access_key, std::string_view date, std::string_view region,
                              std::string_view service)
{
    std::lock_guard lock(mutex_);
    if (valid_ && secret_ == secret_access_key && date_ == date && region_ == region && service_ == service)
        return key_;
    key_ = derive_signing_key(secret_access_key, date, region, service);
    secret_ = secret_access_key;
    date_ = date;
    region_ = region;
    service_ = service;
    valid_ = true;
    ++derivations_;
    return key_;
}

std::size_t signing_key_cache::derivations() const
{
    std::lock_guard lock(mutex_);
    return derivations_;
}

}  // namespace cachestep::sigv4
