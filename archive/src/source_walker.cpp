#include "source_walker.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace cachestep::archive::detail {
namespace {

failure unreadable(const std::string& path, int err)
{
    return failure{make_error_code(archive_errc::unreadable_source), path,
                   std::string("cannot read (") + std::strerror(err) + ")"};
}

class fd_guard {
public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard()
    {
        if (fd_ >= 0) ::close(fd_);
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// The names in a directory, sorted by bytes; "." and ".." left out.
result<std::vector<std::string>> list_directory(int dir_fd, const std::string& disk_path)
{
    const int fd = ::dup(dir_fd);
    if (fd < 0) return unreadable(disk_path, errno);
    DIR* dir = ::fdopendir(fd);
    if (!dir) {
        const int err = errno;
        ::close(fd);
        return unreadable(disk_path, err);
    }
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
        errno = 0;
    }
    const int err = errno;
    ::closedir(dir);
    if (err != 0) return unreadable(disk_path, err);
    std::sort(names.begin(), names.end());  // std::string compares as unsigned bytes: Go's sort.Strings order
    return names;
}

std::string join_name(const std::string& parent, const std::string& leaf)
{
    if (parent == ".") return leaf;
    if (!parent.empty() && parent.back() == '/') return parent + leaf;
    return parent + "/" + leaf;
}

result<void> walk_directory(const walk_entry& dir, const std::string& children_prefix, const walk_visitor& visit)
{
    fd_guard fd(::openat(dir.dir_fd, dir.leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return {};  // removed since it was listed: nothing left to store
        return unreadable(dir.disk_path, errno);
    }
    auto names = list_directory(fd.get(), dir.disk_path);
    if (!names) return names.error();
    for (const auto& leaf : *names) {
        walk_entry child{join_name(children_prefix, leaf), join_name(dir.disk_path, leaf), fd.get(), leaf.c_str(), {}};
        if (::fstatat(fd.get(), leaf.c_str(), &child.info, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT) continue;  // vanished between readdir and stat
            return unreadable(child.disk_path, errno);
        }
        if (auto r = visit(child); !r) return r;
        if (S_ISDIR(child.info.st_mode)) {
            if (auto r = walk_directory(child, child.name, visit); !r) return r;
        }
    }
    return {};
}

}  // namespace

std::string clean_name(std::string_view name)
{
    const bool absolute = !name.empty() && name.front() == '/';
    std::vector<std::string_view> parts;
    std::size_t i = 0;
    while (i <= name.size()) {
        std::size_t j = name.find('/', i);
        if (j == std::string_view::npos) j = name.size();
        const std::string_view part = name.substr(i, j - i);
        if (part == "..") {
            if (!parts.empty() && parts.back() != "..") parts.pop_back();
            else if (!absolute) parts.push_back(part);  // "/.." is "/"
        } else if (!part.empty() && part != ".") {
            parts.push_back(part);
        }
        i = j + 1;
    }
    std::string out = absolute ? "/" : "";
    for (std::size_t k = 0; k < parts.size(); ++k) {
        if (k > 0) out += '/';
        out += parts[k];
    }
    return out.empty() ? "." : out;
}

result<void> walk_source(const std::string& disk_path, const std::string& archive_name, const walk_visitor& visit)
{
    walk_entry root{archive_name, disk_path, AT_FDCWD, disk_path.c_str(), {}};
    if (::fstatat(AT_FDCWD, disk_path.c_str(), &root.info, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return failure{make_error_code(archive_errc::no_source), disk_path, "no such file or directory"};
        return unreadable(disk_path, errno);
    }
    if (auto r = visit(root); !r) return r;
    if (S_ISDIR(root.info.st_mode)) return walk_directory(root, clean_name(archive_name), visit);
    return {};
}

}  // namespace cachestep::archive::detail
