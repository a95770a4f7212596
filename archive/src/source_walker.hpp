#pragma once
// Walks one source path in the order the Drone plugin's Go filepath.Walk uses (pre-order; children sorted by
// byte order of their names) and hands every entry to a visitor, with a directory descriptor to open it
// relative to (openat), so a path is resolved once per directory and never through a symlink.

#include <cachestep/archive/error.hpp>

#include <sys/stat.h>

#include <functional>
#include <string>

namespace cachestep::archive::detail {

struct walk_entry {
    std::string name;       // its archive name
    std::string disk_path;  // for messages
    int dir_fd;             // the directory holding it (AT_FDCWD for a source root)
    const char* leaf;       // its name in dir_fd (the whole path for a source root)
    struct stat info;       // lstat: a symlink is reported as a symlink, never followed
};

// Returns the visitor's first failure; an unreadable directory is unreadable_source naming it. A source
// that does not exist is reported as archive_errc::no_source (the caller decides: warn and skip).
using walk_visitor = std::function<result<void>(const walk_entry&)>;
result<void> walk_source(const std::string& disk_path, const std::string& archive_name, const walk_visitor& visit);

// Go's path.Clean for archive names: no "." or empty components, ".." resolved lexically where possible, no
// trailing slash; "" becomes ".".
std::string clean_name(std::string_view name);

}  // namespace cachestep::archive::detail
