#pragma once
// The Drone cache plugin's settings (PLUGIN_* variables and the aliases its main.go lists, first set one
// wins), read into one struct, checked, and describable in logs without its secrets. Also where a mount's
// data lands: the object key under the cache key and the names its archive entries carry, as the plugin
// writes them (cache/rebuilder.go, archive/tar/tar.go).
//
// Departures from the plugin, each on purpose:
// - An empty variable counts as unset, so the next alias or the default applies (urfave/cli takes the first
//   variable that exists, even empty, and reads an empty boolean as false: PLUGIN_OVERRIDE="" meant false).
// - Refused here, accepted by the plugin: an unknown PLUGIN_ARCHIVE_FORMAT (it fell back to tar), a
//   PLUGIN_ENCRYPTION other than AES256 / aws:kms (S3 refused it later), PLUGIN_LOG_FORMAT other than
//   logfmt / json (it used logfmt), an s3 backend without a bucket, a rebuild without PLUGIN_MOUNT, an empty
//   mount item, a relative mount that leaves the working directory (its object would land outside the key),
//   and neither PLUGIN_REBUILD nor PLUGIN_RESTORE (the plugin did nothing and succeeded).
// - Ours: PLUGIN_SESSION_TOKEN, lz4, PLUGIN_RESTORE_KEYS. Not read: the azure, gcs, sftp and harness backends'
//   settings, PLUGIN_AUTO_CACHE, PLUGIN_LOCAL_ROOT / PLUGIN_REMOTE_ROOT (unused by the plugin's code paths),
//   PLUGIN_USER_ROLE_ARN, and the bare DEBUG alias of PLUGIN_DEBUG (a common variable name for other tools:
//   DEBUG=express:* would make the plugin refuse to start).

#include "key_template.hpp"

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cachestep::app::plugin {

// A credential: kept, compared, handed to the signer through reveal(), never printed. There is no stream
// operator and no conversion to string; the memory is wiped when the value goes.
class secret {
public:
    secret() = default;
    explicit secret(std::string value) : value_(std::move(value)) {}
    secret(const secret&) = default;
    secret& operator=(const secret&) = default;
    secret(secret&& other) noexcept;
    secret& operator=(secret&& other) noexcept;
    ~secret();

    bool empty() const noexcept { return value_.empty(); }
    const std::string& reveal() const noexcept { return value_; }
    bool operator==(const secret& other) const noexcept { return value_ == other.value_; }

private:
    void wipe() noexcept;
    std::string value_;
};

enum class plugin_mode { rebuild, restore };
enum class backend_kind { s3, filesystem };
enum class archive_format { tar, gzip, zstd, lz4 };
enum class log_format { logfmt, json };

std::string_view to_string(plugin_mode m);
std::string_view to_string(backend_kind b);
std::string_view to_string(archive_format f);
std::string_view to_string(log_format f);

struct plugin_settings {
    plugin_mode mode{plugin_mode::rebuild};      // PLUGIN_REBUILD / PLUGIN_RESTORE: exactly one is true
    backend_kind backend{backend_kind::s3};      // PLUGIN_BACKEND
    std::vector<std::string> mounts;             // PLUGIN_MOUNT, `~` and $VAR expanded as the plugin does
    std::string cache_key;                       // PLUGIN_CACHE_KEY, a template; empty: legacy_default_key()
    std::vector<std::string> restore_keys;       // PLUGIN_RESTORE_KEYS (ours): templates tried after cache_key
    archive_format format{archive_format::tar};  // PLUGIN_ARCHIVE_FORMAT
    int compression_level{-1};                   // PLUGIN_COMPRESSION_LEVEL; -1: the format's default
    bool override_existing{true};                // PLUGIN_OVERRIDE
    bool fail_restore_if_key_not_present{false};  // PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT
    bool exit_code{false};                       // PLUGIN_EXIT_CODE, EXIT_CODE: fail the step on known errors
    std::chrono::nanoseconds operation_timeout{std::chrono::minutes(3)};  // PLUGIN_BACKEND_OPERATION_TIMEOUT
    bool skip_symlinks{false};                   // PLUGIN_SKIP_SYMLINKS, SKIP_SYMLINKS
    bool preserve_metadata{false};               // PLUGIN_PRESERVE_METADATA: read, no effect: we always restore
                                                 // modes and mtimes (the plugin restores mtimes only with it)
    bool strict_key_matching{true};              // PLUGIN_STRICT_KEY_MATCHING
    bool enable_separator{false};                // PLUGIN_ENABLE_SEPARATOR: read (and checked), no effect here

    // s3
    std::string bucket;                 // PLUGIN_BUCKET, S3_BUCKET, GCS_BUCKET
    std::string endpoint;               // PLUGIN_ENDPOINT, S3_ENDPOINT, GCS_ENDPOINT; "https://" added if bare
    std::string region;                 // PLUGIN_REGION, S3_REGION; empty: the AWS_* environment decides
    bool path_style{false};             // PLUGIN_PATH_STYLE, AWS_PLUGIN_PATH_STYLE
    std::string access_key;             // PLUGIN_ACCESS_KEY, AWS_ACCESS_KEY_ID, CACHE_AWS_ACCESS_KEY_ID
    secret secret_key;                  // PLUGIN_SECRET_KEY, AWS_SECRET_ACCESS_KEY, CACHE_AWS_SECRET_ACCESS_KEY
    secret session_token;               // PLUGIN_SESSION_TOKEN; AWS_SESSION_TOKEN only beside AWS_ACCESS_KEY_ID
    std::string acl;                    // PLUGIN_ACL, AWS_ACL
    std::string encryption;             // PLUGIN_ENCRYPTION, AWS_ENCRYPTION: "", "AES256" or "aws:kms"
    std::string sts_endpoint;           // PLUGIN_STS_ENDPOINT, AWS_STS_ENDPOINT
    std::string assume_role_arn;        // PLUGIN_ASSUME_ROLE_ARN, PLUGIN_ASSUME_ROLE, AWS_ASSUME_ROLE_ARN
    std::string assume_role_session_name{"drone-cache"};  // PLUGIN_ASSUME_ROLE_SESSION_NAME, ASSUME_ROLE_...
    std::string external_id;            // PLUGIN_EXTERNAL_ID
    secret oidc_token;                  // PLUGIN_OIDC_TOKEN_ID (a web identity token)

    std::string filesystem_cache_root{"/tmp/cache"};  // PLUGIN_FILESYSTEM_CACHE_ROOT, FILESYSTEM_CACHE_ROOT
    std::string metrics_file;                          // PLUGIN_CACHE_INTEL_METRICS_FILE
    std::string log_level{"info"};                     // PLUGIN_LOG_LEVEL, LOG_LEVEL; "debug" if PLUGIN_DEBUG
    log_format log_format_{log_format::logfmt};        // PLUGIN_LOG_FORMAT, LOG_FORMAT

    // One line for logs: every setting, secrets shown only as set or unset, the access key id masked but for
    // its last four characters (as `aws configure list` does).
    std::string describe() const;
};

// A refused setting: the variable it came from (the first that was set, or the primary name) and why. The
// message quotes the value only for settings that are not secrets.
struct settings_error {
    std::string variable;
    std::string message;

    std::string to_string() const { return variable + ": " + message; }
};

[[noreturn]] void throw_exception_from_error(const settings_error& e, const boost::source_location& loc);

template <class T>
using settings_result = boost::system::result<T, settings_error>;

// Reads and checks every setting. HOME and the variables a mount names come from getenv too.
settings_result<plugin_settings> parse_plugin_settings(const getenv_function& getenv);

// The plugin's mount expansion: the first `~` anywhere becomes $HOME, then os.ExpandEnv (unset variables
// read as empty).
std::string expand_mount(std::string_view mount, const getenv_function& getenv);

// Where one mount goes.
struct mount_layout {
    std::string mount;         // as configured (after expansion)
    std::string key_suffix;    // the object key below the cache key: the cleaned path without its leading "/"
                               // ("./node_modules" and "node_modules" -> "node_modules", "/root/.m2" ->
                               // "root/.m2"); with DRONE_STAGE_TYPE=DOCKER, /tmp/harness/<id>/x -> "docker/x"
    std::string archive_root;  // the name of the mount's own entry; entries below it are archive_root + "/" +
                               // the path inside. "./x" mounts keep a relative root ("x", or "." for "./");
                               // any other mount is made absolute against the working directory
                               // ("node_modules" -> "/harness/node_modules"), as the plugin's tar writer does
    bool relative{false};      // whether archive_root is relative (the mount started with "./")
};

settings_result<mount_layout> layout_mount(std::string_view mount, const std::filesystem::path& working_dir,
                                           const getenv_function& getenv);

// The object's key in the bucket: path.Join(cache_key, key_suffix), as filepath.Join(namespace, key, src).
std::string object_key(std::string_view cache_key, const mount_layout& layout);

}  // namespace cachestep::app::plugin
