// The Boost.Test runner for every unit suite linked into the binary.
#define BOOST_TEST_MODULE cachestep
#include <boost/test/unit_test.hpp>
