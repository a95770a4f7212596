#include "shared_config.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <sys/stat.h>

namespace cachestep::app::credentials {
namespace {

bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string_view trim(std::string_view s)
{
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Drops an inline comment: '#' or ';' preceded by a blank.
std::string_view strip_inline_comment(std::string_view value)
{
    for (std::size_t i = 1; i < value.size(); ++i)
        if ((value[i] == '#' || value[i] == ';') && is_blank(value[i - 1])) return trim(value.substr(0, i));
    return value;
}

error_info refuse(std::string_view file, std::size_t line, std::string_view why)
{
    return error_info(engine::engine_errc::invalid_argument,
                      std::string(file) + ":" + std::to_string(line) + ": " + std::string(why));
}

// Reads a whole file; nullopt when it does not exist.
result<std::optional<std::string>> read_optional_file(const std::string& path)
{
    if (path.empty()) return std::optional<std::string>();
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
        return error_info(engine::engine_errc::invalid_argument, path + ": " + std::strerror(errno));
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) return error_info(engine::engine_errc::invalid_argument, path + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return std::optional<std::string>(text.str());
}

void merge(ini_section& into, const ini_section& from)
{
    for (const auto& [k, v] : from) into[k] = v;
}

}  // namespace

result<ini_document> parse_ini(std::string_view text, std::string_view file_name)
{
    ini_document doc;
    ini_section* section = nullptr;
    std::string* last_value = nullptr;  // the property an indented line continues
    std::size_t line_number = 0;
    while (!text.empty()) {
        const auto eol = text.find('\n');
        const std::string_view raw = text.substr(0, eol);
        text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
        ++line_number;

        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#' || line.front() == ';') continue;
        if (is_blank(raw.front()) && last_value) {  // continuation of the previous property
            *last_value += "\n";
            *last_value += strip_inline_comment(line);
            continue;
        }
        if (line.front() == '[') {
            const auto close = line.find(']');
            if (close == std::string_view::npos) return refuse(file_name, line_number, "section line without ']'");
            const auto name = trim(line.substr(1, close - 1));
            if (name.empty()) return refuse(file_name, line_number, "empty section name");
            section = &doc[std::string(name)];
            last_value = nullptr;
            continue;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos)
            return refuse(file_name, line_number, "expected \"key = value\", a [section] or a comment");
        const auto key = trim(line.substr(0, eq));
        if (key.empty()) return refuse(file_name, line_number, "property without a name");
        if (!section) return refuse(file_name, line_number, "property before any [section]");
        auto& value = (*section)[lower(key)];
        value = std::string(strip_inline_comment(trim(line.substr(eq + 1))));
        last_value = &value;
    }
    return doc;
}

shared_files shared_file_paths(const getenv_function& getenv)
{
    const std::string home = env_value(getenv, "HOME");
    const auto expand = [&](std::string path) {
        if (path.size() >= 2 && path[0] == '~' && path[1] == '/' && !home.empty()) path = home + path.substr(1);
        return path;
    };
    shared_files f;
    f.credentials_path = env_value(getenv, "AWS_SHARED_CREDENTIALS_FILE");
    f.credentials_path = f.credentials_path.empty() ? (home.empty() ? "" : home + "/.aws/credentials")
                                                    : expand(f.credentials_path);
    f.config_path = env_value(getenv, "AWS_CONFIG_FILE");
    f.config_path = f.config_path.empty() ? (home.empty() ? "" : home + "/.aws/config") : expand(f.config_path);
    return f;
}

std::string profile_name(const getenv_function& getenv)
{
    auto name = env_value(getenv, "AWS_PROFILE");
    if (name.empty()) name = env_value(getenv, "AWS_DEFAULT_PROFILE");
    return name.empty() ? "default" : name;
}

bool profile_named_explicitly(const getenv_function& getenv)
{
    return !env_value(getenv, "AWS_PROFILE").empty() || !env_value(getenv, "AWS_DEFAULT_PROFILE").empty();
}

std::string profile::get(std::string_view key) const
{
    const auto it = values.find(std::string(key));
    return it == values.end() ? std::string() : it->second;
}

namespace {

std::optional<profile> pick_profile(std::string_view name, const ini_document* credentials_doc,
                                    const ini_document* config_doc)
{
    profile p;
    p.name = std::string(name);
    bool found = false;
    if (config_doc) {
        if (name == "default") {
            if (auto it = config_doc->find("default"); it != config_doc->end()) {
                merge(p.values, it->second);
                found = true;
            }
        }
        // "[profile  name]": botocore splits on whitespace, so any run of blanks separates the two words.
        for (const auto& [section, values] : *config_doc) {
            if (section.rfind("profile", 0) != 0 || section.size() <= 7 || !is_blank(section[7])) continue;
            if (trim(std::string_view(section).substr(7)) != name) continue;
            merge(p.values, values);
            found = true;
        }
    }
    if (credentials_doc) {
        if (auto it = credentials_doc->find(std::string(name)); it != credentials_doc->end()) {
            merge(p.values, it->second);
            found = true;
        }
    }
    if (!found) return std::nullopt;
    return p;
}

}  // namespace

result<std::optional<profile>> profile_from_texts(std::string_view name, std::string_view credentials_text,
                                                  std::string_view config_text)
{
    auto credentials_doc = parse_ini(credentials_text, "credentials");
    if (!credentials_doc) return credentials_doc.error();
    auto config_doc = parse_ini(config_text, "config");
    if (!config_doc) return config_doc.error();
    return pick_profile(name, &*credentials_doc, &*config_doc);
}

result<std::optional<profile>> load_profile(std::string_view name, const shared_files& files)
{
    auto credentials_text = read_optional_file(files.credentials_path);
    if (!credentials_text) return credentials_text.error();
    auto config_text = read_optional_file(files.config_path);
    if (!config_text) return config_text.error();
    std::optional<ini_document> credentials_doc, config_doc;
    if (*credentials_text) {
        auto d = parse_ini(**credentials_text, files.credentials_path);
        if (!d) return d.error();
        credentials_doc = std::move(*d);
    }
    if (*config_text) {
        auto d = parse_ini(**config_text, files.config_path);
        if (!d) return d.error();
        config_doc = std::move(*d);
    }
    return pick_profile(name, credentials_doc ? &*credentials_doc : nullptr, config_doc ? &*config_doc : nullptr);
}

}  // namespace cachestep::app::credentials
