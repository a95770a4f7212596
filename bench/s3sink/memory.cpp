#include "memory.hpp"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

namespace s3sink {

memory::~memory()
{
    for (void* s : slabs_) std::free(s);
}

bool memory::add_slab()
{
    if (reserved_.load() + slab_bytes > limit_) return false;
    void* slab = std::aligned_alloc(2u << 20, slab_bytes);
    if (!slab) return false;
#ifdef MADV_HUGEPAGE
    ::madvise(slab, slab_bytes, MADV_HUGEPAGE);
#endif
    reserved_ += slab_bytes;
    slabs_.push_back(slab);
    char* base = static_cast<char*>(slab);
    for (std::size_t off = slab_bytes; off > 0; off -= chunk_bytes) free_.push_back(base + off - chunk_bytes);
    return true;
}

std::uint64_t memory::preallocate(std::uint64_t bytes)
{
    std::lock_guard lock(mutex_);
    std::uint64_t done = 0;
    while (done < bytes && add_slab()) {
        char* base = free_.back();  // the new slab's start (its chunks are pushed last to first)
        std::memset(base, 0, slab_bytes);
        done += slab_bytes;
    }
    return done;
}

char* memory::take_chunk()
{
    std::lock_guard lock(mutex_);
    if (free_.empty() && !add_slab()) return nullptr;
    char* p = free_.back();
    free_.pop_back();
    in_objects_ += chunk_bytes;
    return p;
}

void memory::give_chunk(char* p)
{
    std::lock_guard lock(mutex_);
    free_.push_back(p);
    in_objects_ -= chunk_bytes;
}

char* memory::take_small(std::size_t n)
{
    std::uint64_t now = reserved_.fetch_add(n);
    if (now + n > limit_) {
        reserved_ -= n;
        return nullptr;
    }
    char* p = static_cast<char*>(std::malloc(n == 0 ? 1 : n));
    if (!p) {
        reserved_ -= n;
        return nullptr;
    }
    in_objects_ += n;
    return p;
}

void memory::give_small(char* p, std::size_t n)
{
    std::free(p);
    reserved_ -= n;
    in_objects_ -= n;
}

segment::~segment()
{
    if (!data) return;
    if (chunk) mem->give_chunk(data); else mem->give_small(data, capacity);
}

void blob::append(segment_ptr s)
{
    if (!s || s->size == 0) return;
    starts.push_back(size);
    size += s->size;
    segments.push_back(std::move(s));
}

void blob::append(const blob& other)
{
    for (const auto& s : other.segments) append(s);
}

blob_writer::blob_writer(memory& mem, std::uint64_t expected, bool known) : mem_(mem), expected_(expected), known_(known) {}

std::span<char> blob_writer::space()
{
    if (current_ && current_->size < current_->capacity)
        return {current_->data + current_->size, current_->capacity - current_->size};
    if (current_) out_.append(std::move(current_));
    current_.reset();
    auto s = std::make_shared<segment>();
    s->mem = &mem_;
    const std::uint64_t left = expected_ > out_.size ? expected_ - out_.size : 0;
    if (known_ && left > 0 && left < chunk_bytes && out_.size == 0) {
        s->data = mem_.take_small(static_cast<std::size_t>(left));
        s->capacity = static_cast<std::size_t>(left);
    } else {
        s->data = mem_.take_chunk();
        s->capacity = chunk_bytes;
        s->chunk = true;
    }
    if (!s->data) return {};
    current_ = std::move(s);
    return {current_->data, current_->capacity};
}

void blob_writer::commit(std::size_t n)
{
    current_->size += n;
}

blob blob_writer::finish()
{
    if (current_) out_.append(std::move(current_));
    current_.reset();
    return std::move(out_);
}

}  // namespace s3sink
