#include "entry_path.hpp"

#include <vector>

namespace cachestep::archive::detail {
namespace {

// Splits on '/', dropping empty and "." components; false if a ".." component is present.
bool split_components(std::string_view name, std::vector<std::string_view>& out)
{
    std::size_t i = 0;
    while (i <= name.size()) {
        std::size_t j = name.find('/', i);
        if (j == std::string_view::npos) j = name.size();
        const std::string_view part = name.substr(i, j - i);
        if (part == "..") return false;
        if (!part.empty() && part != ".") out.push_back(part);
        i = j + 1;
    }
    return true;
}

std::string join(std::string_view base, const std::vector<std::string_view>& parts, std::size_t from = 0)
{
    std::string out(base);
    for (std::size_t k = from; k < parts.size(); ++k) {
        if (out.empty() || out.back() != '/') out += '/';
        out += parts[k];
    }
    return out;
}

// `path` relative to `dir` if it is dir or inside it (both absolute and normal).
std::optional<std::string> inside(const std::string& path, const std::string& dir)
{
    if (path == dir) return std::string{};
    if (dir == "/") return path.substr(1);
    if (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/')
        return path.substr(dir.size() + 1);
    return std::nullopt;
}

}  // namespace

entry_path_mapper::entry_path_mapper(std::string destination, std::string mount, std::string jail)
    : destination_(std::move(destination)), mount_(std::move(mount)), jail_(std::move(jail))
{
}

result<std::string> entry_path_mapper::land(std::string_view name, archive_errc escape_code)
{
    const auto refuse = [&](const char* why) {
        return failure{make_error_code(escape_code), std::string(name), why};
    };
    if (name.empty()) return refuse("refused: an entry with an empty name");
    std::vector<std::string_view> parts;
    if (!split_components(name, parts)) return refuse("refused: the name has a '..' component (escapes the destination)");
    std::string target;
    if (name.front() != '/') {
        target = join(destination_, parts);
    } else {
        target = join("/", parts);
        if (archive_root_) {
            if (auto rest = inside(target, *archive_root_)) target = rest->empty() ? mount_ : mount_ + "/" + *rest;
        }
    }
    auto relative = inside(target, jail_);
    if (!relative) return refuse(escape_code == archive_errc::hardlink_escapes_root
                                     ? "refused: a hard link to a file outside the destination"
                                     : "refused: the entry escapes the destination");
    return std::move(*relative);
}

result<std::string> entry_path_mapper::map(std::string_view name, bool first)
{
    if (first && !name.empty() && name.front() == '/') {
        std::vector<std::string_view> parts;
        if (split_components(name, parts)) archive_root_ = join("/", parts);
    }
    return land(name, archive_errc::path_escapes_root);
}

result<std::string> entry_path_mapper::map_link_target(std::string_view name)
{
    return land(name, archive_errc::hardlink_escapes_root);
}

std::string_view parent_of(std::string_view relative)
{
    const auto slash = relative.rfind('/');
    return slash == std::string_view::npos ? std::string_view{} : relative.substr(0, slash);
}

std::string_view leaf_of(std::string_view relative)
{
    const auto slash = relative.rfind('/');
    return slash == std::string_view::npos ? relative : relative.substr(slash + 1);
}

}  // namespace cachestep::archive::detail
