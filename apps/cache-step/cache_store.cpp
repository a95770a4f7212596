#include "cache_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;

class s3_store final : public cache_store {
public:
    s3_store(std::unique_ptr<engine_session> session, std::string bucket, engine::upload_options options)
        : session_(std::move(session)), bucket_(std::move(bucket)), upload_options_(std::move(options))
    {
    }

    std::string describe(const std::string& key) const override { return "s3://" + bucket_ + "/" + key; }

    engine::result<std::vector<stored_object>> list(const std::string& prefix) override
    {
        // The server is asked for the prefix up to its first '/', and the rest is filtered here: moto's SigV4
        // verifier refuses a query with an escaped '/' (prefix=K%2F), which every key folder ("<key>/") has.
        // The cost, only for keys that themselves contain '/', is listing their first path element.
        auto& c = session_->client();
        const std::string server_prefix = prefix.substr(0, prefix.find('/'));
        auto listed = session_->run(c.list_all_objects(bucket_, server_prefix));
        if (!listed) return listed.error();
        std::vector<stored_object> out;
        for (auto& o : *listed)
            if (o.key.rfind(prefix, 0) == 0) out.push_back({std::move(o.key), o.size, o.last_modified});
        return out;
    }

    engine::result<std::optional<stored_object>> find(const std::string& key) override
    {
        // HEAD, not a listing: it needs only s3:GetObject, which is all a restore-only role may have (the
        // plugin's restorer GETs <key>/<mount> directly). The time is not needed where find() is used.
        const engine::object_ref obj{bucket_, key};
        auto head = session_->run(session_->client().head_object(obj));
        if (head) return std::optional<stored_object>(stored_object{key, head->size, {}});
        if (head.error().code == engine::s3_errc::no_such_key) return std::optional<stored_object>();
        if (head.error().http_status != 403) return head.error();
        // A HEAD answer has no body, so a 403 cannot say why: ask again with a one-byte GET, whose error body
        // names it (SignatureDoesNotMatch: a wrong secret, InvalidAccessKeyId, AccessDenied, ...).
        std::array<char, 1> byte{};
        auto probe = session_->run(session_->client().get_object_range(obj, 0, 0, std::span<char>(byte)));
        if (!probe) {
            if (probe.error().code == engine::s3_errc::no_such_key) return std::optional<stored_object>();
            return probe.error();
        }
        return std::optional<stored_object>(stored_object{key, probe->object_size, {}});
    }

    engine::result<std::uint64_t> put(const std::string& key, engine::byte_source& source) override
    {
        const engine::object_ref obj{bucket_, key};
        auto r = session_->run(session_->client().upload(obj, source, upload_options_));
        if (!r) return r.error();
        return r->size;
    }

    engine::result<std::uint64_t> get(const std::string& key, engine::byte_sink& sink) override
    {
        const engine::object_ref obj{bucket_, key};
        auto r = session_->run(session_->client().download(obj, sink));
        if (!r) return r.error();
        return r->size;
    }

    engine::result<void> remove(const std::string& key) override
    {
        const engine::object_ref obj{bucket_, key};
        return session_->run(session_->client().delete_object(obj));
    }

    void cancel() override { session_->client().cancel(); }

private:
    std::unique_ptr<engine_session> session_;
    std::string bucket_;
    engine::upload_options upload_options_;
};

engine::error_info fs_error(engine::engine_errc code, const std::string& what, int err)
{
    return engine::error_info(code, what + ": " + std::strerror(err));
}

// Copies source to sink in 1 MiB pieces until the end, a failure, or cancellation; returns the bytes copied.
engine::result<std::uint64_t> pump(engine::byte_source& source, engine::byte_sink& sink, const std::atomic<bool>& cancelled)
{
    std::vector<char> buffer(1 << 20);
    std::uint64_t total = 0;
    for (;;) {
        if (cancelled) return engine::error_info(engine::engine_errc::cancelled, "cancelled");
        auto n = source.read(buffer);
        if (!n) return n.error();
        if (*n == 0) return total;
        if (auto r = sink.write({buffer.data(), *n}); !r) return r.error();
        total += *n;
    }
}

class filesystem_store final : public cache_store {
public:
    explicit filesystem_store(fs::path root) : root_(std::move(root)) {}

    std::string describe(const std::string& key) const override { return (root_ / key).string(); }

    engine::result<std::vector<stored_object>> list(const std::string& prefix) override
    {
        std::vector<stored_object> out;
        std::error_code ec;
        if (!fs::exists(root_, ec)) return out;
        for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::recursive_directory_iterator();
             it.increment(ec)) {
            if (!it->is_regular_file(ec)) continue;
            const std::string key = it->path().lexically_relative(root_).string();
            if (key.rfind(prefix, 0) != 0 || key.find(".cache-step-partial-") != std::string::npos) continue;
            struct stat st{};
            if (::stat(it->path().c_str(), &st) != 0) continue;
            out.push_back({key, static_cast<std::uint64_t>(st.st_size), std::chrono::sys_seconds(std::chrono::seconds(st.st_mtime))});
        }
        if (ec) return engine::error_info(engine::engine_errc::source_failed, "listing " + root_.string() + ": " + ec.message());
        return out;
    }

    engine::result<std::optional<stored_object>> find(const std::string& key) override
    {
        struct stat st{};
        if (::stat((root_ / key).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::optional<stored_object>();
        return std::optional<stored_object>(
            stored_object{key, static_cast<std::uint64_t>(st.st_size), std::chrono::sys_seconds(std::chrono::seconds(st.st_mtime))});
    }

    engine::result<std::uint64_t> put(const std::string& key, engine::byte_source& source) override
    {
        const fs::path target = root_ / key;
        std::error_code ec;
        fs::create_directories(target.parent_path(), ec);
        if (ec) return engine::error_info(engine::engine_errc::sink_failed, "creating " + target.parent_path().string() + ": " + ec.message());
        const fs::path partial = target.string() + ".cache-step-partial-" + std::to_string(::getpid());
        const int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return fs_error(engine::engine_errc::sink_failed, "creating " + partial.string(), errno);
        engine::fd_sink sink(fd, partial.string());
        auto copied = pump(source, sink, cancelled_);
        engine::result<void> r;
        if (!copied) r = copied.error();
        if (r && ::fsync(fd) != 0) r = fs_error(engine::engine_errc::sink_failed, "writing " + partial.string(), errno);
        ::close(fd);
        if (r && ::rename(partial.c_str(), target.c_str()) != 0)
            r = fs_error(engine::engine_errc::sink_failed, "renaming to " + target.string(), errno);
        if (!r) {
            ::unlink(partial.c_str());
            return r.error();
        }
        return *copied;
    }

    engine::result<std::uint64_t> get(const std::string& key, engine::byte_sink& sink) override
    {
        const fs::path path = root_ / key;
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) return engine::error_info(engine::s3_errc::no_such_key, "no such cache file " + path.string());
            return fs_error(engine::engine_errc::source_failed, "opening " + path.string(), errno);
        }
        engine::fd_source source(fd, path.string());
        auto copied = pump(source, sink, cancelled_);
        ::close(fd);
        return copied;
    }

    engine::result<void> remove(const std::string& key) override
    {
        if (::unlink((root_ / key).c_str()) != 0 && errno != ENOENT)
            return fs_error(engine::engine_errc::sink_failed, "removing " + (root_ / key).string(), errno);
        return {};
    }

    void cancel() override { cancelled_ = true; }

private:
    fs::path root_;
    std::atomic<bool> cancelled_{false};
};


}  // namespace

std::unique_ptr<cache_store> make_s3_store(std::unique_ptr<engine_session> session, std::string bucket,
                                           engine::upload_options upload_options)
{
    return std::make_unique<s3_store>(std::move(session), std::move(bucket), std::move(upload_options));
}

std::unique_ptr<cache_store> make_filesystem_store(std::filesystem::path root)
{
    return std::make_unique<filesystem_store>(std::move(root));
}

}  // namespace cachestep::app
