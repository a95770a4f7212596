#pragma once
// SIGINT and SIGTERM for the cache commands, whose work spans the engine, the archive threads and the file
// system: the signals are blocked in every thread (block_interrupts() runs before any thread starts, and
// threads inherit the mask) and one watcher thread takes them with sigwait and calls the handler, which
// cancels whatever is running. The command then unwinds normally: an upload aborts its multipart upload,
// a restore removes its partial file, and the exit status says which signal stopped it.

#include <atomic>
#include <functional>
#include <thread>

namespace cachestep::app {

// Blocks SIGINT and SIGTERM in the calling thread (and so in every thread it starts later).
void block_interrupts();

class interrupt_watch {
public:
    explicit interrupt_watch(std::function<void(int)> on_signal);
    ~interrupt_watch();  // stops the watcher
    interrupt_watch(const interrupt_watch&) = delete;
    interrupt_watch& operator=(const interrupt_watch&) = delete;

    int signal_received() const { return signal_.load(); }  // 0 if none

private:
    std::function<void(int)> on_signal_;
    std::atomic<int> signal_{0};
    std::atomic<bool> stopping_{false};
    std::thread watcher_;
};

}  // namespace cachestep::app
