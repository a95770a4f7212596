// The packer and unpacker through their public API, joined in memory (archive/src/packer.cpp, unpacker.cpp,
// tar_extractor.cpp, safe_tree.cpp): a tree round trip, replacement semantics, refusals that leave the outside
// untouched, truncation, cancellation. The CLI-level suites (test_*.py) add interop and the hostile corpus.
#include <cachestep/archive/pack.hpp>
#include <cachestep/archive/unpack.hpp>

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

using namespace cachestep::archive;
namespace fs = std::filesystem;

namespace {

struct scratch_dir {
    fs::path path;
    scratch_dir()
    {
        char pattern[] = "/tmp/cachestep-archive-test-XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ~scratch_dir() { fs::remove_all(path); }
};

void write_file(const fs::path& p, const std::string& content, fs::perms perms = fs::perms(0644))
{
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
    fs::permissions(p, perms);
}

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<char> pack_to_memory(pack_options o)
{
    auto p = packer::start(std::move(o));
    BOOST_REQUIRE(p.has_value());
    std::vector<char> out, buf(100'000);
    for (;;) {
        auto n = (*p)->read(buf);
        BOOST_REQUIRE_MESSAGE(n.has_value(), (n ? "" : n.error().to_string()));
        if (*n == 0) break;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(*n));
    }
    return out;
}

result<unpack_stats> unpack_memory(const std::vector<char>& bytes, unpack_options o, std::size_t piece = 65536)
{
    auto u = unpacker::start(std::move(o));
    if (!u) return u.error();
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        if (auto r = (*u)->write({bytes.data() + at, std::min(piece, bytes.size() - at)}); !r) {
            (void)(*u)->finish();
            return r.error();
        }
    }
    return (*u)->finish();
}

const codec all_codecs[] = {codec::none, codec::gzip, codec::zstd, codec::lz4};

}  // namespace

BOOST_AUTO_TEST_SUITE(pack_unpack_suite)

BOOST_DATA_TEST_CASE(a_tree_round_trips, boost::unit_test::data::make(all_codecs), c)
{
    scratch_dir d;
    const fs::path src = d.path / "src";
    std::mt19937 rng(42);
    std::string big(3'000'000, '\0');
    for (auto& ch : big) ch = static_cast<char>(rng());
    write_file(src / "a" / "big.bin", big);
    write_file(src / "a" / "run.sh", "#!/bin/sh\necho hi\n", fs::perms(0755));
    write_file(src / "a" / "secret", "s", fs::perms(0600));
    write_file(src / "empty-file", "");
    fs::create_directories(src / "empty-dir");
    fs::create_symlink("../a/run.sh", src / "a" / "link");
    fs::create_hard_link(src / "a" / "secret", src / "hard");
    const timespec old_times[2] = {{1'600'000'000, 0}, {1'600'000'000, 0}};
    ::utimensat(AT_FDCWD, (src / "a" / "run.sh").c_str(), old_times, 0);

    pack_options po;
    po.sources = {{src, "src"}};
    po.format = c;
    const auto bytes = pack_to_memory(po);

    unpack_options uo;
    uo.destination = d.path / "out";
    auto r = unpack_memory(bytes, uo);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    BOOST_TEST((r->format == c));
    BOOST_TEST(r->files == 4u);  // big.bin, run.sh, secret, empty-file; hard is a link
    BOOST_TEST(r->hardlinks == 1u);
    const fs::path out = d.path / "out" / "src";
    BOOST_TEST(read_file(out / "a" / "big.bin") == big);
    BOOST_TEST(read_file(out / "a" / "run.sh") == "#!/bin/sh\necho hi\n");
    BOOST_TEST((fs::status(out / "a" / "run.sh").permissions() == fs::perms(0755)));
    BOOST_TEST((fs::status(out / "a" / "secret").permissions() == fs::perms(0600)));
    BOOST_TEST(fs::is_directory(out / "empty-dir"));
    BOOST_TEST(fs::read_symlink(out / "a" / "link") == "../a/run.sh");
    BOOST_TEST(fs::equivalent(out / "hard", out / "a" / "secret"));
    struct stat st{};
    BOOST_REQUIRE(::stat((out / "a" / "run.sh").c_str(), &st) == 0);
    BOOST_TEST(st.st_mtim.tv_sec == 1'600'000'000);
}

BOOST_AUTO_TEST_CASE(existing_files_are_replaced_never_patched_nor_written_through)
{
    scratch_dir d;
    write_file(d.path / "src" / "f", "short");
    write_file(d.path / "src" / "g", "new g");
    pack_options po;
    po.sources = {{d.path / "src", "."}};
    po.format = codec::lz4;
    const auto bytes = pack_to_memory(po);

    const fs::path dest = d.path / "dest";
    write_file(dest / "f", "a much longer old content", fs::perms(0444));
    write_file(d.path / "outside", "untouched");
    fs::create_symlink(d.path / "outside", dest / "g");  // a symlink where the archive has a file
    unpack_options uo;
    uo.destination = dest;
    auto r = unpack_memory(bytes, uo);
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    BOOST_TEST(read_file(dest / "f") == "short");
    BOOST_TEST(!fs::is_symlink(dest / "g"));
    BOOST_TEST(read_file(dest / "g") == "new g");
    BOOST_TEST(read_file(d.path / "outside") == "untouched");
}

BOOST_AUTO_TEST_CASE(a_symlinked_directory_on_disk_is_not_written_through)
{
    scratch_dir d;
    write_file(d.path / "src" / "lib" / "x.js", "x");
    pack_options po;
    po.sources = {{d.path / "src" / "lib", "lib"}};
    const auto bytes = pack_to_memory(po);

    const fs::path dest = d.path / "dest";
    fs::create_directories(dest);
    fs::create_directories(d.path / "elsewhere");
    fs::create_directory_symlink(d.path / "elsewhere", dest / "lib");
    unpack_options uo;
    uo.destination = dest;
    auto r = unpack_memory(bytes, uo);
    // The archive's "lib" directory entry replaces the symlink with a real directory; nothing lands elsewhere.
    BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.error().to_string()));
    BOOST_TEST(fs::is_directory(fs::symlink_status(dest / "lib")));
    BOOST_TEST(read_file(dest / "lib" / "x.js") == "x");
    BOOST_TEST(fs::is_empty(d.path / "elsewhere"));
}

BOOST_AUTO_TEST_CASE(a_truncated_stream_fails_and_removes_the_partial_file)
{
    scratch_dir d;
    std::string big(4'000'000, 'q');
    write_file(d.path / "src" / "big", big);
    pack_options po;
    po.sources = {{d.path / "src" / "big", "big"}};
    po.format = codec::none;
    auto bytes = pack_to_memory(po);
    bytes.resize(2'000'000);
    unpack_options uo;
    uo.destination = d.path / "dest";
    auto r = unpack_memory(bytes, uo);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == archive_errc::truncated_archive), r.error().to_string());
    BOOST_TEST(!fs::exists(d.path / "dest" / "big"));
}

BOOST_AUTO_TEST_CASE(a_missing_source_is_skipped_and_all_missing_is_an_error)
{
    scratch_dir d;
    write_file(d.path / "real" / "f", "f");
    std::vector<std::string> warnings;
    pack_options po;
    po.sources = {{d.path / "nope", "nope"}, {d.path / "real", "real"}};
    po.warn = [&](const std::string& w) { warnings.push_back(w); };
    const auto bytes = pack_to_memory(po);
    BOOST_REQUIRE(warnings.size() == 1u);
    BOOST_TEST(warnings[0].find((d.path / "nope").string()) != std::string::npos);

    pack_options none;
    none.sources = {{d.path / "nope", "nope"}};
    auto p = packer::start(std::move(none));
    BOOST_REQUIRE(p.has_value());
    std::vector<char> buf(1000);
    auto n = (*p)->read(buf);
    BOOST_REQUIRE(!n.has_value());
    BOOST_TEST((n.error().code == archive_errc::no_source));
}

BOOST_AUTO_TEST_CASE(cancel_stops_a_packer_and_an_unpacker)
{
    scratch_dir d;
    write_file(d.path / "src" / "f", std::string(5'000'000, 'z'));
    pack_options po;
    po.sources = {{d.path / "src", "src"}};
    auto p = packer::start(po);
    BOOST_REQUIRE(p.has_value());
    (*p)->cancel();
    std::vector<char> buf(1000);
    auto n = (*p)->read(buf);
    BOOST_REQUIRE(!n.has_value());
    BOOST_TEST((n.error().code == archive_errc::cancelled));

    const auto bytes = pack_to_memory(po);
    unpack_options uo;
    uo.destination = d.path / "dest";
    auto u = unpacker::start(uo);
    BOOST_REQUIRE(u.has_value());
    BOOST_REQUIRE((*u)->write({bytes.data(), bytes.size() / 2}));
    (*u)->cancel();
    auto r = (*u)->finish();
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == archive_errc::cancelled));
}

BOOST_AUTO_TEST_CASE(empty_and_garbage_streams_are_named_as_such)
{
    scratch_dir d;
    unpack_options uo;
    uo.destination = d.path / "dest";
    auto empty = unpack_memory({}, uo);
    BOOST_REQUIRE(!empty.has_value());
    BOOST_TEST((empty.error().code == archive_errc::empty_archive));

    std::vector<char> garbage(100'000);
    std::mt19937 rng(3);
    for (auto& ch : garbage) ch = static_cast<char>(rng());
    garbage[0] = 'x';  // not a codec magic
    auto r = unpack_memory(garbage, uo);
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST((r.error().code == archive_errc::not_an_archive), r.error().to_string());
}

BOOST_AUTO_TEST_SUITE_END()
