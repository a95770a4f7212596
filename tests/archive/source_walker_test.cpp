// Archive names as Go's path.Clean makes them (archive/src/source_walker.cpp), so that names written in the
// plugin's style match what the plugin writes.
#include "source_walker.hpp"

#include <boost/test/unit_test.hpp>

using cachestep::archive::detail::clean_name;

BOOST_AUTO_TEST_SUITE(source_walker_suite)

BOOST_AUTO_TEST_CASE(clean_matches_go_path_clean)
{
    // Cases from Go's path.Clean documentation and tests.
    BOOST_TEST(clean_name("") == ".");
    BOOST_TEST(clean_name("./node_modules") == "node_modules");
    BOOST_TEST(clean_name("node_modules/") == "node_modules");
    BOOST_TEST(clean_name("a//b") == "a/b");
    BOOST_TEST(clean_name("a/./b") == "a/b");
    BOOST_TEST(clean_name("a/b/../c") == "a/c");
    BOOST_TEST(clean_name("../a") == "../a");
    BOOST_TEST(clean_name("/../a") == "/a");
    BOOST_TEST(clean_name("/") == "/");
    BOOST_TEST(clean_name("/harness/node_modules/") == "/harness/node_modules");
    BOOST_TEST(clean_name("a/..") == ".");
}

BOOST_AUTO_TEST_SUITE_END()
