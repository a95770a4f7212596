#include <cachestep/engine/io.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cachestep::engine {
namespace {

// Measured on this project's VM (dd, 1 GiB into the page cache): 256 KiB writes cost 0.24 s of kernel time,
// 512 KiB 0.40 s, 2 MiB or more 1.4-2.7 s (L2 is 512 KiB here). Parts are 8 MiB: they go through in slices.
constexpr std::size_t io_slice = 256 * 1024;

}  // namespace

result<std::size_t> fd_source::read(std::span<char> buffer)
{
    // Fill as much of the buffer as the descriptor gives before returning: pipes hand out 64 KiB at a time.
    std::size_t filled = 0;
    while (filled < buffer.size()) {
        const ssize_t n = ::read(fd_, buffer.data() + filled, std::min(buffer.size() - filled, io_slice));
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            return error_info(engine_errc::source_failed, "reading " + name_ + ": " + std::strerror(errno));
        }
        filled += static_cast<std::size_t>(n);
    }
    return filled;
}

result<void> fd_sink::write(std::span<const char> bytes)
{
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd_, bytes.data(), std::min(bytes.size(), io_slice));
        if (n < 0) {
            if (errno == EINTR) continue;
            return error_info(engine_errc::sink_failed, "writing " + name_ + ": " + std::strerror(errno));
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

void fd_sink::expect_size(std::uint64_t bytes)
{
    // ext4 on this VM: writing 1 GiB into reserved blocks costs ~0.12 s of kernel time instead of ~0.16.
    // Only for regular files, and only a hint: a failure here changes nothing.
    struct stat st {};
    if (bytes == 0 || ::fstat(fd_, &st) != 0 || !S_ISREG(st.st_mode)) return;
    const off_t at = ::lseek(fd_, 0, SEEK_CUR);
    if (at < 0) return;
    (void)::posix_fallocate(fd_, at, static_cast<off_t>(bytes));
}

result<std::size_t> memory_source::read(std::span<char> buffer)
{
    const std::size_t n = std::min(buffer.size(), data_.size());
    std::copy_n(data_.data(), n, buffer.data());
    data_ = data_.subspan(n);
    return n;
}

result<void> memory_sink::write(std::span<const char> bytes)
{
    data_.insert(data_.end(), bytes.begin(), bytes.end());
    return {};
}

}  // namespace cachestep::engine
