#pragma once
// Where an archive entry lands, decided from its name alone (no file system access, so every rule is a unit
// test). The result is a path relative to the jail, the directory nothing may leave.
//
//   relative names        -> destination/<name>
//   absolute names        -> the first entry of an archive with absolute names is its root (the mount
//                            directory recorded when it was saved); names under it -> mount/<rest>; other
//                            absolute names stay as they are
// and then the landing path must be the jail or inside it. Any `..` component is refused outright (legitimate
// archives never need one; GNU tar refuses them too), as is an empty name.

#include <cachestep/archive/error.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace cachestep::archive::detail {

class entry_path_mapper {
public:
    // All three are absolute, lexically normal paths; jail is destination or mount (see unpack_options).
    entry_path_mapper(std::string destination, std::string mount, std::string jail);

    // The path relative to the jail ("" for the jail itself), or path_escapes_root naming the entry.
    // `first` marks the archive's first entry (which may set the archive root).
    result<std::string> map(std::string_view name, bool first);

    // For a hard link's target: the same rules, but a target outside is hardlink_escapes_root.
    result<std::string> map_link_target(std::string_view name);

    const std::optional<std::string>& archive_root() const { return archive_root_; }

private:
    result<std::string> land(std::string_view name, archive_errc escape_code);

    std::string destination_, mount_, jail_;
    std::optional<std::string> archive_root_;
};

// "a/b/c" -> "a/b" ; "c" -> "".
std::string_view parent_of(std::string_view relative);
// "a/b/c" -> "c".
std::string_view leaf_of(std::string_view relative);

}  // namespace cachestep::archive::detail
