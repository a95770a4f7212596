// X-Amz-Date formatting and ISO 8601 parsing (sigv4/src/time.cpp).
#include <cachestep/sigv4/time.hpp>

#include <boost/test/unit_test.hpp>

using namespace cachestep::sigv4;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(sigv4_time)

BOOST_AUTO_TEST_CASE(formats_amz_date)
{
    const sys_seconds t = sys_days{2015y / August / 30} + 12h + 36min;
    BOOST_TEST(format_amz_date(t) == "20150830T123600Z");
    BOOST_TEST(format_amz_date(sys_seconds{}) == "19700101T000000Z");
    BOOST_TEST(format_amz_date(sys_days{9999y / December / 31} + 23h + 59min + 59s) == "99991231T235959Z");
    BOOST_TEST(format_amz_date(sys_days{10000y / January / 1}) == "");
}

BOOST_AUTO_TEST_CASE(parses_both_iso_forms)
{
    const sys_seconds t = sys_days{2015y / August / 30} + 12h + 36min;
    BOOST_TEST((parse_iso8601_utc("2015-08-30T12:36:00Z") == t));
    BOOST_TEST((parse_iso8601_utc("20150830T123600Z") == t));
    BOOST_TEST((parse_iso8601_utc("2016-02-29T00:00:00Z").has_value()));
}

BOOST_AUTO_TEST_CASE(rejects_malformed_times)
{
    for (const char* bad : {"", "2015-08-30", "2015-08-30T12:36:00", "2015-08-30 12:36:00Z", "2015-13-01T00:00:00Z",
                            "2015-02-30T00:00:00Z", "2015-08-30T24:00:00Z", "2015-08-30T12:36:0xZ",
                            "2015/08/30T12:36:00Z", "2015-08-30T12:36:00+00:00"})
        BOOST_TEST(!parse_iso8601_utc(bad).has_value(), bad);
}

BOOST_AUTO_TEST_SUITE_END()
