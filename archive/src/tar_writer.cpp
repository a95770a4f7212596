#include "tar_writer.hpp"

#include <archive.h>
#include <archive_entry.h>

namespace cachestep::archive::detail {

tar_writer::tar_writer(output out) : out_(std::move(out)), archive_(archive_write_new()), entry_(archive_entry_new())
{
    archive_write_set_format_pax_restricted(archive_);
    archive_write_set_bytes_per_block(archive_, 0);  // unblocked: every byte goes straight to the callback
    archive_write_open(archive_, this, nullptr, &tar_writer::write_callback, nullptr);
}

tar_writer::~tar_writer()
{
    archive_entry_free(entry_);
    archive_write_free(archive_);
}

long tar_writer::write_callback(struct archive*, void* self, const void* buffer, std::size_t length)
{
    auto* w = static_cast<tar_writer*>(self);
    if (w->output_failed_) return -1;
    if (auto r = w->out_({static_cast<const char*>(buffer), length}); !r) {
        w->output_failure_ = r.error();
        w->output_failed_ = true;
        return -1;
    }
    return static_cast<long>(length);
}

failure tar_writer::library_failure(const std::string& path)
{
    if (output_failed_) return output_failure_;
    const char* text = archive_error_string(archive_);
    return failure{make_error_code(archive_errc::codec_failed), path,
                   std::string("tar writer: ") + (text ? text : "failed")};
}

result<void> tar_writer::begin_entry(const tar_header& h)
{
    archive_entry_clear(entry_);
    archive_entry_copy_pathname(entry_, h.name.c_str());
    archive_entry_set_filetype(entry_, h.type);
    archive_entry_set_perm(entry_, h.permissions & 07777);
    archive_entry_set_mtime(entry_, h.mtime.tv_sec, h.mtime.tv_nsec);
    archive_entry_set_uid(entry_, h.uid);
    archive_entry_set_gid(entry_, h.gid);
    if (h.type == S_IFLNK) archive_entry_copy_symlink(entry_, h.symlink_target.c_str());
    if (!h.hardlink_target.empty()) {
        archive_entry_copy_hardlink(entry_, h.hardlink_target.c_str());
        archive_entry_set_size(entry_, 0);
    } else {
        archive_entry_set_size(entry_, h.type == S_IFREG ? static_cast<la_int64_t>(h.size) : 0);
    }
    const int rc = archive_write_header(archive_, entry_);
    if (rc < ARCHIVE_WARN) return library_failure(h.name);
    return {};
}

result<void> tar_writer::data(std::span<const char> bytes)
{
    while (!bytes.empty()) {
        const la_ssize_t n = archive_write_data(archive_, bytes.data(), bytes.size());
        if (n <= 0) return library_failure({});
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

result<void> tar_writer::finish()
{
    if (archive_write_close(archive_) != ARCHIVE_OK) return library_failure({});
    return {};
}

}  // namespace cachestep::archive::detail
