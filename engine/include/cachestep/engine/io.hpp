#pragma once
// Where uploads read from and downloads write to. Both are called from a worker thread owned by the transfer,
// one call at a time and in stream order, so an implementation may block (a pipe, a compressor, a disk).

#include <cachestep/engine/error.hpp>

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace cachestep::engine {

class byte_source {
public:
    virtual ~byte_source() = default;
    // Fills up to buffer.size() bytes and returns how many; 0 only at the end of the stream. A failure is
    // returned as an error (the upload then aborts; nothing is left on the server).
    virtual result<std::size_t> read(std::span<char> buffer) = 0;
};

class byte_sink {
public:
    virtual ~byte_sink() = default;
    // Takes the next bytes of the object, in order. A failure stops the download.
    virtual result<void> write(std::span<const char> bytes) = 0;
    // A hint, before the first write: how many bytes will come in all. A file may reserve its space.
    virtual void expect_size(std::uint64_t /*bytes*/) {}
};

// A file descriptor as a source or sink (a file, a pipe, stdin/stdout). Does not own the descriptor.
class fd_source final : public byte_source {
public:
    explicit fd_source(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    result<std::size_t> read(std::span<char> buffer) override;

private:
    int fd_;
    std::string name_;  // for error messages
};

class fd_sink final : public byte_sink {
public:
    explicit fd_sink(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
    result<void> write(std::span<const char> bytes) override;
    void expect_size(std::uint64_t bytes) override;  // regular files: fallocate (cheaper page-cache writes)

private:
    int fd_;
    std::string name_;
};

// In-memory source and sink, for tests and small objects.
class memory_source final : public byte_source {
public:
    explicit memory_source(std::span<const char> data) : data_(data) {}
    result<std::size_t> read(std::span<char> buffer) override;

private:
    std::span<const char> data_;
};

class memory_sink final : public byte_sink {
public:
    result<void> write(std::span<const char> bytes) override;
    const std::vector<char>& data() const { return data_; }

private:
    std::vector<char> data_;
};

}  // namespace cachestep::engine
