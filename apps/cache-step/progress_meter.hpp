#pragma once
// Progress of a save or restore for people: on a terminal, one line rewritten twice a second (bytes, rate, ETA
// when the size is known); in CI logs (no terminal), a line every few seconds. The counters are read from the
// archive side, so they move whatever the store is.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace cachestep::app {

class progress_meter {
public:
    struct reading {
        std::uint64_t raw_bytes{0};     // file contents packed or unpacked so far
        std::uint64_t stored_bytes{0};  // archive bytes moved so far
    };
    // `label` e.g. "saving node_modules"; `total_stored` 0 if unknown; `sample` is called from the meter's thread.
    progress_meter(std::string label, std::uint64_t total_stored, std::function<reading()> sample, bool enabled);
    ~progress_meter();  // stops; on a terminal, clears the line
    progress_meter(const progress_meter&) = delete;
    progress_meter& operator=(const progress_meter&) = delete;

private:
    void run();
    std::string line(double seconds) const;

    const std::string label_;
    const std::uint64_t total_;
    const std::function<reading()> sample_;
    const bool terminal_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_{false};
    std::thread thread_;
};

}  // namespace cachestep::app
