// Error categories and the one-line rendering of error_info (engine/src/error.cpp).
#include <cachestep/engine/error.hpp>

#include <boost/system/system_error.hpp>
#include <boost/test/unit_test.hpp>

using namespace cachestep::engine;

BOOST_AUTO_TEST_SUITE(engine_error)

BOOST_AUTO_TEST_CASE(codes_carry_their_category_and_message)
{
    const boost::system::error_code s3 = s3_errc::signature_does_not_match;
    BOOST_TEST(s3.category().name() == std::string("s3"));
    BOOST_TEST(s3.message().find("wrong secret access key") != std::string::npos);
    const boost::system::error_code own = engine_errc::object_changed;
    BOOST_TEST(own.category().name() == std::string("cachestep.engine"));
    BOOST_TEST(s3 != own);
}

BOOST_AUTO_TEST_CASE(to_string_names_everything_a_reader_needs)
{
    error_info e(s3_errc::slow_down, "Please reduce your request rate.");
    e.http_status = 503;
    e.s3_code = "SlowDown";
    e.request_id = "4442587FB7D0A2F9";
    e.operation = "UploadPart 7 of cache/npm";
    e.attempts = 5;
    BOOST_TEST(e.to_string() ==
               "UploadPart 7 of cache/npm: slow down (request rate too high) [SlowDown] (HTTP 503): Please reduce "
               "your request rate. after 5 attempts; request id 4442587FB7D0A2F9");
}

BOOST_AUTO_TEST_CASE(result_value_throws_with_the_full_text)
{
    const result<int> r = error_info(engine_errc::stalled, "no byte for 30 s");
    try {
        (void)r.value();
        BOOST_FAIL("value() of an error must throw");
    } catch (const boost::system::system_error& e) {
        BOOST_TEST(e.code() == make_error_code(engine_errc::stalled));
        BOOST_TEST(std::string(e.what()).find("no byte for 30 s") != std::string::npos);
    }
}

BOOST_AUTO_TEST_SUITE_END()
