#pragma once
// Restore side: a compressed tar stream pushed in (by the S3 download, a file), directory trees out.
//
// The codec is detected from the first bytes (lz4, zstd, gzip, or plain tar), so a wrong format setting is not
// fatal. Decompression runs in the caller's write() calls; a parser thread reads the tar stream (libarchive);
// small files are created and written by worker threads, so many small files restore in parallel.
//
// Safety: every entry lands inside the destination (the jail: `mount` when given, else `destination`).
// Refused, stopping the restore with an error naming the entry: `..` components, names outside the jail,
// writing through a symbolic link (one already on disk or one this archive created), hard links to anything
// outside, device nodes, fifos and sockets. setuid/setgid bits are dropped. A symbolic link entry itself is
// created verbatim, whatever its target: it is harmless unless written through, which is refused.
// Existing files are replaced (unlinked, then created), never patched; an existing non-directory where the
// archive has a directory is replaced by the directory. Modes and mtimes are restored (directories' last);
// ownership is not (files belong to whoever restores). A failed restore removes the file it was writing.
//
// Names: relative names land under `destination`. Absolute names (the Drone plugin's archives, or ours in its
// style) are remapped: the archive's first entry is its root, the mount directory recorded when it was saved;
// names under it land under `mount` (or `destination`), so a cache saved in /harness restores in any checkout.

#include <cachestep/archive/codec.hpp>
#include <cachestep/archive/error.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace cachestep::archive {

struct unpack_options {
    std::filesystem::path destination;            // relative names land here; created if missing
    std::optional<std::filesystem::path> mount;   // absolute names' root lands here; also the jail when set
    // Without a mount, an archive of absolute names (its first entry absolute) is restored where it was saved:
    // its recorded root becomes the jail (the Drone plugin restores absolute names in place). Off: the root
    // is remapped onto the destination.
    bool restore_in_place{false};
    unsigned threads{0};                          // file-writing workers; 0: one per core, at least 2
    std::function<void(const std::string&)> warn; // called on the parser thread
};

struct unpack_stats {
    codec format{codec::none};  // as detected
    std::uint64_t files{0}, directories{0}, symlinks{0}, hardlinks{0};
    std::uint64_t file_bytes{0};    // file contents written
    std::uint64_t tar_bytes{0};     // the uncompressed tar stream
    std::uint64_t stored_bytes{0};  // the compressed bytes given to write()
};

class unpacker {
public:
    // Starts the parser thread. The jail directory is created when the first entry arrives.
    static result<std::unique_ptr<unpacker>> start(unpack_options options);

    // The next bytes of the compressed stream, in order; blocks while the restore is behind (back-pressure).
    // Returns the restore's failure as soon as it is known, so the caller can stop downloading.
    result<void> write(std::span<const char> bytes);

    // The end of the stream: waits until every file is written and directories have their modes and mtimes.
    // The restore's outcome; a stream that ends inside an entry or a frame is archive_errc::truncated_archive.
    result<unpack_stats> finish();

    void cancel();              // from any thread; finish()/write() then fail with archive_errc::cancelled
    unpack_stats stats() const; // counters so far; thread-safe

    ~unpacker();  // cancels if unfinished and joins the threads
    unpacker(const unpacker&) = delete;
    unpacker& operator=(const unpacker&) = delete;

    struct impl;

private:
    explicit unpacker(std::unique_ptr<impl> impl);
    std::unique_ptr<impl> impl_;
};

// Reads a file descriptor (a file, a pipe, stdin) to its end and restores it; does not close it.
result<unpack_stats> unpack_from_fd(unpack_options options, int fd);

}  // namespace cachestep::archive
