// The packer's threads: one producer walks the sources and writes the tar stream into chunks; the
// ordered_compressor's workers compress them; read() hands out the frames in order.
#include <cachestep/archive/pack.hpp>

#include "ordered_compressor.hpp"
#include "source_walker.hpp"
#include "tar_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace cachestep::archive {

using detail::ordered_compressor;
using detail::tar_header;
using detail::tar_writer;
using detail::walk_entry;

namespace {

constexpr std::size_t read_slice = 1 << 20;  // file reads: big enough that syscalls do not dominate

std::string describe_special(mode_t mode)
{
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISFIFO(mode)) return "a fifo";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    return "an unknown file type";
}

}  // namespace

struct packer::impl {
    explicit impl(pack_options o, int level, unsigned threads, std::size_t chunk_bytes)
        : options(std::move(o)), chunk_size(chunk_bytes),
          pool(options.format, level, threads, /*window=*/2 * threads + 2)
    {
    }

    pack_options options;
    const std::size_t chunk_size;
    ordered_compressor pool;
    std::thread producer;

    std::atomic<std::uint64_t> files{0}, directories{0}, symlinks{0}, hardlinks{0}, skipped{0};
    std::atomic<std::uint64_t> file_bytes{0}, tar_bytes{0}, stored_bytes{0};
    std::atomic<bool> cancelled{false};

    std::mutex failure_mutex;
    std::optional<failure> producer_failure;  // set before the pool is cancelled

    // Producer state (producer thread only)
    std::vector<char> chunk;
    std::vector<char> scratch;
    std::map<std::pair<dev_t, ino_t>, std::string> first_links;  // files with st_nlink > 1, by inode

    // Reader state (the read() caller only)
    std::vector<char> frame;
    std::size_t frame_offset{0};
    bool at_end{false};
    std::optional<failure> read_failure;

    void warn(const std::string& text)
    {
        if (options.warn) options.warn(text);
    }

    result<void> emit(std::span<const char> bytes)
    {
        tar_bytes += bytes.size();
        while (!bytes.empty()) {
            if (chunk.capacity() < chunk_size) chunk.reserve(chunk_size);
            const std::size_t n = std::min(bytes.size(), chunk_size - chunk.size());
            chunk.insert(chunk.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(n));
            bytes = bytes.subspan(n);
            if (chunk.size() == chunk_size) {
                if (!pool.submit(std::move(chunk))) return failure{make_error_code(archive_errc::cancelled), {}};
                chunk = pool.next_buffer();
            }
        }
        return {};
    }

    result<void> write_file(tar_writer& tar, const walk_entry& e, tar_header& h)
    {
        const int fd = ::openat(e.dir_fd, e.leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) {
                warn("skipped (removed while saving): " + e.disk_path);
                ++skipped;
                return {};
            }
            return failure{make_error_code(archive_errc::unreadable_source), e.disk_path,
                           std::string("cannot read (") + std::strerror(errno) + ")"};
        }
        struct closer {
            int fd;
            ~closer() { ::close(fd); }
        } close_fd{fd};
        struct stat now{};
        if (::fstat(fd, &now) != 0 || !S_ISREG(now.st_mode))
            return failure{make_error_code(archive_errc::file_changed), e.disk_path, "changed while saving"};
        h.size = static_cast<std::uint64_t>(now.st_size);
        h.mtime = now.st_mtim;
        if (auto r = tar.begin_entry(h); !r) return r;
        ++files;
        std::uint64_t left = h.size;
        if (scratch.size() < read_slice) scratch.resize(read_slice);
        while (left > 0) {
            const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, scratch.size()));
            const ssize_t n = ::read(fd, scratch.data(), want);
            if (n < 0) {
                if (errno == EINTR) continue;
                return failure{make_error_code(archive_errc::unreadable_source), e.disk_path,
                               std::string("cannot read (") + std::strerror(errno) + ")"};
            }
            if (n == 0)
                return failure{make_error_code(archive_errc::file_changed), e.disk_path,
                               "file shrank while it was being saved (" + std::to_string(left) + " bytes short)"};
            if (auto r = tar.data({scratch.data(), static_cast<std::size_t>(n)}); !r) return r;
            left -= static_cast<std::uint64_t>(n);
            file_bytes += static_cast<std::uint64_t>(n);
        }
        if (::read(fd, scratch.data(), 1) > 0) warn("file grew while it was being saved; stored its first " +
                                                     std::to_string(h.size) + " bytes: " + e.disk_path);
        return {};
    }

    result<void> visit(tar_writer& tar, const walk_entry& e)
    {
        if (cancelled) return failure{make_error_code(archive_errc::cancelled), {}};
        const auto& st = e.info;
        tar_header h;
        h.name = e.name;
        h.permissions = st.st_mode & 07777;
        h.mtime = st.st_mtim;
        h.uid = st.st_uid;
        h.gid = st.st_gid;
        if (S_ISDIR(st.st_mode)) {
            h.type = S_IFDIR;
            ++directories;
            return tar.begin_entry(h);
        }
        if (S_ISLNK(st.st_mode)) {
            if (options.skip_symlinks) {
                ++skipped;
                return {};
            }
            std::string target(static_cast<std::size_t>(st.st_size > 0 ? st.st_size : 256) + 1, '\0');
            const ssize_t n = ::readlinkat(e.dir_fd, e.leaf, target.data(), target.size());
            if (n < 0 || static_cast<std::size_t>(n) >= target.size())
                return failure{make_error_code(archive_errc::unreadable_source), e.disk_path,
                               "cannot read the symbolic link"};
            target.resize(static_cast<std::size_t>(n));
            h.type = S_IFLNK;
            h.symlink_target = std::move(target);
            ++symlinks;
            return tar.begin_entry(h);
        }
        if (S_ISREG(st.st_mode)) {
            if (st.st_nlink > 1) {
                auto [it, first] = first_links.try_emplace({st.st_dev, st.st_ino}, e.name);
                if (!first) {
                    h.hardlink_target = it->second;
                    ++hardlinks;
                    return tar.begin_entry(h);
                }
            }
            return write_file(tar, e, h);
        }
        warn("skipped " + describe_special(st.st_mode) + ": " + e.disk_path);
        ++skipped;
        return {};
    }

    result<void> produce()
    {
        tar_writer tar([this](std::span<const char> b) { return emit(b); });
        std::size_t found = 0;
        for (const auto& source : options.sources) {
            auto r = detail::walk_source(source.path.string(), source.name,
                                         [&](const walk_entry& e) { return visit(tar, e); });
            if (!r && r.error().code == archive_errc::no_source) {
                warn("source path does not exist, skipped: " + source.path.string());
                continue;
            }
            if (!r) return r;
            ++found;
        }
        if (found == 0) {
            std::string names;
            for (const auto& s : options.sources) names += (names.empty() ? "" : ", ") + s.path.string();
            return failure{make_error_code(archive_errc::no_source), names, "nothing to save: no source path exists:"};
        }
        if (auto r = tar.finish(); !r) return r;
        if (!chunk.empty() && !pool.submit(std::move(chunk)))
            return failure{make_error_code(archive_errc::cancelled), {}};
        return {};
    }

    void run_producer()
    {
        if (auto r = produce(); !r) {
            {
                std::lock_guard lock(failure_mutex);
                producer_failure = r.error();
            }
            pool.cancel();
            return;
        }
        pool.close();
    }
};

result<std::unique_ptr<packer>> packer::start(pack_options options)
{
    if (options.sources.empty())
        return failure{make_error_code(archive_errc::invalid_argument), {}, "no source path given"};
    const int level = options.level == 0 ? default_level(options.format) : options.level;
    const auto range = levels(options.format);
    if (level < range.min || level > range.max)
        return failure{make_error_code(archive_errc::invalid_argument), {},
                       "compression level " + std::to_string(options.level) + " is outside " +
                           std::to_string(range.min) + ".." + std::to_string(range.max) + " for " +
                           std::string(codec_name(options.format))};
    unsigned threads = options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
    if (options.format == codec::none) threads = 1;  // nothing to compress: one worker just passes chunks on
    std::size_t chunk = options.chunk_size ? options.chunk_size
                                           : (options.format == codec::zstd ? std::size_t{2} << 20 : std::size_t{1} << 20);
    auto state = std::make_unique<impl>(std::move(options), level, threads, chunk);
    auto* raw = state.get();
    raw->producer = std::thread([raw] { raw->run_producer(); });
    return std::unique_ptr<packer>(new packer(std::move(state)));
}

packer::packer(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

packer::~packer()
{
    cancel();
    if (impl_->producer.joinable()) impl_->producer.join();
}

void packer::cancel()
{
    impl_->cancelled = true;
    impl_->pool.cancel();
}

result<std::size_t> packer::read(std::span<char> buffer)
{
    auto& s = *impl_;
    if (s.read_failure) return *s.read_failure;
    while (s.frame_offset == s.frame.size()) {
        if (s.at_end) return std::size_t{0};
        s.pool.recycle(std::move(s.frame));
        s.frame.clear();
        s.frame_offset = 0;
        auto next = s.pool.take();
        if (!next) {
            std::lock_guard lock(s.failure_mutex);
            if (s.producer_failure) s.read_failure = s.producer_failure;
            else if (s.cancelled) s.read_failure = failure{make_error_code(archive_errc::cancelled), {}};
            else {
                s.at_end = true;
                if (s.producer.joinable()) s.producer.join();
                return std::size_t{0};
            }
            return *s.read_failure;
        }
        if (!*next) {
            s.read_failure = next->error();
            return *s.read_failure;
        }
        s.frame = std::move(next->value());
        s.stored_bytes += s.frame.size();
    }
    const std::size_t n = std::min(buffer.size(), s.frame.size() - s.frame_offset);
    std::memcpy(buffer.data(), s.frame.data() + s.frame_offset, n);
    s.frame_offset += n;
    return n;
}

pack_stats packer::stats() const
{
    const auto& s = *impl_;
    return pack_stats{s.files, s.directories, s.symlinks, s.hardlinks, s.skipped,
                      s.file_bytes, s.tar_bytes, s.stored_bytes};
}

result<pack_stats> pack_to_fd(pack_options options, int fd)
{
    auto p = packer::start(std::move(options));
    if (!p) return p.error();
    std::vector<char> buffer(1 << 20);
    for (;;) {
        auto n = (*p)->read(buffer);
        if (!n) return n.error();
        if (*n == 0) break;
        std::size_t done = 0;
        while (done < *n) {
            const ssize_t w = ::write(fd, buffer.data() + done, *n - done);
            if (w < 0) {
                if (errno == EINTR) continue;
                return failure{make_error_code(archive_errc::io_failed), {},
                               std::string("cannot write the archive (") + std::strerror(errno) + ")"};
            }
            done += static_cast<std::size_t>(w);
        }
    }
    return (*p)->stats();
}

}  // namespace cachestep::archive
