// PLUGIN_* settings: the plugin's defaults and alias lists come from its main.go (urfave/cli flags); the
// departures are listed in plugin_settings.hpp.
#include "plugin_settings.hpp"

#include "go_values.hpp"

#include <openssl/crypto.h>

#include <boost/throw_exception.hpp>

#include <algorithm>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>

namespace cachestep::app::plugin {

// ---------------------------------------------------------------------------------------------------------
// secret

secret::secret(secret&& other) noexcept : value_(other.value_)
{
    other.wipe();
}

secret& secret::operator=(secret&& other) noexcept
{
    if (this != &other) {
        wipe();
        value_ = other.value_;
        other.wipe();
    }
    return *this;
}

secret::~secret()
{
    wipe();
}

// Best effort: the bytes of the current buffer are cleared before it is released. (A string that grew may
// have left an older copy in freed memory; credentials are read once and never grow.)
void secret::wipe() noexcept
{
    if (!value_.empty())
        OPENSSL_cleanse(value_.data(), value_.size());
    value_.clear();
}

void throw_exception_from_error(const settings_error& e, const boost::source_location& loc)
{
    boost::throw_exception(std::invalid_argument(e.to_string()), loc);
}

std::string_view to_string(plugin_mode m)
{
    return m == plugin_mode::rebuild ? "rebuild" : "restore";
}

std::string_view to_string(backend_kind b)
{
    return b == backend_kind::s3 ? "s3" : "filesystem";
}

std::string_view to_string(archive_format f)
{
    switch (f) {
    case archive_format::tar: return "tar";
    case archive_format::gzip: return "gzip";
    case archive_format::zstd: return "zstd";
    case archive_format::lz4: return "lz4";
    }
    return "?";
}

std::string_view to_string(log_format f)
{
    return f == log_format::logfmt ? "logfmt" : "json";
}

// ---------------------------------------------------------------------------------------------------------
// Reading

namespace {

struct found {
    std::string variable;  // which alias supplied it
    std::string value;
};

class reader {
public:
    explicit reader(const getenv_function& getenv) : getenv_(getenv) {}

    // The first of names that is set and not empty.
    std::optional<found> first(std::initializer_list<const char*> names) const
    {
        for (const char* name : names) {
            if (auto v = getenv_(name); v && !v->empty())
                return found{name, std::move(*v)};
        }
        return std::nullopt;
    }

    std::string text(std::initializer_list<const char*> names, std::string fallback = {}) const
    {
        auto f = first(names);
        return f ? std::move(f->value) : std::move(fallback);
    }

    settings_result<bool> boolean(std::initializer_list<const char*> names, bool fallback) const
    {
        const auto f = first(names);
        if (!f)
            return fallback;
        const auto b = parse_go_bool(f->value);
        if (!b)
            return settings_error{f->variable, "\"" + f->value +
                                                   "\" is not a boolean (true, false, 1, 0, t, f, T, F, TRUE, "
                                                   "FALSE, True, False)"};
        return *b;
    }

private:
    const getenv_function& getenv_;
};

template <class Enum>
settings_result<Enum> choose(const std::optional<found>& f, const char* primary, Enum fallback,
                             std::initializer_list<std::pair<std::string_view, Enum>> choices)
{
    if (!f)
        return fallback;
    std::string names;
    for (const auto& [name, value] : choices) {
        if (f->value == name)
            return value;
        names += names.empty() ? std::string(name) : ", " + std::string(name);
    }
    (void)primary;
    return settings_error{f->variable, "\"" + f->value + "\" is not one of " + names};
}

bool escapes_working_dir(std::string_view mount)
{
    if (!mount.empty() && mount[0] == '/')
        return false;
    const std::string clean = go_clean_path(mount);
    return clean == ".." || clean.starts_with("../");
}

}  // namespace

std::string expand_mount(std::string_view mount, const getenv_function& getenv)
{
    std::string m(mount);
    if (const auto tilde = m.find('~'); tilde != std::string::npos)
        m.replace(tilde, 1, "$HOME");  // strings.Replace(mount, "~", "$HOME", 1): the first `~`, wherever it is
    return go_expand(m, [&](std::string_view name) { return getenv(name).value_or(std::string{}); });
}

settings_result<plugin_settings> parse_plugin_settings(const getenv_function& getenv)
{
    const reader env(getenv);
    plugin_settings s;

    // Mode
    auto rebuild = env.boolean({"PLUGIN_REBUILD"}, false);
    if (!rebuild)
        return rebuild.error();
    auto restore = env.boolean({"PLUGIN_RESTORE"}, false);
    if (!restore)
        return restore.error();
    if (*rebuild && *restore)
        return settings_error{"PLUGIN_REBUILD", "PLUGIN_REBUILD and PLUGIN_RESTORE are both true; set exactly one"};
    if (!*rebuild && !*restore)
        return settings_error{"PLUGIN_REBUILD", "neither PLUGIN_REBUILD nor PLUGIN_RESTORE is true; set exactly one"};
    s.mode = *rebuild ? plugin_mode::rebuild : plugin_mode::restore;

    // Backend
    if (const auto b = env.first({"PLUGIN_BACKEND"})) {
        if (b->value == "s3") {
            s.backend = backend_kind::s3;
        } else if (b->value == "filesystem") {
            s.backend = backend_kind::filesystem;
        } else if (b->value == "azure" || b->value == "gcs" || b->value == "sftp" || b->value == "harness") {
            return settings_error{b->variable, "the \"" + b->value +
                                                   "\" backend is not supported by cache-step (s3, filesystem)"};
        } else {
            return settings_error{b->variable, "unknown backend \"" + b->value + "\" (s3, filesystem)"};
        }
    }

    // Mounts
    if (const auto m = env.first({"PLUGIN_MOUNT"})) {
        const auto items = split_go_list(m->value);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (items[i].empty())
                return settings_error{m->variable, "item " + std::to_string(i + 1) + " of \"" + m->value +
                                                       "\" is empty"};
            std::string expanded = expand_mount(items[i], getenv);
            if (expanded.empty())
                return settings_error{m->variable, "\"" + items[i] + "\" expands to an empty path"};
            if (escapes_working_dir(expanded))
                return settings_error{m->variable, "\"" + expanded +
                                                       "\" leaves the working directory: its cache object would "
                                                       "land outside the cache key; use an absolute path"};
            s.mounts.push_back(std::move(expanded));
        }
    }
    if (s.mode == plugin_mode::rebuild && s.mounts.empty())
        return settings_error{"PLUGIN_MOUNT", "nothing to save: PLUGIN_MOUNT names no directory"};

    // Keys
    if (const auto k = env.first({"PLUGIN_CACHE_KEY"})) {
        if (auto c = check_key_template(k->value); !c)
            return settings_error{k->variable, "\"" + k->value + "\": " + c.error().to_string()};
        s.cache_key = k->value;
    }
    if (const auto r = env.first({"PLUGIN_RESTORE_KEYS"})) {
        const auto items = split_go_list(r->value);
        for (std::size_t i = 0; i < items.size(); ++i) {
            if (items[i].empty())
                return settings_error{r->variable, "item " + std::to_string(i + 1) + " of \"" + r->value +
                                                       "\" is empty"};
            if (auto c = check_key_template(items[i]); !c)
                return settings_error{r->variable, "\"" + items[i] + "\": " + c.error().to_string()};
            s.restore_keys.push_back(items[i]);
        }
    }

    // Archive
    auto format = choose(env.first({"PLUGIN_ARCHIVE_FORMAT"}), "PLUGIN_ARCHIVE_FORMAT", archive_format::tar,
                         {{"tar", archive_format::tar},
                          {"gzip", archive_format::gzip},
                          {"zstd", archive_format::zstd},
                          {"lz4", archive_format::lz4}});
    if (!format)
        return format.error();
    s.format = *format;
    if (const auto l = env.first({"PLUGIN_COMPRESSION_LEVEL"})) {
        const auto n = parse_go_int(l->value);
        if (!n)
            return settings_error{l->variable, "\"" + l->value + "\" is not an integer"};
        if (*n < std::numeric_limits<int>::min() || *n > std::numeric_limits<int>::max())
            return settings_error{l->variable, "\"" + l->value + "\" is out of range"};
        // Go's compress/flate levels; zstd and lz4 levels are the archive layer's to clamp.
        if (s.format == archive_format::gzip && (*n < -2 || *n > 9))
            return settings_error{l->variable, "\"" + l->value + "\" is not a gzip level (-2 to 9; -1: default)"};
        s.compression_level = static_cast<int>(*n);
    }

    // Behaviour
    const auto flag = [&](bool& field, std::initializer_list<const char*> names) -> std::optional<settings_error> {
        auto b = env.boolean(names, field);
        if (!b)
            return b.error();
        field = *b;
        return std::nullopt;
    };
    if (auto e = flag(s.override_existing, {"PLUGIN_OVERRIDE"}))
        return *e;
    if (auto e = flag(s.fail_restore_if_key_not_present, {"PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT"}))
        return *e;
    if (auto e = flag(s.exit_code, {"PLUGIN_EXIT_CODE", "EXIT_CODE"}))
        return *e;
    if (auto e = flag(s.skip_symlinks, {"PLUGIN_SKIP_SYMLINKS", "SKIP_SYMLINKS"}))
        return *e;
    if (auto e = flag(s.preserve_metadata, {"PLUGIN_PRESERVE_METADATA"}))
        return *e;
    if (auto e = flag(s.strict_key_matching, {"PLUGIN_STRICT_KEY_MATCHING"}))
        return *e;
    if (auto e = flag(s.enable_separator, {"PLUGIN_ENABLE_SEPARATOR"}))
        return *e;
    if (auto e = flag(s.path_style, {"PLUGIN_PATH_STYLE", "AWS_PLUGIN_PATH_STYLE"}))
        return *e;
    if (const auto t = env.first({"PLUGIN_BACKEND_OPERATION_TIMEOUT", "BACKEND_OPERATION_TIMEOUT"})) {
        const auto d = parse_go_duration(t->value);
        if (!d)
            return settings_error{t->variable, d.error().message + " (a Go duration such as 3m, 90s or 1h30m)"};
        if (d->count() <= 0)
            return settings_error{t->variable, "\"" + t->value + "\" is not a positive duration"};
        s.operation_timeout = *d;
    }

    // S3
    // GCS_BUCKET and GCS_ENDPOINT are in the plugin's lists for the shared flags; kept so the same variables
    // mean the same thing.
    s.bucket = env.text({"PLUGIN_BUCKET", "S3_BUCKET", "GCS_BUCKET"});
    if (s.backend == backend_kind::s3 && s.bucket.empty())
        return settings_error{"PLUGIN_BUCKET", "the s3 backend needs a bucket (PLUGIN_BUCKET or S3_BUCKET)"};
    if (const auto e = env.first({"PLUGIN_ENDPOINT", "S3_ENDPOINT", "GCS_ENDPOINT"})) {
        const auto scheme_end = e->value.find("://");
        if (scheme_end == std::string::npos) {
            s.endpoint = "https://" + e->value;  // what aws-sdk-go does with a bare host
        } else {
            std::string scheme = e->value.substr(0, scheme_end);
            std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                           [](unsigned char c) { return static_cast<char>(c | 0x20); });
            if (scheme != "http" && scheme != "https")
                return settings_error{e->variable, "\"" + e->value + "\" is not an http:// or https:// URL"};
            s.endpoint = e->value;
        }
    }
    s.region = env.text({"PLUGIN_REGION", "S3_REGION"});
    const auto access = env.first({"PLUGIN_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "CACHE_AWS_ACCESS_KEY_ID"});
    if (access)
        s.access_key = access->value;
    s.secret_key = secret(env.text({"PLUGIN_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "CACHE_AWS_SECRET_ACCESS_KEY"}));
    // AWS_SESSION_TOKEN belongs to AWS_ACCESS_KEY_ID: beside a plugin-specific key it would sign for a
    // different identity.
    if (!access || access->variable == "AWS_ACCESS_KEY_ID")
        s.session_token = secret(env.text({"PLUGIN_SESSION_TOKEN", "AWS_SESSION_TOKEN"}));
    else
        s.session_token = secret(env.text({"PLUGIN_SESSION_TOKEN"}));
    s.acl = env.text({"PLUGIN_ACL", "AWS_ACL"});
    if (const auto e = env.first({"PLUGIN_ENCRYPTION", "AWS_ENCRYPTION"})) {
        if (e->value != "AES256" && e->value != "aws:kms")
            return settings_error{e->variable,
                                  "\"" + e->value + "\" is not a server-side encryption (AES256, aws:kms)"};
        s.encryption = e->value;
    }
    s.sts_endpoint = env.text({"PLUGIN_STS_ENDPOINT", "AWS_STS_ENDPOINT"});
    s.assume_role_arn = env.text({"PLUGIN_ASSUME_ROLE_ARN", "PLUGIN_ASSUME_ROLE", "AWS_ASSUME_ROLE_ARN"});
    s.assume_role_session_name =
        env.text({"PLUGIN_ASSUME_ROLE_SESSION_NAME", "ASSUME_ROLE_SESSION_NAME"}, s.assume_role_session_name);
    s.external_id = env.text({"PLUGIN_EXTERNAL_ID"});
    s.oidc_token = secret(env.text({"PLUGIN_OIDC_TOKEN_ID"}));

    // Filesystem backend, metrics, logging
    s.filesystem_cache_root =
        env.text({"PLUGIN_FILESYSTEM_CACHE_ROOT", "FILESYSTEM_CACHE_ROOT"}, s.filesystem_cache_root);
    s.metrics_file = env.text({"PLUGIN_CACHE_INTEL_METRICS_FILE"});
    if (const auto l = env.first({"PLUGIN_LOG_LEVEL", "LOG_LEVEL"})) {
        if (l->value != "error" && l->value != "warn" && l->value != "info" && l->value != "debug")
            return settings_error{l->variable, "\"" + l->value + "\" is not a log level (error, warn, info, debug)"};
        s.log_level = l->value;
    }
    bool debug = false;
    if (auto e = flag(debug, {"PLUGIN_DEBUG"}))
        return *e;
    if (debug)
        s.log_level = "debug";
    auto lf = choose(env.first({"PLUGIN_LOG_FORMAT", "LOG_FORMAT"}), "PLUGIN_LOG_FORMAT", log_format::logfmt,
                     {{"logfmt", log_format::logfmt}, {"json", log_format::json}});
    if (!lf)
        return lf.error();
    s.log_format_ = *lf;
    return s;
}

// ---------------------------------------------------------------------------------------------------------
// describe()

namespace {

// logfmt quoting: bare when it has no space, quote, `=` or control character and is not empty.
std::string logfmt_value(std::string_view v)
{
    const bool bare = !v.empty() && std::none_of(v.begin(), v.end(), [](char c) {
        return c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20;
    });
    if (bare)
        return std::string(v);
    std::string out = "\"";
    for (const char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + '"';
}

std::string list_value(const std::vector<std::string>& items)
{
    std::string joined;
    for (const auto& i : items)
        joined += joined.empty() ? i : "," + i;
    return logfmt_value(joined);
}

std::string masked_access_key(std::string_view key)
{
    if (key.empty())
        return "\"\"";
    if (key.size() <= 4)
        return std::string(key.size(), '*');
    return std::string(key.size() - 4, '*') + std::string(key.substr(key.size() - 4));
}

std::string set_or_unset(const secret& s)
{
    return s.empty() ? "unset" : "set";
}

}  // namespace

std::string plugin_settings::describe() const
{
    const auto b = [](bool v) { return v ? "true" : "false"; };
    std::string out;
    const auto add = [&](std::string_view name, const std::string& value) {
        if (!out.empty())
            out += ' ';
        out.append(name);
        out += '=';
        out += value;
    };
    add("mode", std::string(to_string(mode)));
    add("backend", std::string(to_string(backend)));
    add("mounts", list_value(mounts));
    add("cache_key", logfmt_value(cache_key));
    add("restore_keys", list_value(restore_keys));
    add("archive_format", std::string(to_string(format)));
    add("compression_level", std::to_string(compression_level));
    add("override", b(override_existing));
    add("fail_restore_if_key_not_present", b(fail_restore_if_key_not_present));
    add("exit_code", b(exit_code));
    add("operation_timeout", format_go_duration(operation_timeout));
    add("skip_symlinks", b(skip_symlinks));
    add("preserve_metadata", b(preserve_metadata));
    add("strict_key_matching", b(strict_key_matching));
    add("enable_separator", b(enable_separator));
    add("bucket", logfmt_value(bucket));
    add("endpoint", logfmt_value(endpoint));
    add("region", logfmt_value(region));
    add("path_style", b(path_style));
    add("access_key", masked_access_key(access_key));
    add("secret_key", set_or_unset(secret_key));
    add("session_token", set_or_unset(session_token));
    add("acl", logfmt_value(acl));
    add("encryption", logfmt_value(encryption));
    add("sts_endpoint", logfmt_value(sts_endpoint));
    add("assume_role_arn", logfmt_value(assume_role_arn));
    add("assume_role_session_name", logfmt_value(assume_role_session_name));
    add("external_id", logfmt_value(external_id));
    add("oidc_token", set_or_unset(oidc_token));
    add("filesystem_cache_root", logfmt_value(filesystem_cache_root));
    add("metrics_file", logfmt_value(metrics_file));
    add("log_level", log_level);
    add("log_format", std::string(to_string(log_format_)));
    return out;
}

// ---------------------------------------------------------------------------------------------------------
// Mount layout

settings_result<mount_layout> layout_mount(std::string_view mount, const std::filesystem::path& working_dir,
                                           const getenv_function& getenv)
{
    if (mount.empty())
        return settings_error{"PLUGIN_MOUNT", "an empty mount"};
    if (escapes_working_dir(mount))
        return settings_error{"PLUGIN_MOUNT", "\"" + std::string(mount) + "\" leaves the working directory"};
    mount_layout l;
    l.mount = std::string(mount);

    // normalizeDockerPath (cache/rebuilder.go): on Harness Docker stages the per-run /tmp/harness/<id>/ prefix
    // is replaced by docker/ so keys stay stable across runs. It looks at the mount as written.
    std::string keyed = l.mount;
    if (const auto stage = getenv("DRONE_STAGE_TYPE"); stage && *stage == "DOCKER") {
        constexpr std::string_view prefix = "/tmp/harness/";
        if (keyed.starts_with(prefix)) {
            const std::string rest = keyed.substr(prefix.size());
            if (const auto slash = rest.find('/'); slash != std::string::npos)
                keyed = go_join_path({"docker", std::string_view(rest).substr(slash + 1)});
        }
    }
    std::string suffix = go_clean_path(keyed);
    while (!suffix.empty() && suffix.front() == '/')
        suffix.erase(0, 1);
    l.key_suffix = suffix == "." ? std::string{} : suffix;

    // rebuild(): a mount written "./x" is archived under its cleaned relative name; anything else under
    // filepath.Abs of it (the plugin's current directory is the working directory).
    l.relative = mount.starts_with("./");
    if (l.relative)
        l.archive_root = go_clean_path(mount);
    else if (mount.front() == '/')
        l.archive_root = go_clean_path(mount);
    else
        l.archive_root = go_join_path({working_dir.string(), mount});
    return l;
}

std::string object_key(std::string_view cache_key, const mount_layout& layout)
{
    return go_join_path({cache_key, layout.key_suffix});
}

}  // namespace cachestep::app::plugin
