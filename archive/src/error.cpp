#include <cachestep/archive/error.hpp>

#include <boost/system/system_error.hpp>
#include <boost/throw_exception.hpp>

namespace cachestep::archive {
namespace {

class archive_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "cachestep.archive"; }
    std::string message(int ev) const override
    {
        switch (static_cast<archive_errc>(ev)) {
        case archive_errc::no_source: return "none of the source paths exists";
        case archive_errc::unreadable_source: return "cannot read";
        case archive_errc::file_changed: return "file changed as we read it";
        case archive_errc::path_escapes_root: return "refused: the entry escapes the destination";
        case archive_errc::through_symlink: return "refused: the entry would be written through a symlink";
        case archive_errc::hardlink_escapes_root: return "refused: a hard link to outside the destination";
        case archive_errc::special_file_refused: return "refused: a device, fifo or socket";
        case archive_errc::unsupported_entry: return "refused: an entry type we do not restore";
        case archive_errc::target_is_directory: return "a file would replace a non-empty directory";
        case archive_errc::not_an_archive: return "not an archive (no tar stream in any codec we read)";
        case archive_errc::corrupt_archive: return "corrupt archive";
        case archive_errc::truncated_archive: return "truncated archive";
        case archive_errc::empty_archive: return "empty stream: not an archive";
        case archive_errc::codec_failed: return "compression library failure";
        case archive_errc::io_failed: return "I/O error";
        case archive_errc::cancelled: return "cancelled";
        case archive_errc::invalid_argument: return "invalid argument";
        }
        return "archive error " + std::to_string(ev);
    }
};

}  // namespace

const boost::system::error_category& archive_category() noexcept
{
    static const archive_category_impl category;
    return category;
}

std::string failure::to_string() const
{
    std::string text = message.empty() ? code.message() : message;
    if (!path.empty()) text += " '" + path + "'";
    return text;
}

void throw_exception_from_error(const failure& f, const boost::source_location& loc)
{
    boost::throw_exception(boost::system::system_error(f.code, f.to_string()), loc);
}

}  // namespace cachestep::archive
