#pragma once
// Small things every command shares: how an error line looks, and paths made absolute and tidy.

#include <filesystem>
#include <string>

namespace cachestep::app {

// Prints "cache-step: error: <message>" on stderr; returns 1, the failure exit status.
int fail(const std::string& message);

// Absolute, lexically normal, no trailing slash ("./a/../b/" -> "/cwd/b").
std::filesystem::path absolute_normal(const std::filesystem::path& p);

}  // namespace cachestep::app
