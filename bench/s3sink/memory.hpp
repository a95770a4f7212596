#pragma once
// Object storage in memory: 1 MiB chunks carved from 32 MiB slabs (2 MiB aligned, madvise'd for transparent huge
// pages), kept in a free list when objects go away, so repeated benchmark runs write into memory that is already
// mapped (no page faults, no zeroing) and the sink's CPU stays the copy the kernel makes on recv/send.
// Bodies below one chunk get a malloc'd buffer of their exact size. Everything counts against --memory-limit.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace s3sink {

inline constexpr std::size_t chunk_bytes = std::size_t{1} << 20;
inline constexpr std::size_t slab_bytes = std::size_t{32} << 20;

class memory {
public:
    explicit memory(std::uint64_t limit) : limit_(limit) {}
    ~memory();  // frees the slabs: every segment must be gone by then
    memory(const memory&) = delete;
    memory& operator=(const memory&) = delete;

    // Maps and touches slabs for this many bytes now (into the free list), so the first upload of a benchmark
    // does not pay the page faults. Returns the bytes preallocated (less when the limit is lower).
    std::uint64_t preallocate(std::uint64_t bytes);
    char* take_chunk();  // nullptr when the limit is reached
    void give_chunk(char* p);
    char* take_small(std::size_t n);  // nullptr when the limit is reached
    void give_small(char* p, std::size_t n);

    std::uint64_t limit() const { return limit_; }
    std::uint64_t reserved() const { return reserved_.load(); }  // slabs + small buffers
    std::uint64_t in_objects() const { return in_objects_.load(); }

private:
    std::uint64_t limit_;
    std::atomic<std::uint64_t> reserved_{0};
    std::atomic<std::uint64_t> in_objects_{0};
    std::mutex mutex_;  // guards free_
    std::vector<char*> free_;
    std::vector<void*> slabs_;
    bool add_slab();  // with mutex_ held
};

// One buffer of an object: a pooled chunk or an exact-size small buffer.
struct segment {
    memory* mem{};
    char* data{};
    std::size_t capacity{};
    std::size_t size{};
    bool chunk{};
    segment() = default;
    segment(const segment&) = delete;
    segment& operator=(const segment&) = delete;
    ~segment();
};
using segment_ptr = std::shared_ptr<segment>;

// An object's bytes: segments in order. Shared between the object, its parts and GETs in flight.
struct blob {
    std::vector<segment_ptr> segments;
    std::vector<std::uint64_t> starts;  // offset of each segment
    std::uint64_t size{0};

    void append(segment_ptr s);
    void append(const blob& other);
    // Calls f(const char*, size_t) for the bytes [offset, offset + length).
    template <class F>
    void for_each(std::uint64_t offset, std::uint64_t length, F&& f) const;
};

// Writes a body into a blob. With a known length below one chunk: one exact buffer; else chunks.
class blob_writer {
public:
    blob_writer(memory& mem, std::uint64_t expected, bool known);
    std::span<char> space();  // empty: out of memory
    void commit(std::size_t n);
    blob finish();

private:
    memory& mem_;
    std::uint64_t expected_;
    bool known_;
    blob out_;
    segment_ptr current_;
};

template <class F>
void blob::for_each(std::uint64_t offset, std::uint64_t length, F&& f) const
{
    if (length == 0) return;
    // First segment holding offset.
    std::size_t i = 0;
    std::size_t lo = 0, hi = segments.size();
    while (lo < hi) {
        std::size_t mid = (lo + hi) / 2;
        if (starts[mid] + segments[mid]->size <= offset) lo = mid + 1; else hi = mid;
    }
    i = lo;
    for (; i < segments.size() && length > 0; ++i) {
        const auto& s = *segments[i];
        std::uint64_t in = offset - starts[i];
        std::uint64_t n = std::min<std::uint64_t>(s.size - in, length);
        f(s.data + in, static_cast<std::size_t>(n));
        offset += n;
        length -= n;
    }
}

}  // namespace s3sink
