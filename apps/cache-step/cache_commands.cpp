#include "cache_commands.hpp"
#include "cli_support.hpp"

#include "cache_jobs.hpp"
#include "cache_outputs.hpp"
#include "client_credentials.hpp"
#include "engine_session.hpp"
#include "human_units.hpp"
#include "interrupt_watch.hpp"

#include <cachestep/engine/environment.hpp>

#include <boost/json.hpp>

#include <chrono>
#include <iostream>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

void add_store_flags(CLI::App& c, store_flags& f, std::uint64_t memory_limit = restore_transfer_memory)
{
    c.add_option("--bucket", f.bucket, "the S3 bucket holding the caches");
    c.add_option("--filesystem-root", f.filesystem_root, "keep caches in this directory instead of S3");
    c.add_option("-C,--workspace", f.workspace, "the directory source paths are relative to")->capture_default_str();
    c.add_flag("--json", f.json, "print a JSON summary on stdout");
    c.add_flag("-q,--quiet", f.quiet, "no progress and no summary line (errors still print)");
    f.s3.memory_limit = std::to_string(memory_limit >> 20) + "MiB";  // cache_store.hpp says why
    add_s3_flags(c, f.s3);
}

// The store the flags name: a directory, or S3 through the engine (bucket required).
engine::result<std::unique_ptr<cache_store>> open_store(const store_flags& f, engine::upload_options upload = {})
{
    if (!f.filesystem_root.empty()) return make_filesystem_store(absolute_normal(f.filesystem_root));
    if (f.bucket.empty())
        return engine::error_info(engine::engine_errc::invalid_argument, "--bucket (or --filesystem-root) is required");
    auto cfg = make_client_config(f.s3);
    if (!cfg) return cfg.error();
    // Credentials: AWS_* (read by make_client_config), else profiles, web identity, the instance role.
    if (auto source = complete_credentials(*cfg, credentials::chain_options{}); !source) return source.error();
    auto session = engine_session::create(std::move(*cfg));
    if (!session) return session.error();
    return make_s3_store(std::move(*session), f.bucket, std::move(upload));
}

// Source paths as mounts: inside the workspace, named relative to it; outside, by absolute path.
std::vector<mount_spec> mounts_for(const std::vector<std::string>& paths, const fs::path& workspace)
{
    std::vector<mount_spec> out;
    for (const auto& p : paths) {
        const fs::path disk = absolute_normal(fs::path(p).is_absolute() ? fs::path(p) : workspace / p);
        const std::string relative = disk.lexically_relative(workspace).string();
        const bool inside = !relative.empty() && relative != "." && relative != ".." && relative.rfind("../", 0) != 0;
        const std::string name = inside ? relative : disk.string();
        out.push_back({disk, mount_suffix(name), name});
    }
    return out;
}

json::array mounts_json(const std::vector<mount_result>& mounts)
{
    json::array a;
    for (const auto& m : mounts) {
        const char* state = "failed";
        switch (m.state) {
        case mount_result::status::done: state = "done"; break;
        case mount_result::status::skipped_existing: state = "skipped_existing"; break;
        case mount_result::status::missing: state = "missing"; break;
        case mount_result::status::not_found: state = "not_found"; break;
        case mount_result::status::failed: break;
        }
        json::object o{{"mount", m.mount}, {"object", m.object_key}, {"state", state}, {"files", m.files},
                       {"file_bytes", m.file_bytes}, {"stored_bytes", m.stored_bytes}, {"seconds", m.seconds}};
        if (!m.error.empty()) o["error"] = m.error;
        a.push_back(std::move(o));
    }
    return a;
}

struct totals {
    std::uint64_t files{0}, file_bytes{0}, stored_bytes{0};
    double seconds{0};
};

totals sum(const std::vector<mount_result>& mounts)
{
    totals t;
    for (const auto& m : mounts) {
        t.files += m.files;
        t.file_bytes += m.file_bytes;
        t.stored_bytes += m.stored_bytes;
        t.seconds += m.seconds;
    }
    return t;
}

std::string summary_line(const char* verb, const totals& t, const std::string& key)
{
    char text[256];
    const double ratio = t.file_bytes ? static_cast<double>(t.stored_bytes) / static_cast<double>(t.file_bytes) : 0.0;
    const double rate = static_cast<double>(t.file_bytes) / std::max(t.seconds, 1e-6) / 1e6;
    std::snprintf(text, sizeof text, "%s %llu files, %s raw, %s stored (ratio %.2f) in %.2f s (%.0f MB/s)", verb,
                  static_cast<unsigned long long>(t.files), human_bytes(static_cast<double>(t.file_bytes)).c_str(),
                  human_bytes(static_cast<double>(t.stored_bytes)).c_str(), ratio, t.seconds, rate);
    return std::string(text) + ", key " + key;
}

logger quiet_aware_logger(bool quiet)
{
    return logger(log_format::logfmt, quiet ? log_level::warn : log_level::info);
}

// "7d", "36h", "90m", "1w2d": an age for prune.
std::optional<std::chrono::seconds> parse_age(std::string_view text)
{
    if (text.empty()) return std::nullopt;
    std::int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        std::int64_t n = 0;
        const std::size_t start = i;
        while (i < text.size() && text[i] >= '0' && text[i] <= '9') n = n * 10 + (text[i++] - '0');
        if (i == start || i == text.size()) return std::nullopt;
        switch (text[i++]) {
        case 's': total += n; break;
        case 'm': total += n * 60; break;
        case 'h': total += n * 3600; break;
        case 'd': total += n * 86400; break;
        case 'w': total += n * 7 * 86400; break;
        default: return std::nullopt;
        }
    }
    return std::chrono::seconds(total);
}

}  // namespace

void add_cache_commands(CLI::App& app, save_flags& save, restore_flags& restore, manage_flags& ls, manage_flags& rm,
                        manage_flags& prune)
{
    auto* s = app.add_subcommand("save", "pack source paths and store them under a key (one archive per path)");
    s->add_option("--key", save.key, "the cache key, e.g. npm-{{ checksum \"package-lock.json\" }}")->required();
    s->add_option("--source-path", save.source_paths, "a directory or file to cache (repeatable)")->required();
    s->add_option("--archive-format", save.archive_format, "tar, gzip, zstd or lz4")
        ->check(CLI::IsMember({"tar", "gzip", "zstd", "lz4"}))
        ->capture_default_str();
    s->add_option("--compression-level", save.compression_level, "0: the format's default");
    s->add_option("--threads", save.threads, "compression threads (0: one per core)");
    s->add_flag("--override", save.override_existing, "replace a cache already stored under the key (default: keep it)");
    s->add_flag("--skip-symlinks", save.skip_symlinks, "leave symbolic links out");
    add_store_flags(*s, save.store, save_transfer_memory);

    auto* r = app.add_subcommand("restore", "restore the cache stored under a key (or the newest matching a restore key)");
    r->add_option("--key", restore.key, "the cache key")->required();
    r->add_option("--restore-key", restore.restore_keys, "a fallback key prefix, in order (repeatable)");
    r->add_option("--source-path", restore.source_paths,
                  "restore only these paths (as given to save); default: every path stored under the key");
    r->add_flag("--fail-if-key-not-found", restore.fail_if_key_not_found, "exit 1 when no cache matches");
    r->add_flag("--no-strict-key-matching", restore.no_strict_key_matching,
                "let --key match any object whose name starts with it (default: only <key>/...)");
    add_store_flags(*r, restore.store);

    auto* l = app.add_subcommand("ls", "list cached objects (key, size, age)");
    l->add_option("prefix", ls.prefix, "only objects whose names start with this");
    add_store_flags(*l, ls.store);

    auto* d = app.add_subcommand("rm", "delete caches: every object under each key");
    d->add_option("keys", rm.keys, "cache keys")->required();
    d->add_flag("--dry-run", rm.dry_run, "only list what would be deleted");
    add_store_flags(*d, rm.store);

    auto* p = app.add_subcommand("prune", "delete cached objects older than an age");
    p->add_option("--older-than", prune.older_than, "e.g. 7d, 36h, 1w")->required();
    p->add_option("--prefix", prune.prefix, "only objects whose names start with this");
    p->add_flag("--dry-run", prune.dry_run, "only list what would be deleted");
    add_store_flags(*p, prune.store);
}

int run_save(const save_flags& f)
{
    block_interrupts();  // before any thread starts: the watcher below takes SIGINT/SIGTERM
    const fs::path workspace = absolute_normal(f.store.workspace);
    auto key = render_cache_key(f.key, workspace);
    if (!key) return fail(key.error());
    auto store = open_store(f.store);
    if (!store) return fail(store.error().to_string());
    transfer_canceller canceller;
    interrupt_watch interrupts([&](int) { canceller.cancel(); });

    save_job job;
    job.key = *key;
    job.mounts = mounts_for(f.source_paths, workspace);
    job.format = *archive::parse_codec(f.archive_format);
    job.level = f.compression_level;
    job.threads = f.threads;
    job.override_existing = f.override_existing;
    job.skip_symlinks = f.skip_symlinks;
    job.progress = !f.store.quiet;
    const logger log = quiet_aware_logger(f.store.quiet);
    const auto report = run_save(**store, job, canceller, log);

    const bool nothing = std::none_of(report.mounts.begin(), report.mounts.end(), [](const mount_result& m) {
        return m.state == mount_result::status::done || m.state == mount_result::status::skipped_existing;
    });
    const totals t = sum(report.mounts);
    if (f.store.json) {
        json::object o{{"command", "save"}, {"key", *key}, {"ok", report.ok() && !nothing}, {"files", t.files},
                       {"file_bytes", t.file_bytes}, {"stored_bytes", t.stored_bytes},
                       {"mounts", mounts_json(report.mounts)}};
        std::cout << json::serialize(o) << "\n";
    }
    if (const int sig = interrupts.signal_received()) {
        std::cerr << "cache-step: save interrupted by signal " << sig << "; nothing was stored for the interrupted path\n";
        return exit_code_for_signal(sig);
    }
    if (!report.ok()) return fail("save failed (see above); nothing partial was stored");
    if (nothing) return fail("nothing to save: no source path exists");
    const bool all_kept = std::all_of(report.mounts.begin(), report.mounts.end(), [](const mount_result& m) {
        return m.state != mount_result::status::done;
    });
    if (f.store.quiet) return 0;
    if (all_kept) std::cerr << "cache already stored under key " << *key << "; nothing saved (--override replaces it)\n";
    else std::cerr << summary_line("saved", t, *key) << "\n";
    return 0;
}

int run_restore(const restore_flags& f)
{
    block_interrupts();
    const fs::path workspace = absolute_normal(f.store.workspace);
    auto key = render_cache_key(f.key, workspace);
    if (!key) return fail(key.error());
    std::vector<std::string> restore_keys;
    for (const auto& k : f.restore_keys) {
        auto rendered = render_cache_key(k, workspace);
        if (!rendered) return fail(rendered.error());
        restore_keys.push_back(*rendered);
    }
    auto store = open_store(f.store);
    if (!store) return fail(store.error().to_string());
    transfer_canceller canceller;
    interrupt_watch interrupts([&](int) { canceller.cancel(); });

    restore_job job;
    job.key = *key;
    job.restore_keys = restore_keys;
    job.mounts = mounts_for(f.source_paths, workspace);
    job.workspace = workspace;
    job.strict_key_matching = !f.no_strict_key_matching;
    job.progress = !f.store.quiet;
    const logger log = quiet_aware_logger(f.store.quiet);
    const auto report = run_restore(**store, job, canceller, log);
    write_cache_outputs(report);

    const totals t = sum(report.mounts);
    if (f.store.json) {
        json::object o{{"command", "restore"}, {"key", *key}, {"ok", report.ok()}, {"cache_hit", report.exact_hit},
                       {"matched_key", report.matched_key}, {"complete", report.complete()}, {"files", t.files},
                       {"file_bytes", t.file_bytes}, {"stored_bytes", t.stored_bytes},
                       {"mounts", mounts_json(report.mounts)}};
        if (report.lookup_error) o["error"] = report.lookup_error->to_string();
        std::cout << json::serialize(o) << "\n";
    }
    if (const int sig = interrupts.signal_received()) {
        std::cerr << "cache-step: restore interrupted by signal " << sig << "; the restored tree is incomplete\n";
        return exit_code_for_signal(sig);
    }
    if (report.lookup_error) return fail("restore failed: " + report.lookup_error->to_string());
    if (!report.ok()) return fail("restore failed (see above)");
    if (!report.found()) {
        if (!f.store.quiet) std::cerr << "cache miss: nothing stored under " << *key << "\n";
        return f.fail_if_key_not_found ? fail("no cache found for key " + *key) : 0;
    }
    if (!f.store.quiet)
        std::cerr << summary_line(report.exact_hit ? "restored (hit)" : "restored (fallback)", t, report.matched_key) << "\n";
    return 0;
}

int run_ls(const manage_flags& f)
{
    auto store = open_store(f.store);
    if (!store) return fail(store.error().to_string());
    auto listed = (*store)->list(f.prefix);
    if (!listed) return fail(listed.error().to_string());
    const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
    json::array a;
    for (const auto& o : *listed) {
        const auto age = std::chrono::duration_cast<std::chrono::hours>(now - o.last_modified).count();
        if (f.store.json) {
            a.push_back(json::object{{"key", o.key}, {"size", o.size},
                                     {"last_modified", o.last_modified.time_since_epoch().count()}});
        } else {
            std::cout << o.key << "\t" << human_bytes(static_cast<double>(o.size)) << "\t" << age << "h old\n";
        }
    }
    if (f.store.json) std::cout << json::serialize(a) << "\n";
    return 0;
}

namespace {

int delete_objects(cache_store& store, const std::vector<stored_object>& doomed, bool dry_run, bool quiet)
{
    int failures = 0;
    for (const auto& o : doomed) {
        if (dry_run) {
            std::cout << "would delete " << store.describe(o.key) << "\n";
            continue;
        }
        if (auto r = store.remove(o.key); !r) {
            std::cerr << "cache-step: error: deleting " << store.describe(o.key) << ": " << r.error().to_string() << "\n";
            ++failures;
        } else if (!quiet) {
            std::cout << "deleted " << store.describe(o.key) << "\n";
        }
    }
    return failures ? 1 : 0;
}

}  // namespace

int run_rm(const manage_flags& f)
{
    auto store = open_store(f.store);
    if (!store) return fail(store.error().to_string());
    std::vector<stored_object> doomed;
    for (const auto& k : f.keys) {
        auto listed = (*store)->list(k + "/");  // every mount's object under the key
        if (!listed) return fail(listed.error().to_string());
        doomed.insert(doomed.end(), listed->begin(), listed->end());
    }
    if (doomed.empty() && !f.store.quiet) std::cerr << "nothing stored under the given key(s)\n";
    return delete_objects(**store, doomed, f.dry_run, f.store.quiet);
}

int run_prune(const manage_flags& f)
{
    const auto age = parse_age(f.older_than);
    if (!age) return fail("--older-than '" + f.older_than + "': expected a number and a unit (s, m, h, d, w), e.g. 7d");
    auto store = open_store(f.store);
    if (!store) return fail(store.error().to_string());
    auto listed = (*store)->list(f.prefix);
    if (!listed) return fail(listed.error().to_string());
    const auto cutoff = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now()) - *age;
    std::vector<stored_object> doomed;
    for (const auto& o : *listed)
        if (o.last_modified < cutoff) doomed.push_back(o);
    if (!f.store.quiet) std::cerr << doomed.size() << " of " << listed->size() << " objects older than " << f.older_than << "\n";
    return delete_objects(**store, doomed, f.dry_run, f.store.quiet);
}

}  // namespace cachestep::app
