// Every case of the AWS SigV4 suite (aws-suite/, 38 cases) and of our botocore-made S3 suite (s3-suite/):
// each stage of header and query signing must equal the expected file byte for byte.
#include "signing_case.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
namespace bdata = boost::unit_test::data;
using namespace cachestep::sigv4_case;

namespace {

std::vector<std::string> case_dirs(const char* collection)
{
    std::vector<std::string> dirs;
    const fs::path root = fs::path(CACHESTEP_SIGV4_CASES_DIR) / collection;
    if (fs::is_directory(root))
        for (const auto& e : fs::directory_iterator(root))
            if (fs::exists(e.path() / "context.json")) dirs.push_back(e.path().string());
    std::sort(dirs.begin(), dirs.end());
    return dirs;
}

std::string read_file(const fs::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

void check_case(const std::string& dir)
{
    const auto outputs = sign_case(load_case(dir));
    for (const auto& name : output_file_names()) {
        BOOST_TEST_CONTEXT(fs::path(dir).filename().string() << "/" << name)
        {
            BOOST_TEST_REQUIRE(fs::exists(fs::path(dir) / name));
            BOOST_TEST(outputs.at(name) == read_file(fs::path(dir) / name));
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4_suite)

// Guards against a vacuous pass: the data-driven cases below iterate over whatever is found on disk.
BOOST_AUTO_TEST_CASE(all_cases_are_present)
{
    BOOST_TEST(case_dirs("aws-suite").size() == 38u);
    BOOST_TEST(case_dirs("s3-suite").size() >= 10u);
}

BOOST_DATA_TEST_CASE(aws_suite_case, bdata::make(case_dirs("aws-suite")), dir)
{
    check_case(dir);
}

BOOST_DATA_TEST_CASE(s3_suite_case, bdata::make(case_dirs("s3-suite")), dir)
{
    check_case(dir);
}

BOOST_AUTO_TEST_SUITE_END()
