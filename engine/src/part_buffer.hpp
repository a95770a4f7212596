#pragma once
// A reusable, uninitialised byte buffer for one part (no zero-filling of 8 MiB per part), and the free list a
// transfer keeps them in so steady-state transfers allocate nothing.

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace cachestep::engine::detail {

struct part_buffer {
    std::unique_ptr<char[]> data;
    std::size_t capacity{0};

    // Grows (dropping the contents) when a larger part is needed.
    void reserve(std::size_t n)
    {
        if (n <= capacity) return;
        data.reset(new char[n]);
        capacity = n;
    }
    std::span<char> first(std::size_t n) { return {data.get(), n}; }
};

class buffer_pool {
public:
    part_buffer take(std::size_t size)
    {
        part_buffer b;
        if (!free_.empty()) {
            b = std::move(free_.back());
            free_.pop_back();
        }
        b.reserve(size);
        return b;
    }
    void give_back(part_buffer b) { free_.push_back(std::move(b)); }

private:
    std::vector<part_buffer> free_;
};

}  // namespace cachestep::engine::detail
