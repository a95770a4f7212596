// Where entries land, from their names alone (archive/src/entry_path.cpp): relative names, absolute names
// remapped from the archive root onto the mount, and every way of escaping refused.
#include "entry_path.hpp"

#include <boost/test/unit_test.hpp>

using namespace cachestep::archive;
using namespace cachestep::archive::detail;

namespace {

std::string landed(entry_path_mapper& m, std::string_view name, bool first = false)
{
    auto r = m.map(name, first);
    BOOST_REQUIRE_MESSAGE(r.has_value(), std::string(name) + " was refused: " + (r ? "" : r.error().to_string()));
    return *r;
}

archive_errc refusal(entry_path_mapper& m, std::string_view name, bool first = false)
{
    auto r = m.map(name, first);
    BOOST_REQUIRE_MESSAGE(!r.has_value(), std::string(name) + " was accepted as '" + (r ? *r : "") + "'");
    BOOST_TEST(r.error().path == std::string(name));  // the message names the entry
    return static_cast<archive_errc>(r.error().code.value());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(entry_path_suite)

BOOST_AUTO_TEST_CASE(relative_names_land_under_the_destination)
{
    entry_path_mapper m("/work/ws", "/work/ws", "/work/ws");
    BOOST_TEST(landed(m, "node_modules/x/y.js", true) == "node_modules/x/y.js");
    BOOST_TEST(landed(m, "./node_modules") == "node_modules");
    BOOST_TEST(landed(m, "a//b/./c/") == "a/b/c");
    BOOST_TEST(landed(m, ".") == "");
    BOOST_TEST(landed(m, "./") == "");
}

BOOST_AUTO_TEST_CASE(dot_dot_is_refused_even_when_it_stays_inside)
{
    entry_path_mapper m("/work/ws", "/work/ws", "/work/ws");
    BOOST_TEST((refusal(m, "../x") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "a/../../x") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "a/b/../c") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "a/..") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "") == archive_errc::path_escapes_root));
}

BOOST_AUTO_TEST_CASE(absolute_names_outside_are_refused_without_an_archive_root)
{
    entry_path_mapper m("/work/ws", "/work/ws", "/work/ws");
    BOOST_TEST(landed(m, "relative-first", true) == "relative-first");  // no archive root
    BOOST_TEST((refusal(m, "/etc/passwd") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "/work/wsx/file") == archive_errc::path_escapes_root));  // a prefix is not a parent
    BOOST_TEST(landed(m, "/work/ws/inside") == "inside");  // an absolute name already inside stays
}

BOOST_AUTO_TEST_CASE(the_first_absolute_entry_is_the_root_and_maps_onto_the_mount)
{
    // The plugin saved /harness/node_modules; we restore it in another checkout.
    entry_path_mapper m("/ci/ws", "/ci/ws/node_modules", "/ci/ws/node_modules");
    BOOST_TEST(landed(m, "/harness/node_modules", true) == "");
    BOOST_TEST(m.archive_root().value() == "/harness/node_modules");
    BOOST_TEST(landed(m, "/harness/node_modules/x/y.js") == "x/y.js");
    BOOST_TEST(landed(m, "/harness/node_modules/") == "");
    BOOST_TEST((refusal(m, "/harness/other/z") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "/harness/node_modules_evil/z") == archive_errc::path_escapes_root));
    BOOST_TEST((refusal(m, "/harness/node_modules/../x") == archive_errc::path_escapes_root));
    // Relative names (a "./" mount) land under the workspace and must still be inside the mount.
    BOOST_TEST(landed(m, "node_modules/a") == "a");
    BOOST_TEST((refusal(m, "src/main.c") == archive_errc::path_escapes_root));
}

BOOST_AUTO_TEST_CASE(the_same_root_restores_in_place)
{
    entry_path_mapper m("/harness", "/harness/node_modules", "/harness/node_modules");
    BOOST_TEST(landed(m, "/harness/node_modules", true) == "");
    BOOST_TEST(landed(m, "/harness/node_modules/a/b") == "a/b");
}

BOOST_AUTO_TEST_CASE(hard_link_targets_outside_get_their_own_code)
{
    entry_path_mapper m("/work/ws", "/work/ws", "/work/ws");
    auto inside = m.map_link_target("a/file");
    BOOST_TEST(inside.value() == "a/file");
    auto outside = m.map_link_target("/etc/shadow");
    BOOST_REQUIRE(!outside.has_value());
    BOOST_TEST((outside.error().code == archive_errc::hardlink_escapes_root));
}

BOOST_AUTO_TEST_CASE(parent_and_leaf)
{
    BOOST_TEST(parent_of("a/b/c") == "a/b");
    BOOST_TEST(parent_of("c") == "");
    BOOST_TEST(leaf_of("a/b/c") == "c");
    BOOST_TEST(leaf_of("c") == "c");
}

BOOST_AUTO_TEST_SUITE_END()
