#include "cache_transfer.hpp"

#include "progress_meter.hpp"

#include <chrono>
#include <optional>

namespace cachestep::app {
namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start)
{
    return std::chrono::duration<double>(clock_type::now() - start).count();
}

// The packer as the upload's byte source. An archive failure is kept whole, to be reported instead of the
// engine's "the byte source failed".
class packer_source final : public engine::byte_source {
public:
    explicit packer_source(archive::packer& p) : packer_(p) {}
    engine::result<std::size_t> read(std::span<char> buffer) override
    {
        auto n = packer_.read(buffer);
        if (!n) {
            failure_ = n.error();
            return engine::error_info(engine::engine_errc::source_failed, n.error().to_string());
        }
        return *n;
    }
    const std::optional<archive::failure>& failure() const { return failure_; }

private:
    archive::packer& packer_;
    std::optional<archive::failure> failure_;
};

class unpacker_sink final : public engine::byte_sink {
public:
    explicit unpacker_sink(archive::unpacker& u) : unpacker_(u) {}
    engine::result<void> write(std::span<const char> bytes) override
    {
        auto r = unpacker_.write(bytes);
        if (!r) {
            failure_ = r.error();
            return engine::error_info(engine::engine_errc::sink_failed, r.error().to_string());
        }
        return {};
    }
    const std::optional<archive::failure>& failure() const { return failure_; }

private:
    archive::unpacker& unpacker_;
    std::optional<archive::failure> failure_;
};

engine::error_info archive_error(const archive::failure& f, engine::engine_errc code)
{
    engine::error_info e(code, f.to_string());
    if (f.code == archive::archive_errc::cancelled) e.code = engine::engine_errc::cancelled;
    return e;
}

}  // namespace

void transfer_canceller::attach(cache_store* store, archive::packer* p, archive::unpacker* u)
{
    std::lock_guard lock(mutex_);
    store_ = store;
    packer_ = p;
    unpacker_ = u;
    if (cancelled_) {
        if (store_) store_->cancel();
        if (packer_) packer_->cancel();
        if (unpacker_) unpacker_->cancel();
    }
}

void transfer_canceller::cancel()
{
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (store_) store_->cancel();
    if (packer_) packer_->cancel();
    if (unpacker_) unpacker_->cancel();
}

engine::result<save_outcome> save_archive(cache_store& store, const std::string& key, archive::pack_options options,
                                          const std::string& label, bool show_progress, transfer_canceller& canceller)
{
    const auto start = clock_type::now();
    auto p = archive::packer::start(std::move(options));
    if (!p) return archive_error(p.error(), engine::engine_errc::invalid_argument);
    archive::packer& packer = **p;
    canceller.attach(&store, &packer, nullptr);
    packer_source source(packer);
    std::optional<engine::result<std::uint64_t>> stored;
    {
        progress_meter meter(label, 0, [&] {
            const auto s = packer.stats();
            return progress_meter::reading{s.file_bytes, s.stored_bytes};
        }, show_progress);
        stored = store.put(key, source);
    }
    canceller.detach();
    if (!*stored) {
        if (source.failure()) return archive_error(*source.failure(), engine::engine_errc::source_failed);
        return stored->error();
    }
    return save_outcome{packer.stats(), stored->value(), seconds_since(start)};
}

engine::result<restore_outcome> restore_archive(cache_store& store, const stored_object& object,
                                                archive::unpack_options options, const std::string& label,
                                                bool show_progress, transfer_canceller& canceller)
{
    const auto start = clock_type::now();
    auto u = archive::unpacker::start(std::move(options));
    if (!u) return archive_error(u.error(), engine::engine_errc::invalid_argument);
    archive::unpacker& unpacker = **u;
    canceller.attach(&store, nullptr, &unpacker);
    unpacker_sink sink(unpacker);
    std::optional<engine::result<std::uint64_t>> got;
    std::optional<archive::result<archive::unpack_stats>> finished;
    {
        progress_meter meter(label, object.size, [&] {
            const auto s = unpacker.stats();
            return progress_meter::reading{s.file_bytes, s.stored_bytes};
        }, show_progress);
        got = store.get(object.key, sink);
        if (!*got) unpacker.cancel();  // the download failed: the archive is incomplete
        finished = unpacker.finish();
    }
    canceller.detach();
    if (sink.failure()) return archive_error(*sink.failure(), engine::engine_errc::sink_failed);
    if (!*got) return got->error();
    if (!*finished) return archive_error(finished->error(), engine::engine_errc::sink_failed);
    return restore_outcome{finished->value(), seconds_since(start)};
}

}  // namespace cachestep::app
