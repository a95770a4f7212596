#include "cp_command.hpp"
#include "cli_support.hpp"

#include "engine_session.hpp"
#include "human_units.hpp"
#include "s3_url.hpp"

#include <cachestep/engine/io.hpp>

#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <iostream>
#include <sys/stat.h>
#include <unistd.h>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

void summary(bool quiet, const char* verb, std::uint64_t bytes, const std::string& where, clock_type::time_point start,
             const std::string& detail)
{
    if (quiet) return;
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    char elapsed[32];
    std::snprintf(elapsed, sizeof elapsed, "%.2f", seconds);
    std::cerr << verb << " " << human_bytes(static_cast<double>(bytes)) << " " << where << " in " << elapsed << " s ("
              << human_bytes(static_cast<double>(bytes) / std::max(seconds, 1e-9)) << "/s" << detail << ")\n";
}

int upload(const cp_options& o, const s3_url& dst)
{
    int fd = 0;
    std::string name = "standard input";
    if (o.source != "-") {
        std::error_code ec;
        if (fs::is_directory(o.source, ec))
            return fail(o.source + " is a directory: cp copies one file (cache-step save packs trees)");
        fd = ::open(o.source.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail("cannot open " + o.source + ": " + std::strerror(errno));
        name = o.source;
    }
    engine::object_ref obj{dst.bucket, dst.key};
    if (obj.key.empty() || obj.key.back() == '/') {  // s3://bucket/dir/ takes the file's name, as aws s3 cp does
        if (o.source == "-") return fail("uploading standard input needs a full key: s3://bucket/key");
        obj.key += fs::path(o.source).filename().string();
    }

    auto cfg = make_client_config(o.s3);
    if (!cfg) return fail(cfg.error().to_string());
    auto session = engine_session::create(std::move(*cfg));
    if (!session) return fail(session.error().to_string());
    engine::fd_source source(fd, name);
    const auto start = clock_type::now();
    auto r = (*session)->run((*session)->client().upload(obj, source));
    if (fd != 0) ::close(fd);
    if (int sig = (*session)->signal_received()) {
        std::cerr << "cache-step: interrupted by signal " << sig << "; nothing was left on the server\n";
        return exit_code_for_signal(sig);
    }
    if (!r) return fail(r.error().to_string());
    summary(o.quiet, "uploaded", r->size, "to s3://" + obj.bucket + "/" + obj.key, start,
            r->parts ? ", " + std::to_string(r->parts) + " parts" : ", one request");
    return 0;
}

int download(const cp_options& o, const s3_url& src)
{
    if (src.key.empty()) return fail("s3://" + src.bucket + "/ names no object");
    std::string target = o.destination;
    std::error_code ec;
    if (target != "-" && fs::is_directory(target, ec)) target = (fs::path(target) / fs::path(src.key).filename()).string();

    auto cfg = make_client_config(o.s3);
    if (!cfg) return fail(cfg.error().to_string());
    auto session = engine_session::create(std::move(*cfg));
    if (!session) return fail(session.error().to_string());

    // A file is written under a temporary name and renamed when complete: a failed download never leaves a
    // partial file where the real one should be.
    int fd = 1;
    std::string partial;
    struct stat existing{};
    const bool special = target != "-" && ::stat(target.c_str(), &existing) == 0 && !S_ISREG(existing.st_mode);
    if (special) {
        // A device or fifo (/dev/null, a named pipe) is written in place: renaming a temporary file over it
        // would replace the device node with a regular file.
        fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return fail("cannot open " + target + ": " + std::strerror(errno));
    } else if (target != "-") {
        partial = target + ".cache-step-partial-" + std::to_string(::getpid());
        fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) return fail("cannot create " + partial + ": " + std::strerror(errno));
    }
    engine::fd_sink sink(fd, target == "-" ? "standard output" : target);
    const auto start = clock_type::now();
    auto r = (*session)->run((*session)->client().download({src.bucket, src.key}, sink));
    if (fd != 1 && special) {
        ::close(fd);
    } else if (fd != 1) {
        const bool closed = ::close(fd) == 0;
        if (r && !closed) r = engine::error_info(engine::engine_errc::sink_failed, "closing " + target + ": " + std::strerror(errno));
        if (r && ::rename(partial.c_str(), target.c_str()) != 0)
            r = engine::error_info(engine::engine_errc::sink_failed, "renaming to " + target + ": " + std::strerror(errno));
        if (!r) ::unlink(partial.c_str());
    }
    if (int sig = (*session)->signal_received()) {
        std::cerr << "cache-step: interrupted by signal " << sig << "\n";
        return exit_code_for_signal(sig);
    }
    if (!r) return fail(r.error().to_string());
    summary(o.quiet, "downloaded", r->size, "from s3://" + src.bucket + "/" + src.key, start,
            ", " + std::to_string(r->ranges) + " ranges");
    return 0;
}

}  // namespace

void add_cp_command(CLI::App& app, cp_options& o)
{
    auto* cp = app.add_subcommand("cp", "copy one file or stream to or from S3: cp SRC DST, one side s3://bucket/key, "
                                        "the other a file or - (stdin/stdout)");
    cp->add_option("SRC", o.source, "s3://bucket/key, a file, or - for standard input")->required();
    cp->add_option("DST", o.destination, "s3://bucket/key, a file or directory, or - for standard output")->required();
    cp->add_flag("-q,--quiet", o.quiet, "no summary line");
    add_s3_flags(*cp, o.s3);
}

int run_cp(const cp_options& o)
{
    const auto src = parse_s3_url(o.source);
    const auto dst = parse_s3_url(o.destination);
    if (src && dst) return fail("cp between two S3 locations is not supported; one side must be local or -");
    if (!src && !dst) return fail("one of SRC and DST must be s3://bucket/key");
    return dst ? upload(o, *dst) : download(o, *src);
}

}  // namespace cachestep::app
