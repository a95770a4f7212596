#include "tar_extractor.hpp"

#include <archive.h>
#include <archive_entry.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace cachestep::archive::detail {
namespace {

failure refused(archive_errc code, std::string_view name, std::string why)
{
    return failure{make_error_code(code), std::string(name), std::move(why)};
}

std::size_t depth(const std::string& relative)
{
    return relative.empty() ? 0 : 1 + static_cast<std::size_t>(std::count(relative.begin(), relative.end(), '/'));
}

}  // namespace

tar_extractor::tar_extractor(block_queue& input, root_resolver resolve_root, unsigned threads, mode_t umask_bits,
                             std::function<void(const std::string&)> warn, extract_counters& counters)
    : input_(input), resolve_root_(std::move(resolve_root)), pool_(threads, umask_bits), umask_bits_(umask_bits),
      warn_(std::move(warn)), counters_(counters), archive_(archive_read_new())
{
    archive_read_support_format_tar(archive_);  // tar only: no other parser is exposed to the bytes
}

tar_extractor::~tar_extractor() { archive_read_free(archive_); }

long tar_extractor::read_callback(struct archive* a, void* self, const void** buffer)
{
    auto* x = static_cast<tar_extractor*>(self);
    x->input_.recycle(std::move(x->current_block_));
    auto block = x->input_.pop();
    if (!block) {
        if (x->input_.cancelled()) {
            archive_set_error(a, ECANCELED, "cancelled");
            return -1;
        }
        x->current_block_.clear();
        return 0;  // the end of the stream
    }
    x->current_block_ = std::move(*block);
    x->stream_bytes_ += x->current_block_.size();
    // Keep the stream's last 1 KiB: whether it ends with end-of-archive blocks.
    const auto& b = x->current_block_;
    const std::size_t keep = std::min<std::size_t>(b.size(), 1024);
    x->tail_.insert(x->tail_.end(), b.end() - static_cast<std::ptrdiff_t>(keep), b.end());
    if (x->tail_.size() > 1024) x->tail_.erase(x->tail_.begin(), x->tail_.end() - 1024);
    *buffer = x->current_block_.data();
    return static_cast<long>(x->current_block_.size());
}

failure tar_extractor::library_failure(bool at_header)
{
    if (input_.cancelled()) return failure{make_error_code(archive_errc::cancelled), {}};
    const char* text = archive_error_string(archive_);
    const std::string what = text ? text : "unreadable tar stream";
    if (what.find("runcated") != std::string::npos || what.find("Premature end") != std::string::npos)
        return failure{make_error_code(archive_errc::truncated_archive), {}, "truncated archive: " + what};
    if (at_header && entries_ == 0)
        return failure{make_error_code(archive_errc::not_an_archive), {}, "not an archive: " + what};
    return failure{make_error_code(archive_errc::corrupt_archive), {}, "corrupt archive: " + what};
}

result<void> tar_extractor::run()
{
    auto r = read_entries();
    if (r) {
        if (auto f = pool_.wait_idle()) r = *f;
    }
    if (r && tree_) r = finish_directories();
    if (!r) pool_.stop();
    return r;
}

result<void> tar_extractor::read_entries()
{
    if (archive_read_open(archive_, this, nullptr, &tar_extractor::read_callback, nullptr) != ARCHIVE_OK)
        return library_failure(true);
    for (;;) {
        struct archive_entry* e = nullptr;
        const int rc = archive_read_next_header(archive_, &e);
        if (rc == ARCHIVE_EOF) break;
        if (rc < ARCHIVE_WARN) return library_failure(true);
        if (rc == ARCHIVE_WARN) {
            // A name in another character set is only a warning (the bytes are kept); anything else libarchive
            // warns about is a malformed header (a pax record that lies about its length, ...): refuse it.
            const char* text = archive_error_string(archive_);
            const std::string what = text ? text : "";
            if (what.find("convert") == std::string::npos && what.find("charset") == std::string::npos)
                return failure{make_error_code(archive_errc::corrupt_archive), {}, "corrupt archive: " + what};
            if (warn_) warn_(what);
        }
        if (auto f = pool_.first_failure()) return *f;
        const char* name = archive_entry_pathname(e);
        if (!name) name = archive_entry_pathname_utf8(e);
        if (!name) return failure{make_error_code(archive_errc::corrupt_archive), {}, "corrupt archive: an entry without a name"};
        if (auto r = extract(e, name); !r) return r;
        ++entries_;
    }
    if (entries_ == 0 && archive_filter_bytes(archive_, -1) == 0)
        return failure{make_error_code(archive_errc::not_an_archive), {}, "not an archive: no tar data"};
    return check_end_of_archive();
}

// libarchive also ends quietly when the input stops exactly between two entries ("some writers omit the
// end-of-archive blocks"), which is how a cache cut between two compressed frames looks: files silently
// missing. We require the end-of-archive mark: either libarchive stopped with input left over (it saw the
// zero block), or the stream ends with two zero blocks (every tar writer we know: GNU tar, bsdtar/libarchive,
// Go, Python write 1024 zero bytes or more).
result<void> tar_extractor::check_end_of_archive()
{
    const auto consumed = static_cast<std::uint64_t>(archive_filter_bytes(archive_, 0));
    if (consumed < stream_bytes_) return {};
    const bool zero_tail = tail_.size() == 1024 && std::all_of(tail_.begin(), tail_.end(), [](char c) { return c == 0; });
    if (zero_tail) return {};
    return failure{make_error_code(archive_errc::truncated_archive), {},
                   "truncated archive: the tar stream ends without its end-of-archive blocks (after " +
                       std::to_string(entries_) + " entries)"};
}

result<void> tar_extractor::check_no_archive_symlink(const std::string& relative, std::string_view name) const
{
    if (archive_symlinks_.empty()) return {};
    for (std::size_t slash = relative.find('/'); slash != std::string::npos; slash = relative.find('/', slash + 1)) {
        const std::string prefix = relative.substr(0, slash);
        if (archive_symlinks_.count(prefix))
            return refused(archive_errc::through_symlink, name,
                           "refused: '" + prefix + "' is a symlink this archive created; the entry would be written through it");
    }
    return {};
}

result<void> tar_extractor::extract(struct archive_entry* e, std::string_view name)
{
    if (!tree_) {
        auto root = resolve_root_(name);
        if (!root) return root.error();
        tree_ = root->tree;
        mapper_ = root->mapper;
    }
    auto relative = mapper_->map(name, entries_ == 0);
    if (!relative) return relative.error();
    if (auto r = check_no_archive_symlink(*relative, name); !r) return r;
    // A path written before (a duplicate name, or a directory replaced by a file) waits for the pool, so the
    // archive's last word wins as it would in order.
    if (!seen_.insert(std::hash<std::string>{}(*relative)).second) {
        if (auto f = pool_.wait_idle()) return *f;
    }
    const mode_t type = archive_entry_filetype(e);
    const mode_t mode = archive_entry_perm(e) & 01777;  // setuid and setgid dropped
    const timespec mtime{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};

    if (const char* link = archive_entry_hardlink(e)) {
        auto target = mapper_->map_link_target(link);
        if (!target)
            return refused(archive_errc::hardlink_escapes_root, name,
                           "refused: a hard link to '" + std::string(link) + "', outside the destination:");
        if (auto r = check_no_archive_symlink(*target, name); !r) return r;
        if (relative->empty()) return refused(archive_errc::path_escapes_root, name, "refused: replaces the destination");
        if (auto f = pool_.wait_idle()) return *f;  // the target may still be in the pool
        if (auto r = tree_->make_hardlink(*relative, *target, name); !r) return r;
        archive_symlinks_.erase(*relative);
        ++counters_.hardlinks;
        return {};
    }
    switch (type) {
    case AE_IFDIR:
        if (auto r = tree_->make_directory(*relative, mode, name); !r) return r;
        archive_symlinks_.erase(*relative);
        directories_.push_back({*relative, std::string(name), mode, mtime});
        ++counters_.directories;
        return {};
    case AE_IFLNK: {
        if (relative->empty()) return refused(archive_errc::path_escapes_root, name, "refused: replaces the destination");
        const char* target = archive_entry_symlink(e);
        if (!target) target = archive_entry_symlink_utf8(e);
        if (!target) return failure{make_error_code(archive_errc::corrupt_archive), std::string(name), "a symlink without a target"};
        if (auto r = tree_->make_symlink(*relative, target, mtime, name); !r) return r;
        archive_symlinks_.insert(*relative);
        ++counters_.symlinks;
        return {};
    }
    case AE_IFREG:
        if (relative->empty()) return refused(archive_errc::path_escapes_root, name, "refused: replaces the destination");
        if (auto r = extract_file(e, *relative, name); !r) return r;
        archive_symlinks_.erase(*relative);
        return {};
    case AE_IFCHR:
        return refused(archive_errc::special_file_refused, name, "refused: a character device");
    case AE_IFBLK:
        return refused(archive_errc::special_file_refused, name, "refused: a block device");
    case AE_IFIFO:
        return refused(archive_errc::special_file_refused, name, "refused: a fifo");
    case AE_IFSOCK:
        return refused(archive_errc::special_file_refused, name, "refused: a socket (special file)");
    default:
        return refused(archive_errc::unsupported_entry, name, "refused: an entry type we do not restore");
    }
}

result<void> tar_extractor::extract_file(struct archive_entry* e, const std::string& relative, std::string_view name)
{
    auto dir = tree_->directory(parent_of(relative), name);
    if (!dir) return dir.error();
    const std::string leaf(leaf_of(relative));
    const mode_t mode = archive_entry_perm(e) & 01777;
    const timespec mtime{archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
    const std::int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    ++counters_.files;
    if (size > small_file_limit || archive_entry_sparse_count(e) > 0)
        return stream_file(*dir, leaf, name, mode, mtime, size);

    file_job job{*dir, leaf, std::string(name), mode, mtime, {}};
    job.data.resize(static_cast<std::size_t>(size));
    std::size_t got = 0;
    while (got < job.data.size()) {
        const la_ssize_t n = archive_read_data(archive_, job.data.data() + got, job.data.size() - got);
        if (n < 0) return library_failure(false);
        if (n == 0) return failure{make_error_code(archive_errc::truncated_archive), std::string(name),
                                   "truncated archive: the data of"};
        got += static_cast<std::size_t>(n);
    }
    counters_.file_bytes += got;
    if (!pool_.submit(std::move(job))) {
        if (auto f = pool_.first_failure()) return *f;
        return failure{make_error_code(archive_errc::cancelled), {}};
    }
    return {};
}

result<void> tar_extractor::stream_file(const dir_ref& dir, const std::string& leaf, std::string_view name,
                                        mode_t mode, const timespec& mtime, std::int64_t size)
{
    auto fd = safe_tree::create_file(*dir, leaf, mode, name);
    if (!fd) return fd.error();
    auto r = [&]() -> result<void> {
        const void* block = nullptr;
        std::size_t length = 0;
        la_int64_t offset = 0;
        for (;;) {
            const int rc = archive_read_data_block(archive_, &block, &length, &offset);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) return library_failure(false);
            std::size_t done = 0;
            while (done < length) {
                const ssize_t n = ::pwrite(*fd, static_cast<const char*>(block) + done, length - done,
                                           static_cast<off_t>(offset) + static_cast<off_t>(done));
                if (n < 0) {
                    if (errno == EINTR) continue;
                    return io_failure(name, "cannot write the file", errno);
                }
                done += static_cast<std::size_t>(n);
            }
            counters_.file_bytes += length;
        }
        if (::ftruncate(*fd, static_cast<off_t>(size)) != 0)  // a sparse file's trailing hole
            return io_failure(name, "cannot set the file's size", errno);
        return finish_file(*fd, mode, (mode & umask_bits_) != 0, mtime, name);
    }();
    ::close(*fd);
    if (!r) ::unlinkat(dir->fd(), leaf.c_str(), 0);  // never leave a partial file behind
    return r;
}

result<void> tar_extractor::finish_directories()
{
    // Deepest first: setting a parent's mtime before its children are done would be undone by them, and a
    // read-only parent would stop the children.
    std::stable_sort(directories_.begin(), directories_.end(),
                     [](const pending_directory& a, const pending_directory& b) { return depth(a.relative) > depth(b.relative); });
    for (const auto& d : directories_) {
        if (auto r = tree_->finish_directory(d.relative, d.mode, d.mtime, d.entry); !r) return r;
    }
    return {};
}

}  // namespace cachestep::archive::detail
