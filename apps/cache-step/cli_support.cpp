#include "cli_support.hpp"

#include <iostream>

namespace cachestep::app {

int fail(const std::string& message)
{
    std::cerr << "cache-step: error: " << message << "\n";
    return 1;
}

std::filesystem::path absolute_normal(const std::filesystem::path& p)
{
    auto a = std::filesystem::absolute(p).lexically_normal();
    if (a.has_relative_path() && !a.has_filename()) a = a.parent_path();
    return a;
}

}  // namespace cachestep::app
