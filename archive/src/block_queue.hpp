#pragma once
// A bounded queue of byte blocks between two threads (the decoder and the tar parser), with the blocks recycled
// so steady state allocates nothing. close() ends the stream; cancel() wakes and stops both sides.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

namespace cachestep::archive::detail {

class block_queue {
public:
    explicit block_queue(std::size_t max_blocks) : max_blocks_(max_blocks) {}

    std::vector<char> empty_block()
    {
        std::lock_guard lock(mutex_);
        if (spare_.empty()) return {};
        auto b = std::move(spare_.back());
        spare_.pop_back();
        b.clear();
        return b;
    }
    void recycle(std::vector<char> b)
    {
        std::lock_guard lock(mutex_);
        if (spare_.size() < max_blocks_) spare_.push_back(std::move(b));
    }
    // Blocks while full; false once cancelled.
    bool push(std::vector<char> b)
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return cancelled_ || blocks_.size() < max_blocks_; });
        if (cancelled_) return false;
        blocks_.push_back(std::move(b));
        changed_.notify_all();
        return true;
    }
    // The next block; nullopt at the end (closed and drained) or once cancelled.
    std::optional<std::vector<char>> pop()
    {
        std::unique_lock lock(mutex_);
        changed_.wait(lock, [&] { return cancelled_ || closed_ || !blocks_.empty(); });
        if (cancelled_ || blocks_.empty()) return std::nullopt;
        auto b = std::move(blocks_.front());
        blocks_.pop_front();
        changed_.notify_all();
        return b;
    }
    void close()
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        changed_.notify_all();
    }
    void cancel()
    {
        std::lock_guard lock(mutex_);
        cancelled_ = true;
        changed_.notify_all();
    }
    bool cancelled()
    {
        std::lock_guard lock(mutex_);
        return cancelled_;
    }

private:
    const std::size_t max_blocks_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<std::vector<char>> blocks_;
    std::vector<std::vector<char>> spare_;
    bool closed_{false}, cancelled_{false};
};

}  // namespace cachestep::archive::detail
