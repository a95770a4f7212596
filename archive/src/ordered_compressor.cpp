#include "ordered_compressor.hpp"

namespace cachestep::archive::detail {

ordered_compressor::ordered_compressor(codec c, int level, unsigned threads, std::size_t window)
    : codec_(c), level_(level), window_(window < threads + 1 ? threads + 1 : window)
{
    for (unsigned i = 0; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

ordered_compressor::~ordered_compressor()
{
    cancel();
    for (auto& t : workers_) t.join();
}

std::vector<char> ordered_compressor::next_buffer()
{
    std::lock_guard lock(mutex_);
    if (spare_.empty()) return {};
    auto b = std::move(spare_.back());
    spare_.pop_back();
    b.clear();
    return b;
}

bool ordered_compressor::submit(std::vector<char> chunk)
{
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || slots_.size() < window_; });
    if (cancelled_) return false;
    slot s;
    s.data = std::move(chunk);
    slots_.push_back(std::move(s));
    changed_.notify_all();
    return true;
}

void ordered_compressor::close()
{
    std::lock_guard lock(mutex_);
    closed_ = true;
    changed_.notify_all();
}

void ordered_compressor::cancel()
{
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    changed_.notify_all();
}

std::optional<result<std::vector<char>>> ordered_compressor::take()
{
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return cancelled_ || (!slots_.empty() && slots_.front().done) ||
                                     (closed_ && slots_.empty()); });
    if (cancelled_ || slots_.empty()) return std::nullopt;
    slot s = std::move(slots_.front());
    slots_.pop_front();
    changed_.notify_all();  // a window place is free
    if (s.failed) {
        cancelled_ = true;
        return result<std::vector<char>>(std::move(s.error));
    }
    return result<std::vector<char>>(std::move(s.data));
}

void ordered_compressor::recycle(std::vector<char> buffer)
{
    std::lock_guard lock(mutex_);
    if (spare_.size() < window_ * 2) spare_.push_back(std::move(buffer));
}

void ordered_compressor::work()
{
    auto compressor = make_frame_compressor(codec_, level_);
    std::vector<char> frame;
    std::unique_lock lock(mutex_);
    for (;;) {
        slot* mine = nullptr;
        changed_.wait(lock, [&] {
            if (cancelled_) return true;
            for (auto& s : slots_)
                if (!s.started) {
                    mine = &s;  // deque references stay valid while we only push_back/pop_front others
                    return true;
                }
            return closed_;
        });
        if (cancelled_ || !mine) return;
        mine->started = true;
        std::vector<char> chunk = std::move(mine->data);
        lock.unlock();
        auto r = compressor->compress(chunk, frame);
        lock.lock();
        // The slot is still queued: take() pops only done slots, and only cancel() lets go of the rest.
        if (cancelled_) return;
        if (r) {
            mine->data = std::move(frame);
            frame = std::move(chunk);  // the spent chunk's capacity serves the next frame
        } else {
            mine->error = r.error();
            mine->failed = true;
        }
        mine->done = true;
        changed_.notify_all();
    }
}

}  // namespace cachestep::archive::detail
