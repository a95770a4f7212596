#pragma once
// One archive between the file system and a cache store: save = packer -> store.put (no temporary file: the
// upload pulls the packer's stream); restore = store.get -> unpacker. Failures of either side come back as one
// error_info whose message says what failed (an archive error names the path or entry).

#include "cache_store.hpp"

#include <cachestep/archive/pack.hpp>
#include <cachestep/archive/unpack.hpp>

#include <memory>
#include <mutex>

namespace cachestep::app {

struct save_outcome {
    archive::pack_stats stats;
    std::uint64_t stored_bytes{0};
    double seconds{0};
};

struct restore_outcome {
    archive::unpack_stats stats;
    double seconds{0};
};

// Lets a signal handler cancel whatever transfer is running (the store and the archive side).
class transfer_canceller {
public:
    void cancel();
    void attach(cache_store* store, archive::packer* p, archive::unpacker* u);
    void detach() { attach(nullptr, nullptr, nullptr); }

private:
    std::mutex mutex_;
    bool cancelled_{false};
    cache_store* store_{nullptr};
    archive::packer* packer_{nullptr};
    archive::unpacker* unpacker_{nullptr};
};

engine::result<save_outcome> save_archive(cache_store& store, const std::string& key, archive::pack_options options,
                                          const std::string& label, bool show_progress, transfer_canceller& canceller);

engine::result<restore_outcome> restore_archive(cache_store& store, const stored_object& object,
                                                archive::unpack_options options, const std::string& label,
                                                bool show_progress, transfer_canceller& canceller);

}  // namespace cachestep::app
