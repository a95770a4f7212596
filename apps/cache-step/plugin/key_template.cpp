// The cache key template language, as far as cache keys use Go's text/template (see key_template.hpp). The
// lexing rules (trim markers, comments, where a right delimiter may stand) follow text/template/parse/lex.go
// so that a template renders byte for byte as the plugin renders it, or is refused.
#include "key_template.hpp"

#include "go_values.hpp"

#include <cachestep/sigv4/crypto.hpp>

#include <openssl/evp.h>

#include <boost/throw_exception.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace cachestep::app::plugin {

std::string key_error::to_string() const
{
    if (position == no_position)
        return message;
    return "column " + std::to_string(position + 1) + ": " + message;
}

void throw_exception_from_error(const key_error& e, const boost::source_location& loc)
{
    boost::throw_exception(std::invalid_argument("cache key template: " + e.to_string()), loc);
}

template_context host_template_context(fs::path working_dir)
{
    template_context ctx;
    ctx.working_dir = std::move(working_dir);
    ctx.getenv = [](std::string_view name) -> std::optional<std::string> {
        const std::string n(name);
        if (const char* v = std::getenv(n.c_str()))
            return std::string(v);
        return std::nullopt;
    };
    ctx.now = [] {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    };
    ctx.arch = host_go_arch();
    ctx.os = "linux";
    return ctx;
}

// ---------------------------------------------------------------------------------------------------------
// Digests of files

namespace {

std::string to_hex(const unsigned char* bytes, std::size_t n)
{
    return sigv4::to_hex({reinterpret_cast<const std::uint8_t*>(bytes), n});
}

struct md_ctx_free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

class digest {
public:
    explicit digest(const EVP_MD* md) : ctx_(EVP_MD_CTX_new())
    {
        if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), md, nullptr) != 1)
            throw std::runtime_error("OpenSSL digest initialisation failed");
    }
    void update(const void* data, std::size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }
    std::string raw()
    {
        std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
        unsigned int n = 0;
        EVP_DigestFinal_ex(ctx_.get(), out.data(), &n);
        return std::string(reinterpret_cast<const char*>(out.data()), n);
    }

private:
    std::unique_ptr<EVP_MD_CTX, md_ctx_free> ctx_;
};

// The digest of a regular file's bytes, or the errno that stopped it (EISDIR for anything not a regular file,
// so a FIFO is never opened for a blocking read).
std::pair<std::string, int> digest_file(const fs::path& path, const EVP_MD* md)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return {{}, errno};
    struct ::stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return {{}, EISDIR};
    }
    digest d(md);
    std::array<char, 64 * 1024> buf{};
    while (true) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n == 0)
            break;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            const int e = errno;
            ::close(fd);
            return {{}, e};
        }
        d.update(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return {d.raw(), 0};
}

fs::path under(const fs::path& working_dir, std::string_view path)
{
    const fs::path p{std::string(path)};
    return p.is_absolute() ? p : working_dir / p;
}

}  // namespace

std::string checksum_file(const fs::path& working_dir, std::string_view path)
{
    // filepath.Abs(filepath.Clean(p)): "" is the working directory, which is not a file.
    const auto [raw, err] = digest_file(under(working_dir, go_clean_path(path)), EVP_md5());
    if (err != 0)
        return {};
    return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

// ---------------------------------------------------------------------------------------------------------
// hashFiles globbing

namespace {

bool is_regular_following_links(const fs::path& p)
{
    std::error_code ec;
    return fs::is_regular_file(fs::status(p, ec));
}

bool is_directory_following_links(const fs::path& p)
{
    std::error_code ec;
    return fs::is_directory(fs::status(p, ec));
}

std::vector<std::string> sorted_names(const fs::path& dir)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        names.push_back(it->path().filename().string());
    std::sort(names.begin(), names.end());
    return names;  // an unreadable directory matches nothing, as in Go's Glob
}

// Every regular file under dir, without following symbolic links to directories (no cycles).
void all_files_below(const fs::path& dir, std::vector<fs::path>& out)
{
    for (const auto& name : sorted_names(dir)) {
        const fs::path p = dir / name;
        std::error_code ec;
        const auto link_status = fs::symlink_status(p, ec);
        if (fs::is_directory(link_status))
            all_files_below(p, out);
        else if (is_regular_following_links(p))
            out.push_back(p);
    }
}

void match_segments(const fs::path& dir, const std::vector<std::string>& segments, std::size_t i,
                    std::vector<fs::path>& out)
{
    if (i == segments.size()) {
        if (is_regular_following_links(dir))
            out.push_back(dir);
        return;
    }
    const std::string& seg = segments[i];
    const bool last = i + 1 == segments.size();
    if (seg == "**") {
        if (last) {
            all_files_below(dir, out);
            return;
        }
        match_segments(dir, segments, i + 1, out);  // zero directories
        for (const auto& name : sorted_names(dir)) {
            const fs::path p = dir / name;
            std::error_code ec;
            if (fs::is_directory(fs::symlink_status(p, ec)))
                match_segments(p, segments, i, out);
        }
        return;
    }
    if (!go_has_glob_meta(seg)) {
        const fs::path p = dir / seg;
        if (last || is_directory_following_links(p))
            match_segments(p, segments, i + 1, out);
        return;
    }
    if (!is_directory_following_links(dir))
        return;
    for (const auto& name : sorted_names(dir)) {
        const auto m = go_path_match(seg, name);
        if (m && *m) {
            const fs::path p = dir / name;
            if (last || is_directory_following_links(p))
                match_segments(p, segments, i + 1, out);
        }
    }
}

}  // namespace

key_result<std::string> hash_files(const fs::path& working_dir, const std::vector<std::string>& patterns)
{
    std::vector<fs::path> files;
    for (const auto& pattern : patterns) {
        if (pattern.empty())
            continue;  // Go: Glob("") matches nothing
        std::vector<std::string> segments;
        std::size_t start = 0;
        while (start <= pattern.size()) {
            const auto slash = pattern.find('/', start);
            const auto seg = pattern.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
            if (!seg.empty() && seg != ".")
                segments.push_back(seg);
            if (slash == std::string::npos)
                break;
            start = slash + 1;
        }
        for (const auto& seg : segments) {
            if (seg != "**" && go_has_glob_meta(seg)) {
                if (const auto m = go_path_match(seg, ""); !m)
                    return key_error{key_error::no_position,
                                     "hashFiles: bad pattern \"" + pattern + "\": " + m.error().message};
            }
        }
        match_segments(pattern[0] == '/' ? fs::path("/") : working_dir, segments, 0, files);
    }
    for (auto& f : files)
        f = f.lexically_normal();
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    if (files.empty())
        return std::string{};

    digest combined(EVP_sha256());
    for (const auto& f : files) {
        const auto [raw, err] = digest_file(f, EVP_sha256());
        if (err != 0)
            return key_error{key_error::no_position,
                             "hashFiles: cannot read " + f.string() + ": " + std::strerror(err)};
        combined.update(raw.data(), raw.size());
    }
    const std::string raw = combined.raw();
    return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

std::string legacy_default_key(std::string_view commit_branch)
{
    digest d(EVP_md5());
    d.update(commit_branch.data(), commit_branch.size());
    const std::string raw = d.raw();
    return to_hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());
}

key_result<std::string> legacy_default_key(const getenv_function& getenv)
{
    auto md = read_drone_metadata(getenv);
    if (!md)
        return md.error();
    return legacy_default_key(md->commit.branch);
}

// ---------------------------------------------------------------------------------------------------------
// Metadata

key_result<drone_metadata> read_drone_metadata(const getenv_function& getenv)
{
    drone_metadata md;
    std::optional<key_error> failure;
    const auto text = [&](std::string& field, const char* name) {
        if (auto v = getenv(name))
            field = std::move(*v);  // set but empty stays empty, as urfave/cli does
    };
    const auto number = [&](std::int64_t& field, const char* name) {
        const auto v = getenv(name);
        if (!v || v->empty() || failure)
            return;
        const auto n = parse_go_int(*v);
        if (!n)
            failure = key_error{key_error::no_position, std::string(name) + ": " + n.error().message};
        else
            field = *n;
    };
    const auto boolean = [&](bool& field, const char* name) {
        const auto v = getenv(name);
        if (!v || failure)
            return;
        if (v->empty()) {
            field = false;
            return;
        }
        const auto b = parse_go_bool(*v);
        if (!b)
            failure = key_error{key_error::no_position, std::string(name) + ": " + b.error().message};
        else
            field = *b;
    };

    text(md.repo.namespace_, "DRONE_REPO_NAMESPACE");
    text(md.repo.owner, "DRONE_REPO_OWNER");
    text(md.repo.name, "DRONE_REPO_NAME");
    text(md.repo.link, "DRONE_REPO_LINK");
    text(md.repo.avatar, "DRONE_REPO_AVATAR");
    text(md.repo.branch, "DRONE_REPO_BRANCH");
    boolean(md.repo.is_private, "DRONE_REPO_PRIVATE");
    boolean(md.repo.trusted, "DRONE_REPO_TRUSTED");

    number(md.build.number, "DRONE_BUILD_NUMBER");
    text(md.build.event, "DRONE_BUILD_EVENT");
    text(md.build.status, "DRONE_BUILD_STATUS");
    text(md.build.deploy, "DRONE_DEPLOY_TO");
    number(md.build.created, "DRONE_BUILD_CREATED");
    number(md.build.started, "DRONE_BUILD_STARTED");
    number(md.build.finished, "DRONE_BUILD_FINISHED");
    text(md.build.link, "DRONE_BUILD_LINK");

    text(md.commit.remote, "DRONE_REMOTE_URL");
    text(md.commit.sha, "DRONE_COMMIT_SHA");
    // The plugin's main.go fills Commit.Ref from the commit.sha flag (DRONE_COMMIT_REF is read but unused):
    // `{{ .Commit.Ref }}` renders the SHA there, so it does here.
    md.commit.ref = md.commit.sha;
    text(md.commit.link, "DRONE_COMMIT_LINK");
    text(md.commit.branch, "DRONE_COMMIT_BRANCH");
    text(md.commit.message, "DRONE_COMMIT_MESSAGE");
    text(md.commit.author.name, "DRONE_COMMIT_AUTHOR");
    text(md.commit.author.email, "DRONE_COMMIT_AUTHOR_EMAIL");
    text(md.commit.author.avatar, "DRONE_COMMIT_AUTHOR_AVATAR");

    if (failure)
        return *failure;
    return md;
}

// ---------------------------------------------------------------------------------------------------------
// Fields

namespace {

using field_getter = std::string (*)(const drone_metadata&);

struct field_entry {
    std::string_view path;  // "Repo.Name"
    field_getter get;       // nullptr for a struct (Repo, Commit.Author, ...)
};

std::string bool_text(bool b)
{
    return b ? "true" : "false";
}

// Go's metadata structs, field for field (internal/metadata/metadata.go), in Go's declaration order.
constexpr field_entry fields[] = {
    {"Build", nullptr},
    {"Build.Created", [](const drone_metadata& m) { return std::to_string(m.build.created); }},
    {"Build.Deploy", [](const drone_metadata& m) { return m.build.deploy; }},
    {"Build.Event", [](const drone_metadata& m) { return m.build.event; }},
    {"Build.Finished", [](const drone_metadata& m) { return std::to_string(m.build.finished); }},
    {"Build.Link", [](const drone_metadata& m) { return m.build.link; }},
    {"Build.Number", [](const drone_metadata& m) { return std::to_string(m.build.number); }},
    {"Build.Started", [](const drone_metadata& m) { return std::to_string(m.build.started); }},
    {"Build.Status", [](const drone_metadata& m) { return m.build.status; }},
    {"Commit", nullptr},
    {"Commit.Author", nullptr},
    {"Commit.Author.Avatar", [](const drone_metadata& m) { return m.commit.author.avatar; }},
    {"Commit.Author.Email", [](const drone_metadata& m) { return m.commit.author.email; }},
    {"Commit.Author.Name", [](const drone_metadata& m) { return m.commit.author.name; }},
    {"Commit.Branch", [](const drone_metadata& m) { return m.commit.branch; }},
    {"Commit.Link", [](const drone_metadata& m) { return m.commit.link; }},
    {"Commit.Message", [](const drone_metadata& m) { return m.commit.message; }},
    {"Commit.Ref", [](const drone_metadata& m) { return m.commit.ref; }},
    {"Commit.Remote", [](const drone_metadata& m) { return m.commit.remote; }},
    {"Commit.Sha", [](const drone_metadata& m) { return m.commit.sha; }},
    {"Repo", nullptr},
    {"Repo.Avatar", [](const drone_metadata& m) { return m.repo.avatar; }},
    {"Repo.Branch", [](const drone_metadata& m) { return m.repo.branch; }},
    {"Repo.Link", [](const drone_metadata& m) { return m.repo.link; }},
    {"Repo.Name", [](const drone_metadata& m) { return m.repo.name; }},
    {"Repo.Namespace", [](const drone_metadata& m) { return m.repo.namespace_; }},
    {"Repo.Owner", [](const drone_metadata& m) { return m.repo.owner; }},
    {"Repo.Private", [](const drone_metadata& m) { return bool_text(m.repo.is_private); }},
    {"Repo.Trusted", [](const drone_metadata& m) { return bool_text(m.repo.trusted); }},
};

const field_entry* find_field(std::string_view path)
{
    for (const auto& f : fields)
        if (f.path == path)
            return &f;
    return nullptr;
}

// The direct children of a struct path ("" for the top), e.g. "Avatar, Branch, ..." for "Repo".
std::string children_of(std::string_view parent)
{
    std::string out;
    for (const auto& f : fields) {
        std::string_view p = f.path;
        if (!parent.empty()) {
            if (!(p.size() > parent.size() && p.starts_with(parent) && p[parent.size()] == '.'))
                continue;
            p.remove_prefix(parent.size() + 1);
        }
        if (p.find('.') != std::string_view::npos)
            continue;
        if (!out.empty())
            out += ", ";
        out.append(p);
    }
    return out;
}

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

key_result<field_getter> resolve_field(const std::vector<std::string>& chain, std::size_t position)
{
    std::string path;
    for (const auto& name : chain) {
        const std::string parent = path;
        path += path.empty() ? name : "." + name;
        if (find_field(path))
            continue;
        std::string message = "unknown field ." + path + "; ";
        message += parent.empty() ? "the fields are " + children_of("")
                                  : "." + parent + " has " + children_of(parent);
        for (const auto& f : fields) {
            if (iequals(f.path, path)) {
                message += " (did you mean ." + std::string(f.path) + "?)";
                break;
            }
        }
        return key_error{position, message};
    }
    const field_entry* f = find_field(path);
    if (!f->get)
        return key_error{position, "field ." + path + " is a struct; name one of its fields: " + children_of(path)};
    return f->get;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

struct argument {
    std::size_t position{0};
    std::string value;           // a string literal's value
    field_getter field{nullptr};  // or a field
};

struct node {
    enum class kind { text, literal, field, call } what{kind::text};
    std::size_t position{0};
    std::string text;  // text, literal value or function name
    field_getter field{nullptr};
    std::vector<argument> args;
};

enum class token_kind { string, field, dot, identifier };

struct token {
    token_kind kind;
    std::size_t position;
    std::string text;                 // string value, identifier
    std::vector<std::string> chain;  // field names
};

constexpr bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

constexpr bool is_alnum(char c)
{
    return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           static_cast<unsigned char>(c) >= 0x80;  // Go allows Unicode letters; cache keys are ASCII in practice
}

void append_utf8(std::string& out, char32_t r)
{
    if (r < 0x80) {
        out += static_cast<char>(r);
    } else if (r < 0x800) {
        out += static_cast<char>(0xC0 | (r >> 6));
        out += static_cast<char>(0x80 | (r & 0x3F));
    } else if (r < 0x10000) {
        out += static_cast<char>(0xE0 | (r >> 12));
        out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (r & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (r >> 18));
        out += static_cast<char>(0x80 | ((r >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((r >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (r & 0x3F));
    }
}

int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

constexpr std::string_view builtins[] = {"and", "call", "html", "index", "slice", "js", "len", "not", "or",
                                         "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le",
                                         "lt", "ne"};
constexpr std::string_view keywords[] = {"if", "else", "end", "range", "with", "define", "template", "block",
                                         "break", "continue", "nil", "true", "false"};

class parser {
public:
    explicit parser(std::string_view tmpl) : s_(tmpl) {}

    key_result<std::vector<node>> parse()
    {
        std::size_t i = 0;
        bool trim_next_text = false;
        while (i <= s_.size()) {
            const auto open = s_.find("{{", i);
            std::string_view text = s_.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i);
            if (trim_next_text)
                text = text.substr(std::min(text.size(), text.find_first_not_of(" \t\r\n")));
            if (open == std::string_view::npos) {
                add_text(text);
                break;
            }
            std::size_t p = open + 2;
            if (p + 1 < s_.size() && s_[p] == '-' && is_space(s_[p + 1])) {  // "{{- "
                const auto keep = text.find_last_not_of(" \t\r\n");
                text = keep == std::string_view::npos ? std::string_view{} : text.substr(0, keep + 1);
                p += 2;
            }
            add_text(text);
            auto end = action(open, p);
            if (!end)
                return end.error();
            i = end->first;
            trim_next_text = end->second;
        }
        return std::move(nodes_);
    }

private:
    void add_text(std::string_view text)
    {
        if (text.empty())
            return;
        node n;
        n.what = node::kind::text;
        n.text = std::string(text);
        nodes_.push_back(std::move(n));
    }

    // Whether a right delimiter starts at p: "}}" (no trim) or " -}}" (trim). Returns the offset after it.
    std::optional<std::pair<std::size_t, bool>> right_delim(std::size_t p) const
    {
        if (p + 3 < s_.size() && is_space(s_[p]) && s_[p + 1] == '-' && s_.substr(p + 2, 2) == "}}")
            return std::pair{p + 4, true};
        if (s_.substr(p, 2) == "}}")
            return std::pair{p + 2, false};
        return std::nullopt;
    }

    // One action whose "{{" is at open and whose body starts at p; returns where the text after it starts and
    // whether that text loses its leading white space.
    key_result<std::pair<std::size_t, bool>> action(std::size_t open, std::size_t p)
    {
        if (s_.substr(p, 2) == "/*") {
            const auto close = s_.find("*/", p + 2);
            if (close == std::string_view::npos)
                return key_error{p, "unclosed comment"};
            if (auto d = right_delim(close + 2))
                return *d;
            return key_error{close + 2, "comment ends before closing delimiter: expected \"}}\" right after \"*/\""};
        }
        std::vector<token> tokens;
        while (true) {
            if (p >= s_.size())
                return key_error{open, "unclosed action: expected \"}}\""};
            if (auto d = right_delim(p)) {
                auto command = make_command(open, tokens);
                if (!command)
                    return command.error();
                nodes_.push_back(std::move(*command));
                return *d;
            }
            const char c = s_[p];
            if (is_space(c)) {
                ++p;
                continue;
            }
            auto t = lex(p);
            if (!t)
                return t.error();
            tokens.push_back(std::move(*t));
        }
    }

    key_result<token> lex(std::size_t& p) const
    {
        const std::size_t start = p;
        const char c = s_[p];
        if (c == '"')
            return quoted(p);
        if (c == '`') {
            const auto close = s_.find('`', p + 1);
            if (close == std::string_view::npos)
                return key_error{start, "unterminated raw quoted string"};
            p = close + 1;
            return token{token_kind::string, start, std::string(s_.substr(start + 1, close - start - 1)), {}};
        }
        if (c == '.') {
            token t{token_kind::field, start, {}, {}};
            while (p < s_.size() && s_[p] == '.' && p + 1 < s_.size() && is_alnum(s_[p + 1]) &&
                   !(s_[p + 1] >= '0' && s_[p + 1] <= '9')) {
                std::size_t q = p + 1;
                while (q < s_.size() && is_alnum(s_[q]))
                    ++q;
                t.chain.emplace_back(s_.substr(p + 1, q - p - 1));
                p = q;
            }
            if (t.chain.empty()) {
                if (p + 1 < s_.size() && !is_space(s_[p + 1]) && !right_delim(p + 1))
                    return key_error{start, "unexpected \".\": expected a field name such as .Repo.Name"};
                ++p;
                t.kind = token_kind::dot;
                return t;
            }
            if (p < s_.size() && s_[p] == '.')
                return key_error{p, "unexpected \".\" after field ." + join_chain(t.chain) +
                                        ": expected a field name"};
            return t;
        }
        if (is_alnum(c) && !(c >= '0' && c <= '9')) {
            while (p < s_.size() && is_alnum(s_[p]))
                ++p;
            return token{token_kind::identifier, start, std::string(s_.substr(start, p - start)), {}};
        }
        if (c == '|')
            return key_error{start, "pipelines (\"|\") are not supported in cache keys"};
        if (c == '(' || c == ')')
            return key_error{start, "parentheses are not supported in cache keys"};
        if (c == '$')
            return key_error{start, "variables ($) are not supported in cache keys"};
        if ((c >= '0' && c <= '9') || c == '-' || c == '+')
            return key_error{start, "numbers are not supported in cache keys: quote the text (\"...\")"};
        if (c == '\'')
            return key_error{start, "character constants are not supported in cache keys: use \"...\""};
        return key_error{start, "unexpected \"" + std::string(1, c) + "\" in action"};
    }

    // An interpreted string literal, unquoted as strconv.Unquote does.
    key_result<token> quoted(std::size_t& p) const
    {
        const std::size_t start = p;
        std::string value;
        ++p;
        while (true) {
            if (p >= s_.size() || s_[p] == '\n')
                return key_error{start, "unterminated quoted string"};
            const char c = s_[p];
            if (c == '"') {
                ++p;
                return token{token_kind::string, start, std::move(value), {}};
            }
            if (c != '\\') {
                value += c;
                ++p;
                continue;
            }
            const std::size_t esc = p;
            if (p + 1 >= s_.size())
                return key_error{start, "unterminated quoted string"};
            const char e = s_[p + 1];
            p += 2;
            switch (e) {
            case 'a': value += '\a'; break;
            case 'b': value += '\b'; break;
            case 'f': value += '\f'; break;
            case 'n': value += '\n'; break;
            case 'r': value += '\r'; break;
            case 't': value += '\t'; break;
            case 'v': value += '\v'; break;
            case '\\': value += '\\'; break;
            case '"': value += '"'; break;
            case 'x': case 'u': case 'U': {
                const std::size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
                char32_t r = 0;
                for (std::size_t k = 0; k < digits; ++k) {
                    const int h = p + k < s_.size() ? hex_value(s_[p + k]) : -1;
                    if (h < 0)
                        return key_error{esc, "invalid syntax in quoted string: bad \\" + std::string(1, e) +
                                                  " escape"};
                    r = r * 16 + static_cast<char32_t>(h);
                }
                p += digits;
                if (e == 'x') {
                    value += static_cast<char>(r);
                } else {
                    if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
                        return key_error{esc, "invalid syntax in quoted string: bad Unicode code point"};
                    append_utf8(value, r);
                }
                break;
            }
            case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
                unsigned v = static_cast<unsigned>(e - '0');
                for (std::size_t k = 0; k < 2; ++k) {
                    if (p + k >= s_.size() || s_[p + k] < '0' || s_[p + k] > '7')
                        return key_error{esc, "invalid syntax in quoted string: bad octal escape"};
                    v = v * 8 + static_cast<unsigned>(s_[p + k] - '0');
                }
                p += 2;
                if (v > 255)
                    return key_error{esc, "invalid syntax in quoted string: octal escape above \\377"};
                value += static_cast<char>(v);
                break;
            }
            default:
                return key_error{esc, "invalid syntax in quoted string: unknown escape \\" + std::string(1, e)};
            }
        }
    }

    static std::string join_chain(const std::vector<std::string>& chain)
    {
        std::string out;
        for (const auto& name : chain)
            out += out.empty() ? name : "." + name;
        return out;
    }

    static key_result<argument> make_argument(const token& t, std::string_view function)
    {
        argument a;
        a.position = t.position;
        if (t.kind == token_kind::string) {
            a.value = t.text;
            return a;
        }
        if (t.kind == token_kind::field) {
            auto f = resolve_field(t.chain, t.position);
            if (!f)
                return f.error();
            a.field = *f;
            return a;
        }
        return key_error{t.position, "expected a string (\"...\") or a field as argument of " + std::string(function)};
    }

    static key_result<node> make_command(std::size_t open, const std::vector<token>& tokens)
    {
        if (tokens.empty())
            return key_error{open, "missing value for command: expected a field, a string or a function"};
        const token& first = tokens.front();
        node n;
        n.position = first.position;
        switch (first.kind) {
        case token_kind::string:
            if (tokens.size() > 1)
                return key_error{tokens[1].position, "a string takes no arguments"};
            n.what = node::kind::literal;
            n.text = first.text;
            return n;
        case token_kind::dot:
            return key_error{first.position, "{{ . }} (the whole metadata) cannot be part of a key: name a field "
                                             "such as .Commit.Branch"};
        case token_kind::field: {
            if (tokens.size() > 1)
                return key_error{tokens[1].position, "field ." + join_chain(first.chain) + " takes no arguments"};
            auto f = resolve_field(first.chain, first.position);
            if (!f)
                return f.error();
            n.what = node::kind::field;
            n.field = *f;
            return n;
        }
        case token_kind::identifier:
            break;
        }
        const std::string& name = first.text;
        if (std::find(std::begin(keywords), std::end(keywords), name) != std::end(keywords))
            return key_error{first.position, "\"" + name + "\" actions and constants are not supported in cache keys"};
        if (std::find(std::begin(builtins), std::end(builtins), name) != std::end(builtins))
            return key_error{first.position, "function \"" + name +
                                                 "\" is a Go template builtin that cache keys do not support; the "
                                                 "functions are checksum, hashFiles, epoch, arch, os"};
        const std::size_t args = tokens.size() - 1;
        std::size_t want = 0;
        if (name == "checksum") {
            want = 1;
        } else if (name == "hashFiles") {
            want = args;
        } else if (name == "epoch" || name == "arch" || name == "os") {
            want = 0;
        } else {
            return key_error{first.position, "function \"" + name +
                                                 "\" not defined; the functions are checksum, hashFiles, epoch, "
                                                 "arch, os"};
        }
        if (args != want)
            return key_error{first.position, "wrong number of args for " + name + ": want " + std::to_string(want) +
                                                 " got " + std::to_string(args)};
        n.what = node::kind::call;
        n.text = name;
        for (std::size_t k = 1; k < tokens.size(); ++k) {
            auto a = make_argument(tokens[k], name);
            if (!a)
                return a.error();
            n.args.push_back(std::move(*a));
        }
        return n;
    }

    std::string_view s_;
    std::vector<node> nodes_;
};

key_result<std::vector<node>> parse_template(std::string_view tmpl)
{
    if (tmpl.empty())
        return key_error{key_error::no_position, "cache key template is empty"};
    return parser(tmpl).parse();
}

}  // namespace

key_result<void> check_key_template(std::string_view tmpl)
{
    auto nodes = parse_template(tmpl);
    if (!nodes)
        return nodes.error();
    return {};
}

key_result<std::string> render_key(std::string_view tmpl, const template_context& ctx)
{
    auto nodes = parse_template(tmpl);
    if (!nodes)
        return nodes.error();
    auto md = read_drone_metadata(ctx.getenv);
    if (!md)
        return md.error();

    std::string out;
    for (const node& n : *nodes) {
        switch (n.what) {
        case node::kind::text:
        case node::kind::literal:
            out += n.text;
            break;
        case node::kind::field:
            out += n.field(*md);
            break;
        case node::kind::call: {
            std::vector<std::string> args;
            for (const auto& a : n.args)
                args.push_back(a.field ? a.field(*md) : a.value);
            if (n.text == "checksum") {
                out += checksum_file(ctx.working_dir, args[0]);
            } else if (n.text == "hashFiles") {
                auto h = hash_files(ctx.working_dir, args);
                if (!h)
                    return key_error{n.position, h.error().message};
                out += *h;
            } else if (n.text == "epoch") {
                if (!ctx.now)
                    return key_error{n.position, "epoch: no clock was given"};
                out += std::to_string(ctx.now());
            } else if (n.text == "arch") {
                out += ctx.arch;
            } else if (n.text == "os") {
                out += ctx.os;
            }
            break;
        }
        }
    }
    return out;
}

}  // namespace cachestep::app::plugin
