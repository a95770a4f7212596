#pragma once
// Helpers for the credential-chain suites: a fake environment and a scratch directory for shared files.

#include "resolved_credentials.hpp"

#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace cachestep::app::credentials::testing {

inline getenv_function fake_env(std::map<std::string, std::string> vars)
{
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        const auto it = vars.find(std::string(name));
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}

// A fresh directory under the system temp dir, removed with everything in it at the end of the test.
class scratch_dir {
public:
    scratch_dir()
    {
        const auto base = std::filesystem::temp_directory_path();
        for (int i = 0;; ++i) {
            path_ = base / ("cachestep-creds-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) +
                            "-" + std::to_string(i));
            if (std::filesystem::create_directory(path_)) break;
        }
    }
    ~scratch_dir()
    {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // Writes a file (creating parent directories) and returns its path.
    std::string write(const std::string& relative, const std::string& text) const
    {
        const auto p = path_ / relative;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << text;
        return p.string();
    }
    std::string path() const { return path_.string(); }

private:
    static int& counter()
    {
        static int n = 0;
        return n;
    }
    std::filesystem::path path_;
};

}  // namespace cachestep::app::credentials::testing
