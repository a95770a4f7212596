#include "plugin_mode.hpp"

#include "cache_jobs.hpp"
#include "cache_outputs.hpp"
#include "client_credentials.hpp"
#include "engine_session.hpp"
#include "interrupt_watch.hpp"
#include "plugin/plugin_settings.hpp"

#include <cachestep/engine/environment.hpp>

#include <boost/json.hpp>

#include <condition_variable>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;
using plugin::plugin_settings;

std::optional<std::string> environment_value(std::string_view name)
{
    const char* v = std::getenv(std::string(name).c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
}

archive::codec codec_of(plugin::archive_format f)
{
    switch (f) {
    case plugin::archive_format::tar: return archive::codec::none;
    case plugin::archive_format::gzip: return archive::codec::gzip;
    case plugin::archive_format::zstd: return archive::codec::zstd;
    case plugin::archive_format::lz4: return archive::codec::lz4;
    }
    return archive::codec::none;
}

// The store the settings name. S3: endpoint, region, path style, ACL, encryption, and credentials through the
// provider chain (PLUGIN_ACCESS_KEY/SECRET first, then AWS_*, profiles, web identity, AssumeRole, instance role).
engine::result<std::unique_ptr<cache_store>> open_plugin_store(const plugin_settings& s, const logger& log)
{
    if (s.backend == plugin::backend_kind::filesystem) return make_filesystem_store(s.filesystem_cache_root);
    engine::client_config cfg;
    cfg.endpoint.url = s.endpoint;
    cfg.endpoint.region = s.region;
    cfg.endpoint.addressing = s.path_style ? engine::addressing_style::path : engine::addressing_style::automatic;
    cfg.transfer.memory_limit =
        s.mode == plugin::plugin_mode::rebuild ? save_transfer_memory : restore_transfer_memory;
    engine::apply_environment(cfg);
    credentials::chain_options chain;
    if (!s.access_key.empty()) {
        chain.explicit_credentials = sigv4::credentials{s.access_key, s.secret_key.reveal(), s.session_token.reveal()};
        chain.explicit_source = "PLUGIN_ACCESS_KEY";
        cfg.credentials = {};  // the plugin's own keys win over AWS_* (credentials_chain decides)
    }
    chain.assume_role_arn = s.assume_role_arn;
    chain.session_name = s.assume_role_session_name;
    chain.external_id = s.external_id;
    chain.oidc_token = s.oidc_token.reveal();
    chain.region = s.region;
    chain.sts_endpoint = s.sts_endpoint;
    auto source = complete_credentials(cfg, std::move(chain));
    if (!source) return source.error();
    log.debug("credentials resolved", {{"source", *source}, {"region", cfg.endpoint.region}});
    auto session = engine_session::create(std::move(cfg));
    if (!session) return session.error();
    engine::upload_options upload;
    upload.acl = s.acl;
    upload.server_side_encryption = s.encryption;
    return make_s3_store(std::move(*session), s.bucket, std::move(upload));
}

// Cancels the running transfer when PLUGIN_BACKEND_OPERATION_TIMEOUT passes (the plugin's context deadline).
class operation_deadline {
public:
    operation_deadline(std::chrono::nanoseconds limit, transfer_canceller& canceller)
        : thread_([this, limit, &canceller] {
              std::unique_lock lock(mutex_);
              if (!wake_.wait_for(lock, limit, [&] { return done_; })) {
                  expired_ = true;
                  canceller.cancel();
              }
          })
    {
    }
    ~operation_deadline()
    {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        wake_.notify_all();
        thread_.join();
    }
    bool expired() const { return expired_; }

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_{false};
    std::atomic<bool> expired_{false};
    std::thread thread_;
};

// PLUGIN_CACHE_INTEL_METRICS_FILE: a JSON array, one object per mount, read by Harness' cache intelligence
// (it sums cache_size_bytes).
void write_metrics(const std::string& path, const std::vector<mount_result>& mounts, const std::string& key, bool hit)
{
    if (path.empty()) return;
    boost::json::array a;
    for (const auto& m : mounts)
        a.push_back(boost::json::object{{"key_name", key}, {"object", m.object_key}, {"mount", m.mount},
                                        {"cache_size_bytes", m.stored_bytes}, {"files_size_bytes", m.file_bytes},
                                        {"cache_hit", hit}, {"seconds", m.seconds}});
    std::ofstream(path) << boost::json::serialize(a) << "\n";
}

void log_timeout(const plugin_settings& s, const logger& log)
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(s.operation_timeout).count();
    log.error("backend operation timed out", {{"timeout", std::to_string(seconds) + "s"}});
}

int finish(bool failed, const plugin_settings& s, const logger& log, const std::string& what)
{
    if (!failed) return 0;
    if (s.exit_code) return 1;
    log.warn(what + " failed; the step still succeeds (PLUGIN_EXIT_CODE is not true)");
    return 0;
}

}  // namespace

bool plugin_mode_requested()
{
    return environment_value("PLUGIN_REBUILD").has_value() || environment_value("PLUGIN_RESTORE").has_value();
}

int run_plugin_mode()
{
    block_interrupts();
    const plugin::getenv_function getenv = environment_value;
    auto parsed = plugin::parse_plugin_settings(getenv);
    if (!parsed) {
        // In the format asked for, though the settings did not parse (the plugin makes its logger first).
        const auto asked = getenv("PLUGIN_LOG_FORMAT") ? getenv("PLUGIN_LOG_FORMAT") : getenv("LOG_FORMAT");
        logger(asked == std::optional<std::string>("json") ? log_format::json : log_format::logfmt, log_level::error)
            .error("invalid configuration", {{"err", parsed.error().to_string()}});
        return 1;
    }
    const plugin_settings& s = *parsed;
    log_level level = log_level::info;
    parse_log_level(s.log_level, level);
    const logger log(s.log_format_ == plugin::log_format::json ? log_format::json : log_format::logfmt, level);
    log.debug("settings", {{"settings", s.describe()}});

    std::error_code ec;
    const fs::path cwd = fs::current_path(ec);
    const auto ctx = plugin::host_template_context(cwd);
    auto key = s.cache_key.empty() ? plugin::legacy_default_key(getenv) : plugin::render_key(s.cache_key, ctx);
    if (!key) {
        log.error("invalid cache key template", {{"err", key.error().to_string()}});
        return 1;
    }
    std::vector<std::string> restore_keys;
    for (const auto& k : s.restore_keys) {
        auto r = plugin::render_key(k, ctx);
        if (!r) {
            log.error("invalid restore key template", {{"err", r.error().to_string()}});
            return 1;
        }
        restore_keys.push_back(*r);
    }
    std::vector<mount_spec> mounts;
    for (const auto& m : s.mounts) {
        auto layout = plugin::layout_mount(m, cwd, getenv);
        if (!layout) {
            log.error("invalid mount", {{"err", layout.error().to_string()}});
            return 1;
        }
        const fs::path path = layout->relative ? (cwd / layout->archive_root).lexically_normal() : fs::path(layout->archive_root);
        mounts.push_back({path, layout->key_suffix, layout->archive_root});
    }
    const archive::codec format = codec_of(s.format);
    const int level_setting = s.compression_level < 0 || format == archive::codec::none ? 0 : s.compression_level;
    if (const auto range = archive::levels(format); level_setting != 0 && (level_setting < range.min || level_setting > range.max)) {
        log.error("invalid configuration", {{"err", "PLUGIN_COMPRESSION_LEVEL: " + std::to_string(s.compression_level) +
                                                       " is outside " + std::to_string(range.min) + ".." +
                                                       std::to_string(range.max) + " for " + std::string(archive::codec_name(format))}});
        return 1;
    }

    auto store = open_plugin_store(s, log);
    if (!store) {
        log.error("cannot reach the cache backend", {{"err", store.error().to_string()}});
        return finish(true, s, log, "the backend");
    }
    transfer_canceller canceller;
    interrupt_watch interrupts([&](int) { canceller.cancel(); });

    if (s.mode == plugin::plugin_mode::rebuild) {
        save_job job;
        job.key = *key;
        job.mounts = mounts;
        job.format = format;
        job.level = level_setting;
        job.override_existing = s.override_existing;
        job.skip_symlinks = s.skip_symlinks;
        job.missing_mount_is_error = true;  // the plugin: "make sure file or directory exists and readable"
        job.progress = true;
        save_report report;
        bool expired = false;
        {
            operation_deadline deadline(s.operation_timeout, canceller);
            report = run_save(**store, job, canceller, log);
            expired = deadline.expired();
        }
        write_metrics(s.metrics_file, report.mounts, *key, false);
        if (const int sig = interrupts.signal_received()) {
            log.error("interrupted: nothing was stored for the interrupted mount", {{"signal", std::to_string(sig)}});
            return exit_code_for_signal(sig);
        }
        if (expired) log_timeout(s, log);
        return finish(!report.ok() || expired, s, log, "rebuild");
    }

    restore_job job;
    job.key = *key;
    job.restore_keys = restore_keys;
    job.mounts = mounts;
    job.workspace = cwd;
    job.strict_key_matching = s.strict_key_matching;
    job.progress = true;
    restore_report report;
    bool expired = false;
    {
        operation_deadline deadline(s.operation_timeout, canceller);
        report = run_restore(**store, job, canceller, log);
        expired = deadline.expired();
    }
    write_cache_outputs(report);
    write_metrics(s.metrics_file, report.mounts, report.matched_key, report.exact_hit);
    if (const int sig = interrupts.signal_received()) {
        log.error("restore interrupted: the restored tree is incomplete", {{"signal", std::to_string(sig)}});
        return exit_code_for_signal(sig);
    }
    if (expired) log_timeout(s, log);
    if (report.lookup_error) log.error("cannot list the cache", {{"err", report.lookup_error->to_string()}});
    if (!report.found() && s.fail_restore_if_key_not_present) {
        log.error("cache key not found and PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT is true", {{"key", *key}});
        return 1;
    }
    return finish(!report.ok() || expired, s, log, "restore");
}

}  // namespace cachestep::app
