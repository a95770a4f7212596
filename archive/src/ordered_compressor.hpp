#pragma once
// A pool of compression workers that keeps the stream's order: chunks go in with submit(), frames come out of
// take() in the order the chunks went in. At most `window` chunks exist at once (queued, being compressed, or
// compressed and not yet taken), so memory is bounded by window x (chunk + frame) however fast the producer.
// Buffers are recycled: a producer asks for an empty chunk with next_buffer(), a consumer hands a frame back
// with recycle(), so steady state allocates nothing.

#include "frame_compressor.hpp"

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace cachestep::archive::detail {

class ordered_compressor {
public:
    ordered_compressor(codec c, int level, unsigned threads, std::size_t window);
    ~ordered_compressor();  // cancels and joins
    ordered_compressor(const ordered_compressor&) = delete;
    ordered_compressor& operator=(const ordered_compressor&) = delete;

    // An empty buffer for the next chunk (recycled when possible).
    std::vector<char> next_buffer();
    // Queues a chunk; blocks while the window is full. False once cancelled.
    bool submit(std::vector<char> chunk);
    // No more chunks: take() returns nullopt after the last frame.
    void close();
    // The next frame in order; blocks until it is compressed. nullopt at the end (after close()) or once
    // cancelled; a compression failure is returned once and then the pool is cancelled.
    std::optional<result<std::vector<char>>> take();
    void recycle(std::vector<char> buffer);
    void cancel();

private:
    struct slot {
        std::vector<char> data;  // the chunk, then the frame
        bool started{false}, done{false};
        failure error;
        bool failed{false};
    };
    void work();

    const codec codec_;
    const int level_;
    const std::size_t window_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<slot> slots_;          // in stream order; front is the next to take
    std::vector<std::vector<char>> spare_;
    bool closed_{false}, cancelled_{false};
    std::vector<std::thread> workers_;
};

}  // namespace cachestep::archive::detail
