#include "archive_commands.hpp"
#include "cli_support.hpp"

#include "human_units.hpp"

#include <cachestep/archive/pack.hpp>
#include <cachestep/archive/unpack.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace cachestep::app {
namespace {

namespace fs = std::filesystem;
using clock_type = std::chrono::steady_clock;

void warn(const std::string& message) { std::cerr << "cache-step: warning: " << message << "\n"; }

double seconds_since(clock_type::time_point start)
{
    return std::max(std::chrono::duration<double>(clock_type::now() - start).count(), 1e-9);
}

}  // namespace

void add_pack_command(CLI::App& app, pack_command_options& o)
{
    auto* cmd = app.add_subcommand("pack", "pack directories into one compressed tar stream (a file or stdout)");
    cmd->add_option("-C,--workspace", o.workspace, "the directory PATHs are relative to, and names are relative to")
        ->capture_default_str();
    cmd->add_option("--format", o.format, "tar (none), gzip, zstd or lz4")
        ->check(CLI::IsMember({"tar", "none", "gzip", "zstd", "lz4"}))
        ->capture_default_str();
    cmd->add_option("--level", o.level, "compression level (0: the codec's default)");
    cmd->add_option("--threads", o.threads, "compression threads (0: one per core)");
    cmd->add_flag("--absolute-names", o.absolute_names,
                  "name entries by absolute path, as the Drone cache plugin does (/harness/node_modules/x)");
    cmd->add_option("-o,--output", o.output, "the archive file, or - for stdout")->capture_default_str();
    cmd->add_flag("-q,--quiet", o.quiet, "no summary line");
    cmd->add_option("paths", o.paths, "files and directories to pack")->required();
}

void add_unpack_command(CLI::App& app, unpack_command_options& o)
{
    auto* cmd = app.add_subcommand("unpack", "restore a tar stream (tar, gzip, zstd or lz4: detected) into a directory");
    cmd->add_option("-C,--workspace", o.workspace, "where relative names land (created if missing)")
        ->capture_default_str();
    cmd->add_option("--mount", o.mount,
                    "where the root of an archive with absolute names lands; nothing may land outside it");
    cmd->add_option("--threads", o.threads, "file-writing threads (0: one per core)");
    cmd->add_flag("-q,--quiet", o.quiet, "no summary line");
    cmd->add_option("archive", o.input, "the archive file, or - for stdin")->capture_default_str();
}

int run_pack(const pack_command_options& o)
{
    const auto start = clock_type::now();
    archive::pack_options options;
    options.format = *archive::parse_codec(o.format);
    options.level = o.level;
    options.threads = o.threads;
    options.warn = warn;
    const fs::path workspace = absolute_normal(o.workspace);
    for (const auto& p : o.paths) {
        const fs::path disk = absolute_normal(fs::path(p).is_absolute() ? fs::path(p) : workspace / p);
        std::string name;
        if (o.absolute_names) {
            name = disk.string();
        } else {
            name = disk.lexically_relative(workspace).string();
            if (name.empty() || name == ".." || name.rfind("../", 0) == 0)
                return fail("'" + p + "' is outside the workspace " + workspace.string() +
                            ": pack it with --absolute-names, or choose the workspace with -C");
        }
        options.sources.push_back({disk, name});
    }

    int fd = STDOUT_FILENO;
    // Only a regular file we write may be removed on failure: never a device (-o /dev/null) or a fifo.
    struct stat existing{};
    const bool regular_output = o.output != "-" &&
                                (::stat(o.output.c_str(), &existing) != 0 || S_ISREG(existing.st_mode));
    if (o.output != "-") {
        fd = ::open(o.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) return fail("cannot create '" + o.output + "': " + std::strerror(errno));
    }
    auto r = archive::pack_to_fd(std::move(options), fd);
    if (fd != STDOUT_FILENO && ::close(fd) != 0 && r)
        r = archive::failure{make_error_code(archive::archive_errc::io_failed), o.output, "cannot write"};
    if (!r) {
        if (regular_output) ::unlink(o.output.c_str());  // no half-written archive left behind
        return fail(r.error().to_string());
    }
    if (!o.quiet) {
        const auto& s = *r;
        const double t = seconds_since(start);
        char line[256];
        std::snprintf(line, sizeof line, "%.2f s, %s/s of files; stored %s (%.1f%% of the tar stream)", t,
                      human_bytes(static_cast<double>(s.file_bytes) / t).c_str(),
                      human_bytes(static_cast<double>(s.stored_bytes)).c_str(),
                      s.tar_bytes ? 100.0 * static_cast<double>(s.stored_bytes) / static_cast<double>(s.tar_bytes) : 0.0);
        std::cerr << "packed " << s.files << " files (" << human_bytes(static_cast<double>(s.file_bytes)) << "), "
                  << s.directories << " directories, " << s.symlinks << " symlinks, " << s.hardlinks
                  << " hard links, " << s.skipped << " skipped in " << line << "\n";
    }
    return 0;
}

int run_unpack(const unpack_command_options& o)
{
    const auto start = clock_type::now();
    archive::unpack_options options;
    options.destination = o.workspace;
    if (o.mount) options.mount = fs::path(*o.mount);
    options.threads = o.threads;
    options.warn = warn;
    int fd = STDIN_FILENO;
    if (o.input != "-") {
        fd = ::open(o.input.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail("cannot open '" + o.input + "': " + std::strerror(errno));
    }
    auto r = archive::unpack_from_fd(std::move(options), fd);
    if (fd != STDIN_FILENO) ::close(fd);
    if (!r) return fail("restore failed: " + r.error().to_string());
    if (!o.quiet) {
        const auto& s = *r;
        const double t = seconds_since(start);
        char line[128];
        std::snprintf(line, sizeof line, "%.2f s, %s/s of files", t,
                      human_bytes(static_cast<double>(s.file_bytes) / t).c_str());
        std::cerr << "unpacked " << std::string(archive::codec_name(s.format)) << " archive: " << s.files
                  << " files (" << human_bytes(static_cast<double>(s.file_bytes)) << "), " << s.directories
                  << " directories, " << s.symlinks << " symlinks, " << s.hardlinks << " hard links in " << line
                  << "\n";
    }
    return 0;
}

}  // namespace cachestep::app
