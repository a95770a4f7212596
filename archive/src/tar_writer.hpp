#pragma once
// Writes a POSIX pax tar stream with libarchive (restricted pax: plain ustar headers, with pax extended headers
// only where ustar cannot say it: long or non-ASCII names, sizes over 8 GiB, big ids), unblocked, into a
// callback. Knows nothing of files: the packer hands it headers and data.

#include <cachestep/archive/error.hpp>

#include <sys/stat.h>

#include <functional>
#include <span>
#include <string>

struct archive;
struct archive_entry;

namespace cachestep::archive::detail {

struct tar_header {
    std::string name;
    mode_t type{S_IFREG};       // S_IFREG, S_IFDIR, S_IFLNK (a hard link is S_IFREG with hardlink_target)
    mode_t permissions{0644};   // the 12 low bits
    std::uint64_t size{0};      // regular files only
    struct timespec mtime{};
    uid_t uid{0};
    gid_t gid{0};
    std::string symlink_target;
    std::string hardlink_target;  // the archive name of the file stored earlier
};

class tar_writer {
public:
    using output = std::function<result<void>(std::span<const char>)>;
    explicit tar_writer(output out);
    ~tar_writer();
    tar_writer(const tar_writer&) = delete;
    tar_writer& operator=(const tar_writer&) = delete;

    result<void> begin_entry(const tar_header& header);
    result<void> data(std::span<const char> bytes);  // exactly header.size bytes in all, in any pieces
    result<void> finish();                           // the end-of-archive blocks

private:
    failure library_failure(const std::string& path);
    static long write_callback(struct archive*, void* self, const void* buffer, std::size_t length);

    output out_;
    struct archive* archive_;
    struct archive_entry* entry_;
    failure output_failure_;
    bool output_failed_{false};
};

}  // namespace cachestep::archive::detail
