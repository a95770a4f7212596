#pragma once
// Worker threads that create and write small files, so a restore of many small files is not one thread of
// syscalls (create, write, chmod, set times, close: five per file). The parser reads each small file's bytes
// out of the tar stream and queues the file here; the queue is bounded in files and in bytes.

#include "safe_tree.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace cachestep::archive::detail {

struct file_job {
    dir_ref dir;
    std::string leaf;
    std::string entry;  // the archive name, for messages
    mode_t mode{0644};
    timespec mtime{};
    std::vector<char> data;
};

// Writes one file's bytes and metadata to an open descriptor; shared with the parser's path for big files.
// `fix_mode`: the umask took bits the archive wants, so chmod.
result<void> finish_file(int fd, mode_t mode, bool fix_mode, const timespec& mtime, std::string_view entry);

class file_write_pool {
public:
    file_write_pool(unsigned threads, mode_t umask_bits);
    ~file_write_pool();  // stops and joins; queued files not yet written are dropped
    file_write_pool(const file_write_pool&) = delete;
    file_write_pool& operator=(const file_write_pool&) = delete;

    // Queues a file; blocks while the queue is full. False once a job failed or stop() was called.
    bool submit(file_job job);
    // Blocks until every queued file is written. The first failure, if any.
    std::optional<failure> wait_idle();
    std::optional<failure> first_failure();
    void stop();

    std::uint64_t bytes_written() const { return bytes_written_; }

private:
    void work();
    void fail(failure f);

    static constexpr std::size_t max_queued_files = 4096;
    static constexpr std::size_t max_queued_bytes = 16u << 20;

    const mode_t umask_bits_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<file_job> queue_;
    std::size_t queued_bytes_{0};
    unsigned busy_{0};
    bool stopping_{false};
    std::optional<failure> failure_;
    std::atomic<std::uint64_t> bytes_written_{0};
    std::vector<std::thread> workers_;
};

}  // namespace cachestep::archive::detail
