#pragma once
// The restore's parser thread: reads the tar stream (libarchive, tar formats only) from the decoded blocks,
// decides where each entry lands (entry_path_mapper), refuses what is unsafe, and creates entries through the
// safe_tree: directories, symlinks and hard links itself, small files through the file_write_pool, big files
// streamed by itself. Directories get their modes and mtimes last, deepest first.

#include "block_queue.hpp"
#include "entry_path.hpp"
#include "file_write_pool.hpp"
#include "safe_tree.hpp"

#include <atomic>
#include <functional>
#include <unordered_set>

struct archive;
struct archive_entry;

namespace cachestep::archive::detail {

struct extract_counters {
    std::atomic<std::uint64_t> files{0}, directories{0}, symlinks{0}, hardlinks{0}, file_bytes{0};
};

// Where entries go is settled when the first entry is read (an archive of absolute names may be restored where
// it was saved, so its first name can choose the jail): the resolver opens the tree and the mapper then.
struct extraction_root {
    safe_tree* tree;
    entry_path_mapper* mapper;
};
using root_resolver = std::function<result<extraction_root>(std::string_view first_name)>;

class tar_extractor {
public:
    tar_extractor(block_queue& input, root_resolver resolve_root, unsigned threads, mode_t umask_bits,
                  std::function<void(const std::string&)> warn, extract_counters& counters);
    ~tar_extractor();
    tar_extractor(const tar_extractor&) = delete;
    tar_extractor& operator=(const tar_extractor&) = delete;

    // Until the end of the tar stream, or the first failure (after which the pool is stopped).
    result<void> run();

    // Files up to this size are read whole and written by the pool; bigger ones are streamed here.
    static constexpr std::int64_t small_file_limit = 1 << 20;

private:
    struct pending_directory {
        std::string relative, entry;
        mode_t mode;
        timespec mtime;
    };

    result<void> read_entries();
    result<void> extract(struct archive_entry* e, std::string_view name);
    result<void> extract_file(struct archive_entry* e, const std::string& relative, std::string_view name);
    result<void> stream_file(const dir_ref& dir, const std::string& leaf, std::string_view name, mode_t mode,
                             const timespec& mtime, std::int64_t size);
    result<void> check_no_archive_symlink(const std::string& relative, std::string_view name) const;
    result<void> finish_directories();
    result<void> check_end_of_archive();
    failure library_failure(bool at_header);
    static long read_callback(struct archive*, void* self, const void** buffer);

    block_queue& input_;
    root_resolver resolve_root_;
    safe_tree* tree_{nullptr};
    entry_path_mapper* mapper_{nullptr};
    file_write_pool pool_;
    const mode_t umask_bits_;
    std::function<void(const std::string&)> warn_;
    extract_counters& counters_;

    struct archive* archive_;
    std::vector<char> current_block_;  // what libarchive is reading; recycled on the next callback
    std::uint64_t stream_bytes_{0};    // decoded tar bytes handed to libarchive
    std::vector<char> tail_;           // the last bytes of the stream (end-of-archive check)
    std::uint64_t entries_{0};
    std::unordered_set<std::string> archive_symlinks_;  // symlinks this archive made (relative to the jail)
    std::unordered_set<std::size_t> seen_;              // hashes of the paths written so far: a repeat waits
    std::vector<pending_directory> directories_;
};

}  // namespace cachestep::archive::detail
