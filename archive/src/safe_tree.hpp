#pragma once
// File system operations confined to one directory tree (the jail). Every path is walked one component at a
// time from the jail's descriptor with O_NOFOLLOW, so no component can be a symbolic link: writing through a
// link, whether it was on disk before or the archive made it, is impossible by construction. Existing entries
// are replaced (unlinked, then created), never written into.
//
// Threads: directory() and the make_* functions belong to one thread (the parser); the handles they return and
// create_file() may be used from any thread.

#include <cachestep/archive/error.hpp>

#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cachestep::archive::detail {

class dir_handle {
public:
    explicit dir_handle(int fd) : fd_(fd) {}
    ~dir_handle();
    dir_handle(const dir_handle&) = delete;
    dir_handle& operator=(const dir_handle&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;  // O_PATH | O_DIRECTORY
};
using dir_ref = std::shared_ptr<const dir_handle>;

class safe_tree {
public:
    // Creates the jail (and its parents: the jail path itself is the caller's choice, trusted) and opens it.
    static result<std::unique_ptr<safe_tree>> open(const std::filesystem::path& jail);

    // The directory at `relative` ("" is the jail), creating missing components (mode 0755). A component that
    // is a symlink is through_symlink; one that is a file, io_failed. `entry` names the entry for messages.
    result<dir_ref> directory(std::string_view relative, std::string_view entry);

    // A directory at `relative`: kept if one exists, created (mode | 0700, so we can fill it; the final mode
    // comes with finish_directory) if not, and an existing non-directory there is replaced.
    result<void> make_directory(std::string_view relative, mode_t mode, std::string_view entry);
    result<void> make_symlink(std::string_view relative, const std::string& target, const timespec& mtime,
                              std::string_view entry);
    result<void> make_hardlink(std::string_view relative, std::string_view target_relative, std::string_view entry);
    // The directory's final mode and mtime (skipped if it is no longer a directory).
    result<void> finish_directory(std::string_view relative, mode_t mode, const timespec& mtime, std::string_view entry);

    // Creates `leaf` in `dir` for writing, replacing whatever non-directory is there. Returns the descriptor.
    static result<int> create_file(const dir_handle& dir, std::string_view leaf, mode_t mode, std::string_view entry);
    // Removes what replace would remove: a non-directory, or an empty directory.
    static result<void> remove_existing(int dir_fd, const std::string& leaf, std::string_view entry);

private:
    explicit safe_tree(dir_ref root) : root_(std::move(root)) {}
    dir_ref root_;
    std::unordered_map<std::string, dir_ref> cache_;  // resolved directories by relative path
};

failure io_failure(std::string_view entry, const std::string& what, int err);

}  // namespace cachestep::archive::detail
