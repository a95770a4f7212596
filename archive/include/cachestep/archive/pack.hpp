#pragma once
// Save side: directory trees in, one compressed tar stream out, pulled by the caller (the S3 upload, a file).
//
// A packer runs on its own threads: one walks the sources and writes the tar stream (libarchive, POSIX pax) in
// chunks; compression workers turn each chunk into an independent frame (an lz4 or zstd frame, a gzip member),
// so the output is one standard stream that `lz4 -d`, `zstd -d`, `gzip -d` and then `tar` read, while
// compression uses every core. Memory is bounded: at most `window` chunks exist at once, raw or compressed.
//
// What is stored: regular files, directories (empty ones too), symbolic links (the target verbatim), hard links
// (the data once, later names as link entries), modes (all 12 bits), mtimes, uid/gid. Sockets, devices and fifos
// are skipped with a warning. Order is deterministic: each source in turn, pre-order, children in byte order
// of their names (as the Drone plugin's Go filepath.Walk does), so the same tree gives the same tar bytes.
//
// Names: libarchive converts names through the process's LC_CTYPE. A program should set a UTF-8 one
// (std::setlocale(LC_CTYPE, "C.UTF-8"), as cache-step does); in the "C" locale non-ASCII names are stored
// with a pax hdrcharset=BINARY mark that GNU tar warns about (the bytes are still right).
//
// Errors (decided for CI caches: a cache that silently lacks files is worse than no cache):
//   - a source path that does not exist: warning, skipped; none exists at all: archive_errc::no_source
//   - a file or directory inside a source that cannot be read: archive_errc::unreadable_source, naming it
//   - a file that vanishes between listing and reading: warning, skipped (a build may delete temp files)
//   - a file that shrinks while read: archive_errc::file_changed; one that grows: its first st_size bytes
//     and a warning (the entry's size was already written)

#include <cachestep/archive/codec.hpp>
#include <cachestep/archive/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace cachestep::archive {

struct pack_source {
    std::filesystem::path path;  // on disk
    // The archive name of the source's own entry; what is inside is named `name/<relative path>`, cleaned as
    // Go's filepath.Join cleans ("./node_modules" + "x" gives "node_modules/x"). Relative names (our
    // commands: relative to the workspace) or absolute ones (the plugin's style: "/harness/node_modules").
    std::string name;
};

struct pack_options {
    std::vector<pack_source> sources;
    codec format{codec::lz4};
    int level{0};                // 0: default_level(format); else within levels(format)
    unsigned threads{0};         // compression workers; 0: one per core
    std::size_t chunk_size{0};   // bytes of tar per frame; 0: 1 MiB (zstd: 2 MiB, where a longer window pays)
    bool skip_symlinks{false};   // the plugin's PLUGIN_SKIP_SYMLINKS: leave symbolic links out
    // Warnings (skipped entries, missing sources), one sentence each, called on the packing thread.
    std::function<void(const std::string&)> warn;
};

struct pack_stats {
    std::uint64_t files{0}, directories{0}, symlinks{0}, hardlinks{0}, skipped{0};
    std::uint64_t file_bytes{0};    // file contents
    std::uint64_t tar_bytes{0};     // the uncompressed tar stream
    std::uint64_t stored_bytes{0};  // the compressed stream handed to read()
};

class packer {
public:
    // Checks the options and starts the threads. Errors: invalid_argument (a level out of range, no source
    // given). A missing source is found while walking, and reported through read().
    static result<std::unique_ptr<packer>> start(pack_options options);

    // Fills up to buffer.size() bytes of the compressed stream, blocking until they exist; returns 0 at the
    // end. One caller at a time. After a failure every call returns the same failure.
    result<std::size_t> read(std::span<char> buffer);

    // From any thread: stops the threads; read() then fails with archive_errc::cancelled.
    void cancel();

    // Counters so far; final once read() returned 0. Thread-safe.
    pack_stats stats() const;

    ~packer();  // cancels if unfinished and joins the threads
    packer(const packer&) = delete;
    packer& operator=(const packer&) = delete;

    struct impl;

private:
    explicit packer(std::unique_ptr<impl> impl);
    std::unique_ptr<impl> impl_;
};

// Packs into a file descriptor (a file, a pipe, stdout) until the end; does not close it.
result<pack_stats> pack_to_fd(pack_options options, int fd);

}  // namespace cachestep::archive
