#include "cache_jobs.hpp"

#include "human_units.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <map>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;

std::string seconds_text(double s)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fs", s);
    return buf;
}

}  // namespace

std::string mount_suffix(std::string_view mount)
{
    std::string s(mount);
    while (s.rfind("./", 0) == 0) s.erase(0, 2);
    while (!s.empty() && s.front() == '/') s.erase(0, 1);
    while (!s.empty() && s.back() == '/') s.pop_back();
    return s;
}

bool save_report::ok() const
{
    return std::none_of(mounts.begin(), mounts.end(), [](const mount_result& m) {
        return m.state == mount_result::status::failed;
    });
}

bool restore_report::ok() const
{
    if (lookup_error) return false;
    return std::none_of(mounts.begin(), mounts.end(), [](const mount_result& m) {
        return m.state == mount_result::status::failed;
    });
}

bool restore_report::complete() const
{
    return found() && ok() && std::all_of(mounts.begin(), mounts.end(), [](const mount_result& m) {
        return m.state == mount_result::status::done;
    });
}

save_report run_save(cache_store& store, const save_job& job, transfer_canceller& canceller, const logger& log)
{
    save_report report;
    for (const auto& mount : job.mounts) {
        mount_result r;
        r.mount = mount.archive_name;
        r.object_key = job.key + "/" + mount.suffix;
        struct stat st{};
        if (::lstat(mount.path.c_str(), &st) != 0) {
            r.state = job.missing_mount_is_error ? mount_result::status::failed : mount_result::status::missing;
            r.error = "source path does not exist: " + mount.path.string();
            (job.missing_mount_is_error ? log.error(r.error, {{"mount", mount.path.string()}})
                                        : log.warn("source path does not exist, skipped", {{"mount", mount.path.string()}}));
            report.mounts.push_back(std::move(r));
            continue;
        }
        if (!job.override_existing) {
            auto existing = store.find(r.object_key);
            if (!existing) {
                // Not knowing is not "absent": without override, a cache we cannot see must not be replaced.
                r.state = mount_result::status::failed;
                r.error = "cannot check for an existing cache: " + existing.error().to_string();
                log.error("cannot check for an existing cache", {{"key", r.object_key}, {"err", r.error}});
                report.mounts.push_back(std::move(r));
                continue;
            }
            if (*existing) {
                log.info("cache exists for this key, skipping (override is off)",
                         {{"key", r.object_key}, {"mount", mount.path.string()}});
                r.state = mount_result::status::skipped_existing;
                report.mounts.push_back(std::move(r));
                continue;
            }
        }
        log.info("rebuilding cache for directory", {{"local", mount.path.string()}, {"remote", store.describe(r.object_key)}});
        archive::pack_options po;
        po.sources = {{mount.path, mount.archive_name}};
        po.format = job.format;
        po.level = job.level;
        po.threads = job.threads;
        po.skip_symlinks = job.skip_symlinks;
        po.warn = [&log](const std::string& w) { log.warn(w); };
        auto outcome = save_archive(store, r.object_key, std::move(po), "saving " + mount.path.string(), job.progress, canceller);
        if (!outcome) {
            r.state = mount_result::status::failed;
            r.error = outcome.error().to_string();
            log.error("cache could not be built", {{"mount", mount.path.string()}, {"err", r.error}});
        } else {
            r.state = mount_result::status::done;
            r.file_bytes = outcome->stats.file_bytes;
            r.stored_bytes = outcome->stored_bytes;
            r.files = outcome->stats.files;
            r.seconds = outcome->seconds;
            log.info("cache built", {{"took", seconds_text(r.seconds)},
                                     {"archive_size", human_bytes(static_cast<double>(r.stored_bytes))},
                                     {"files_size", human_bytes(static_cast<double>(r.file_bytes))},
                                     {"files", std::to_string(r.files)},
                                     {"remote", store.describe(r.object_key)}});
        }
        report.mounts.push_back(std::move(r));
    }
    return report;
}

namespace {

// The objects stored under the exact key.
std::vector<stored_object> objects_under(const std::vector<stored_object>& listed, const std::string& key)
{
    std::vector<stored_object> out;
    const std::string prefix = key + "/";
    for (const auto& o : listed)
        if (o.key.rfind(prefix, 0) == 0 && o.key.size() > prefix.size()) out.push_back(o);
    return out;
}

// The key an object belongs to, for a restore-key match: its name without "/<mount suffix>".
std::optional<std::string> key_of(const stored_object& o, const std::string& prefix, const std::vector<mount_spec>& mounts)
{
    if (mounts.empty()) {
        const auto slash = o.key.find('/', prefix.size());
        if (slash == std::string::npos || slash == 0) return std::nullopt;
        return o.key.substr(0, slash);
    }
    for (const auto& m : mounts) {
        const std::string tail = "/" + m.suffix;
        if (o.key.size() > tail.size() && o.key.compare(o.key.size() - tail.size(), tail.size(), tail) == 0)
            return o.key.substr(0, o.key.size() - tail.size());
    }
    return std::nullopt;
}

}  // namespace

restore_report run_restore(cache_store& store, const restore_job& job, transfer_canceller& canceller, const logger& log)
{
    restore_report report;
    // The newest key under a prefix: its objects' names up to "/<mount suffix>".
    auto newest_key_under = [&](const std::string& prefix) -> engine::result<std::optional<std::string>> {
        auto listed = store.list(prefix);
        if (!listed) return listed.error();
        const stored_object* newest = nullptr;
        std::string newest_key;
        for (const auto& o : *listed) {
            auto k = key_of(o, prefix, job.mounts);
            if (!k) continue;
            if (!newest || o.last_modified > newest->last_modified) {
                newest = &o;
                newest_key = *k;
            }
        }
        if (!newest) return std::optional<std::string>();
        return std::optional<std::string>(newest_key);
    };
    std::vector<stored_object> objects;
    if (job.strict_key_matching && !job.mounts.empty()) {
        // Named mounts under the exact key: look each object up directly (HEAD needs only s3:GetObject).
        for (const auto& m : job.mounts) {
            auto found = store.find(job.key + "/" + m.suffix);
            if (!found) {
                report.lookup_error = found.error();
                return report;
            }
            if (*found) objects.push_back(**found);
        }
        if (!objects.empty()) report.matched_key = job.key;
    } else if (job.strict_key_matching) {
        auto exact = store.list(job.key + "/");
        if (!exact) {
            report.lookup_error = exact.error();
            return report;
        }
        objects = objects_under(*exact, job.key);
        if (!objects.empty()) report.matched_key = job.key;
    } else {
        // Without strict matching the key is a prefix like a restore key ("key1/..." matches "key").
        auto k = newest_key_under(job.key);
        if (!k) {
            report.lookup_error = k.error();
            return report;
        }
        if (*k) report.matched_key = **k;
    }
    report.exact_hit = report.matched_key == job.key;
    for (std::size_t i = 0; !report.found() && i < job.restore_keys.size(); ++i) {
        auto k = newest_key_under(job.restore_keys[i]);
        if (!k) {
            report.lookup_error = k.error();
            return report;
        }
        if (*k) {
            report.matched_key = **k;
            log.info("restore key matched", {{"restore_key", job.restore_keys[i]}, {"key", report.matched_key}});
        }
    }
    if (report.found() && objects.empty()) {
        auto under = store.list(report.matched_key + "/");
        if (!under) {
            report.lookup_error = under.error();
            return report;
        }
        objects = objects_under(*under, report.matched_key);
    }
    if (!report.found()) {
        log.info("cache key not found, nothing restored", {{"key", job.key}});
        return report;
    }

    // What to restore: each wanted mount's object, or (no mounts) every object under the key, in place.
    struct planned {
        std::string object_key;
        std::optional<mount_spec> mount;
    };
    std::vector<planned> plan;
    if (job.mounts.empty()) {
        for (const auto& o : objects) plan.push_back({o.key, std::nullopt});
    } else {
        for (const auto& m : job.mounts) plan.push_back({report.matched_key + "/" + m.suffix, m});
    }
    for (const auto& p : plan) {
        mount_result r;
        r.object_key = p.object_key;
        r.mount = p.mount ? p.mount->path.string() : p.object_key.substr(report.matched_key.size() + 1);
        auto it = std::find_if(objects.begin(), objects.end(), [&](const stored_object& o) { return o.key == p.object_key; });
        if (it == objects.end()) {
            r.state = mount_result::status::not_found;
            log.warn("no cache stored for this mount under the key", {{"mount", r.mount}, {"key", report.matched_key}});
            report.mounts.push_back(std::move(r));
            continue;
        }
        log.info("restoring directory", {{"local", r.mount}, {"remote", store.describe(p.object_key)}});
        archive::unpack_options uo;
        uo.destination = job.workspace;
        if (p.mount) uo.mount = p.mount->path;
        else uo.restore_in_place = true;
        uo.warn = [&log](const std::string& w) { log.warn(w); };
        auto outcome = restore_archive(store, *it, std::move(uo), "restoring " + r.mount, job.progress, canceller);
        if (!outcome) {
            r.error = outcome.error().to_string();
            const bool not_archive = r.error.find("not an archive") != std::string::npos ||
                                     r.error.find("empty stream") != std::string::npos;
            if (not_archive) {
                // The plugin's layout shares the key's "folder" with whatever else people put there.
                r.state = mount_result::status::not_found;
                log.warn("object under the key is not an archive, skipped", {{"remote", store.describe(p.object_key)}, {"err", r.error}});
            } else {
                r.state = mount_result::status::failed;
                log.error("cache could not be restored", {{"mount", r.mount}, {"err", r.error}});
            }
        } else {
            r.state = mount_result::status::done;
            r.file_bytes = outcome->stats.file_bytes;
            r.stored_bytes = outcome->stats.stored_bytes;
            r.files = outcome->stats.files;
            r.seconds = outcome->seconds;
            log.info("cache restored", {{"took", seconds_text(r.seconds)},
                                        {"archive_size", human_bytes(static_cast<double>(r.stored_bytes))},
                                        {"files_size", human_bytes(static_cast<double>(r.file_bytes))},
                                        {"files", std::to_string(r.files)},
                                        {"local", r.mount}});
        }
        report.mounts.push_back(std::move(r));
    }
    return report;
}

}  // namespace cachestep::app
