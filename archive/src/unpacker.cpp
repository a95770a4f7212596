// The unpacker: write() detects the codec and decodes into blocks (on the caller's thread); the extractor
// thread parses them and creates the tree. finish() checks the stream ended cleanly and waits for the tree.
#include <cachestep/archive/unpack.hpp>

#include "block_queue.hpp"
#include "entry_path.hpp"
#include "stream_decoder.hpp"
#include "tar_extractor.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>

namespace cachestep::archive {

using namespace detail;

namespace {

constexpr std::size_t block_size = 1 << 20;   // decoded bytes per block handed to the parser
constexpr std::size_t queued_blocks = 8;       // decoded blocks waiting for the parser

// The process umask, read without changing it (umask(2) would, for a moment, for every thread).
mode_t current_umask()
{
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("Umask:", 0) == 0) return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
    }
    return 07777;  // unknown: always chmod
}

std::string absolute_normal(const std::filesystem::path& p)
{
    std::error_code ec;
    auto a = std::filesystem::absolute(p, ec).lexically_normal().string();
    while (a.size() > 1 && a.back() == '/') a.pop_back();
    return a;
}

}  // namespace

struct unpacker::impl {
    unpack_options options;
    std::unique_ptr<safe_tree> tree;
    std::unique_ptr<entry_path_mapper> mapper;
    block_queue blocks{queued_blocks};
    extract_counters counters;
    std::unique_ptr<tar_extractor> extractor;
    std::thread parser;

    std::mutex failure_mutex;
    std::optional<failure> first_failure;

    // write() side
    std::vector<char> head;  // the first bytes, until the codec is known
    std::optional<codec> format;
    std::unique_ptr<stream_decoder> decoder;
    std::vector<char> block;
    std::atomic<std::uint64_t> stored_bytes{0}, tar_bytes{0};
    std::atomic<bool> parse_complete{false};  // the tar stream ended; bytes after it are ignored
    bool finished{false};

    void fail(failure f)
    {
        {
            std::lock_guard lock(failure_mutex);
            if (!first_failure) first_failure = std::move(f);
        }
        blocks.cancel();
    }
    std::optional<failure> failed()
    {
        std::lock_guard lock(failure_mutex);
        return first_failure;
    }

    result<void> push_block()
    {
        tar_bytes += block.size();
        if (!blocks.push(std::move(block))) {
            if (auto f = failed()) return *f;
            if (parse_complete) {  // padding after the end-of-archive blocks (tar pads to its record size)
                block.clear();
                return {};
            }
            return failure{make_error_code(archive_errc::cancelled), {}};
        }
        block = blocks.empty_block();
        return {};
    }

    result<void> decode(std::span<const char> in)
    {
        for (;;) {
            if (block.capacity() < block_size) block.reserve(block_size);
            const std::size_t used = block.size();
            block.resize(block_size);
            auto p = decoder->decode(in, std::span<char>(block).subspan(used));
            if (!p) {
                block.resize(used);
                return p.error();
            }
            block.resize(used + p->produced);
            in = in.subspan(p->consumed);
            if (block.size() == block_size) {
                if (auto r = push_block(); !r) return r;
            }
            if (p->consumed == 0 && p->produced == 0) return {};
        }
    }

    result<void> start_decoding()
    {
        format = detect_codec(std::as_bytes(std::span<const char>(head)));
        if (!format) format = codec::none;  // under 4 bytes: let the tar reader say it is not an archive
        decoder = make_stream_decoder(*format);
        auto r = decode(head);
        head.clear();
        head.shrink_to_fit();
        return r;
    }
};

unpacker::unpacker(std::unique_ptr<impl> i) : impl_(std::move(i)) {}

result<std::unique_ptr<unpacker>> unpacker::start(unpack_options options)
{
    if (options.destination.empty()) options.destination = ".";
    auto state = std::make_unique<impl>();
    state->options = std::move(options);
    auto* raw = state.get();
    const unsigned threads = raw->options.threads ? raw->options.threads
                                                  : std::clamp(std::thread::hardware_concurrency(), 2u, 8u);
    // The jail: the mount when given; else, with restore_in_place and an archive of absolute names, the root it
    // recorded; else the destination.
    auto resolve_root = [raw](std::string_view first_name) -> result<extraction_root> {
        const std::string destination = absolute_normal(raw->options.destination);
        std::string mount = destination;
        if (raw->options.mount) mount = absolute_normal(*raw->options.mount);
        else if (raw->options.restore_in_place && !first_name.empty() && first_name.front() == '/')
            mount = absolute_normal(std::filesystem::path(std::string(first_name)));
        auto tree = safe_tree::open(mount);
        if (!tree) return tree.error();
        raw->tree = std::move(*tree);
        raw->mapper = std::make_unique<entry_path_mapper>(destination, mount, mount);
        return extraction_root{raw->tree.get(), raw->mapper.get()};
    };
    raw->extractor = std::make_unique<tar_extractor>(raw->blocks, resolve_root, threads, current_umask(),
                                                     raw->options.warn, raw->counters);
    raw->parser = std::thread([raw] {
        if (auto r = raw->extractor->run(); !r) raw->fail(r.error());
        else {
            raw->parse_complete = true;
            raw->blocks.cancel();  // a writer still pushing (bytes after the tar's end) must not block
        }
    });
    return std::unique_ptr<unpacker>(new unpacker(std::move(state)));
}

unpacker::~unpacker()
{
    if (!impl_->finished) cancel();
    if (impl_->parser.joinable()) impl_->parser.join();
}

void unpacker::cancel()
{
    impl_->fail(failure{make_error_code(archive_errc::cancelled), {}});
}

result<void> unpacker::write(std::span<const char> bytes)
{
    auto& s = *impl_;
    if (auto f = s.failed()) return *f;
    s.stored_bytes += bytes.size();
    if (!s.decoder) {
        const std::size_t need = 4 - std::min<std::size_t>(4, s.head.size());
        const std::size_t take = std::min(need, bytes.size());
        s.head.insert(s.head.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
        bytes = bytes.subspan(take);
        if (s.head.size() < 4) return {};
        if (auto r = s.start_decoding(); !r) {
            s.fail(r.error());
            return r;
        }
    }
    if (auto r = s.decode(bytes); !r) {
        s.fail(r.error());
        return r;
    }
    return {};
}

result<unpack_stats> unpacker::finish()
{
    auto& s = *impl_;
    s.finished = true;
    auto end_of_input = [&]() -> result<void> {
        if (auto f = s.failed()) return *f;
        if (s.stored_bytes == 0) return failure{make_error_code(archive_errc::empty_archive), {}};
        if (!s.decoder) {
            if (auto r = s.start_decoding(); !r) return r;
        }
        if (auto r = s.decode({}); !r) return r;  // output the decoder still holds
        if (!s.decoder->at_frame_boundary())
            return failure{make_error_code(archive_errc::truncated_archive), {},
                           "truncated archive: the " + std::string(codec_name(*s.format)) +
                               " stream ends inside a frame"};
        if (!s.block.empty()) return s.push_block();
        return {};
    }();
    if (!end_of_input) s.fail(end_of_input.error());
    else s.blocks.close();
    if (s.parser.joinable()) s.parser.join();
    if (auto f = s.failed()) return *f;
    return stats();
}

unpack_stats unpacker::stats() const
{
    const auto& s = *impl_;
    unpack_stats st;
    st.format = s.format.value_or(codec::none);
    st.files = s.counters.files;
    st.directories = s.counters.directories;
    st.symlinks = s.counters.symlinks;
    st.hardlinks = s.counters.hardlinks;
    st.file_bytes = s.counters.file_bytes;
    st.tar_bytes = s.tar_bytes;
    st.stored_bytes = s.stored_bytes;
    return st;
}

result<unpack_stats> unpack_from_fd(unpack_options options, int fd)
{
    auto u = unpacker::start(std::move(options));
    if (!u) return u.error();
    std::vector<char> buffer(1 << 20);
    for (;;) {
        const ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            (*u)->cancel();
            return failure{make_error_code(archive_errc::io_failed), {},
                           std::string("cannot read the archive (") + std::strerror(err) + ")"};
        }
        if (n == 0) break;
        if (auto r = (*u)->write({buffer.data(), static_cast<std::size_t>(n)}); !r) {
            (*u)->finish();  // joins; the failure is r's
            return r.error();
        }
    }
    return (*u)->finish();
}

}  // namespace cachestep::archive
