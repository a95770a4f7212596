#include "safe_tree.hpp"

#include "entry_path.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace cachestep::archive::detail {
namespace {

constexpr std::size_t max_cached_directories = 1024;  // open descriptors kept for reuse

failure through_symlink(std::string_view entry, std::string_view component)
{
    return failure{make_error_code(archive_errc::through_symlink), std::string(entry),
                   "refused: '" + std::string(component) + "' is a symlink; the entry would be written through it"};
}

bool is_symlink_at(int dir_fd, const std::string& leaf)
{
    struct stat st{};
    return ::fstatat(dir_fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

}  // namespace

failure io_failure(std::string_view entry, const std::string& what, int err)
{
    return failure{make_error_code(archive_errc::io_failed), std::string(entry),
                   what + " (" + std::strerror(err) + ")"};
}

dir_handle::~dir_handle()
{
    if (fd_ >= 0) ::close(fd_);
}

result<std::unique_ptr<safe_tree>> safe_tree::open(const std::filesystem::path& jail)
{
    std::error_code ec;
    std::filesystem::create_directories(jail, ec);
    if (ec) return failure{make_error_code(archive_errc::io_failed), jail.string(),
                           "cannot create the destination (" + ec.message() + ")"};
    const int fd = ::open(jail.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_failure(jail.string(), "cannot open the destination", errno);
    return std::unique_ptr<safe_tree>(new safe_tree(std::make_shared<const dir_handle>(fd)));
}

result<dir_ref> safe_tree::directory(std::string_view relative, std::string_view entry)
{
    if (relative.empty()) return root_;
    const std::string key(relative);
    if (auto it = cache_.find(key); it != cache_.end()) return it->second;
    auto parent = directory(parent_of(relative), entry);
    if (!parent) return parent.error();
    const std::string leaf(leaf_of(relative));
    for (int attempt = 0;; ++attempt) {
        const int fd = ::openat((*parent)->fd(), leaf.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            if (cache_.size() >= max_cached_directories) cache_.clear();
            auto handle = std::make_shared<const dir_handle>(fd);
            cache_.emplace(key, handle);
            return dir_ref(handle);
        }
        const int err = errno;
        if (err == ENOENT && attempt == 0) {
            if (::mkdirat((*parent)->fd(), leaf.c_str(), 0755) != 0 && errno != EEXIST)
                return io_failure(entry, "cannot create directory '" + key + "'", errno);
            continue;
        }
        if ((err == ENOTDIR || err == ELOOP) && is_symlink_at((*parent)->fd(), leaf)) return through_symlink(entry, key);
        return io_failure(entry, "cannot open directory '" + key + "'", err);
    }
}

result<void> safe_tree::remove_existing(int dir_fd, const std::string& leaf, std::string_view entry)
{
    if (::unlinkat(dir_fd, leaf.c_str(), 0) == 0 || errno == ENOENT) return {};
    if (errno == EISDIR || errno == EPERM) {
        if (::unlinkat(dir_fd, leaf.c_str(), AT_REMOVEDIR) == 0 || errno == ENOENT) return {};
        if (errno == ENOTEMPTY || errno == EEXIST)
            return failure{make_error_code(archive_errc::target_is_directory), std::string(entry),
                           "cannot replace a non-empty directory with"};
    }
    return io_failure(entry, "cannot replace the existing entry", errno);
}

result<void> safe_tree::make_directory(std::string_view relative, mode_t mode, std::string_view entry)
{
    if (relative.empty()) return {};  // the jail itself exists
    auto parent = directory(parent_of(relative), entry);
    if (!parent) return parent.error();
    const std::string leaf(leaf_of(relative));
    const mode_t initial = (mode & 0777) | 0700;
    if (::mkdirat((*parent)->fd(), leaf.c_str(), initial) == 0) return {};
    if (errno != EEXIST) return io_failure(entry, "cannot create the directory", errno);
    struct stat st{};
    if (::fstatat((*parent)->fd(), leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) return {};
    // A file or symlink where the archive has a directory: the archive's view wins, as a fresh restore would.
    if (auto r = remove_existing((*parent)->fd(), leaf, entry); !r) return r;
    cache_.clear();
    if (::mkdirat((*parent)->fd(), leaf.c_str(), initial) != 0)
        return io_failure(entry, "cannot create the directory", errno);
    return {};
}

result<void> safe_tree::make_symlink(std::string_view relative, const std::string& target, const timespec& mtime,
                                     std::string_view entry)
{
    auto parent = directory(parent_of(relative), entry);
    if (!parent) return parent.error();
    const std::string leaf(leaf_of(relative));
    if (::symlinkat(target.c_str(), (*parent)->fd(), leaf.c_str()) != 0) {
        if (errno != EEXIST) return io_failure(entry, "cannot create the symlink", errno);
        if (auto r = remove_existing((*parent)->fd(), leaf, entry); !r) return r;
        cache_.clear();  // it may have been a directory we had open
        if (::symlinkat(target.c_str(), (*parent)->fd(), leaf.c_str()) != 0)
            return io_failure(entry, "cannot create the symlink", errno);
    }
    const timespec times[2] = {mtime, mtime};
    ::utimensat((*parent)->fd(), leaf.c_str(), times, AT_SYMLINK_NOFOLLOW);  // best effort, as tar
    return {};
}

result<void> safe_tree::make_hardlink(std::string_view relative, std::string_view target_relative,
                                      std::string_view entry)
{
    if (target_relative.empty())
        return failure{make_error_code(archive_errc::hardlink_escapes_root), std::string(entry),
                       "refused: a hard link to the destination directory itself"};
    auto target_dir = directory(parent_of(target_relative), entry);
    if (!target_dir) return target_dir.error();
    auto parent = directory(parent_of(relative), entry);
    if (!parent) return parent.error();
    const std::string target_leaf(leaf_of(target_relative)), leaf(leaf_of(relative));
    for (int attempt = 0;; ++attempt) {
        // flags 0: a symlink target is linked as the symlink itself, never followed
        if (::linkat((*target_dir)->fd(), target_leaf.c_str(), (*parent)->fd(), leaf.c_str(), 0) == 0) return {};
        const int err = errno;
        if (err == EEXIST && attempt == 0) {
            if (auto r = remove_existing((*parent)->fd(), leaf, entry); !r) return r;
            continue;
        }
        if (err == ENOENT)
            return failure{make_error_code(archive_errc::hardlink_escapes_root), std::string(entry),
                           "refused: the hard link's target '" + std::string(target_relative) +
                               "' does not exist in the destination"};
        return io_failure(entry, "cannot create the hard link", err);
    }
}

result<void> safe_tree::finish_directory(std::string_view relative, mode_t mode, const timespec& mtime,
                                         std::string_view entry)
{
    int fd = -1;
    if (relative.empty()) {
        fd = ::openat(root_->fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    } else {
        auto parent = directory(parent_of(relative), entry);
        if (!parent) return parent.error();
        fd = ::openat((*parent)->fd(), std::string(leaf_of(relative)).c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return {};  // replaced by a later entry, or gone: nothing to finish
    const timespec times[2] = {mtime, mtime};
    const bool ok = ::fchmod(fd, mode & 01777) == 0 && ::futimens(fd, times) == 0;
    const int err = errno;
    ::close(fd);
    if (!ok) return io_failure(entry, "cannot set the directory's mode and mtime", err);
    return {};
}

result<int> safe_tree::create_file(const dir_handle& dir, std::string_view leaf_view, mode_t mode,
                                   std::string_view entry)
{
    const std::string leaf(leaf_view);
    for (int attempt = 0;; ++attempt) {
        const int fd = ::openat(dir.fd(), leaf.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                mode & 0777);
        if (fd >= 0) return fd;
        if (errno == EEXIST && attempt == 0) {
            if (auto r = remove_existing(dir.fd(), leaf, entry); !r) return r.error();
            continue;
        }
        return io_failure(entry, "cannot create the file", errno);
    }
}

}  // namespace cachestep::archive::detail
