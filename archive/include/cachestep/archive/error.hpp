#pragma once
// How the archive pipeline reports failure: an archive_errc (or the errno of a system call, in the system
// category) for control flow, and beside it the path or entry name it concerns and a sentence for people.

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

#include <string>
#include <type_traits>

namespace cachestep::archive {

enum class archive_errc {
    // Save side
    no_source = 1,          // none of the source paths exists: nothing to save
    unreadable_source,      // a file or directory in a source tree could not be read
    file_changed,           // a file shrank while it was being read: its entry cannot be completed
    // Restore side: refused entries (nothing is written for them; the restore stops)
    path_escapes_root,      // a `..` component, or a name that lands outside the destination
    through_symlink,        // the entry's path passes through a symbolic link
    hardlink_escapes_root,  // a hard link whose target is outside the destination (or missing)
    special_file_refused,   // a device node, fifo or socket
    unsupported_entry,      // an entry type we do not restore
    target_is_directory,    // a file would replace a non-empty directory
    // Restore side: the stream
    not_an_archive,         // the bytes are not a tar stream (in any codec we read)
    corrupt_archive,        // a damaged header, frame or checksum
    truncated_archive,      // the stream ended inside an entry or a compressed frame
    empty_archive,          // zero bytes
    // Both
    codec_failed,           // the compressor or decompressor library failed
    io_failed,              // a system call failed (the errno is in the message)
    cancelled,              // cancel() was called
    invalid_argument,       // an option we refuse
};

const boost::system::error_category& archive_category() noexcept;

inline boost::system::error_code make_error_code(archive_errc e) noexcept
{
    return {static_cast<int>(e), archive_category()};
}

struct failure {
    boost::system::error_code code;
    std::string path;     // the file on disk or the entry name in the archive it concerns; may be empty
    std::string message;  // what happened, in words

    failure() = default;
    failure(boost::system::error_code ec, std::string path_, std::string message_ = {})
        : code(ec), path(std::move(path_)), message(std::move(message_))
    {
    }

    // One line: "<message or code text> '<path>'".
    std::string to_string() const;
};

template <class T>
using result = boost::system::result<T, failure>;

[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

}  // namespace cachestep::archive

template <>
struct boost::system::is_error_code_enum<cachestep::archive::archive_errc> : std::true_type {};
