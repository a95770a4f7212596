// engine::http_call: one-shot requests over the engine's transport (engine/src/http_call.cpp), against a
// scripted server on 127.0.0.1 that answers each connection with the next canned response and keeps what
// it received. (STS and IMDS over it are proven against moto and the IMDS stand-in in
// tests/integration/test_credentials.py.)
#include <cachestep/engine/http_call.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

#include <mutex>
#include <thread>

using namespace cachestep::engine;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string response(unsigned status, const std::string& body)
{
    return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nx-amzn-RequestId: rid-1\r\nConnection: close\r\n\r\n" + body;
}

class scripted_server {
public:
    explicit scripted_server(std::vector<std::string> responses)
        : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)), responses_(std::move(responses))
    {
        thread_ = std::thread([this] { serve(); });
    }
    ~scripted_server()
    {
        ::shutdown(acceptor_.native_handle(), SHUT_RDWR);  // wakes a blocked accept() if a test expected more
        thread_.join();
    }
    std::string url(const std::string& path) const
    {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
    }
    std::vector<std::string> requests()
    {
        std::lock_guard lock(mutex_);
        return requests_;
    }

private:
    void serve()
    {
        for (const auto& answer : responses_) {
            boost::system::error_code ec;
            tcp::socket s(io_);
            acceptor_.accept(s, ec);
            if (ec) return;
            std::string raw;
            const auto header_end = asio::read_until(s, asio::dynamic_buffer(raw), "\r\n\r\n", ec);
            if (ec) continue;
            std::size_t length = 0;
            std::string lower = raw.substr(0, header_end);
            for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            if (const auto at = lower.find("content-length: "); at != std::string::npos)
                length = std::stoul(lower.substr(at + 16));
            if (raw.size() < header_end + length)
                asio::read(s, asio::dynamic_buffer(raw), asio::transfer_exactly(header_end + length - raw.size()), ec);
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(raw);
            }
            asio::write(s, asio::buffer(answer), ec);
        }
    }

    asio::io_context io_;
    tcp::acceptor acceptor_;
    std::vector<std::string> responses_;
    std::mutex mutex_;
    std::vector<std::string> requests_;
    std::thread thread_;
};

http_call_options fast_options(int attempts)
{
    http_call_options o;
    o.retry.max_attempts = attempts;
    o.retry.base_delay = std::chrono::milliseconds{1};
    o.retry.max_delay = std::chrono::milliseconds{2};
    o.timeouts.connect = std::chrono::milliseconds{2'000};
    o.timeouts.request = std::chrono::milliseconds{5'000};
    return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_http_call)

BOOST_AUTO_TEST_CASE(sends_the_request_as_given_and_signs_it)
{
    scripted_server server({response(200, "<ok/>")});
    http_call_request request;
    request.method = "POST";
    request.url = server.url("/sts/?a=1");
    request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    request.body = "Action=AssumeRole&Version=2011-06-15";
    request.signing = http_call_signing{{"AKIDEXAMPLE", "VERY-SECRET-KEY", "SESSION-TOKEN"}, "eu-west-1", "sts"};
    auto reply = http_call_blocking(request, fast_options(1));
    BOOST_TEST_REQUIRE(reply.has_value(), reply.error().to_string());
    BOOST_TEST(reply->status == 200u);
    BOOST_TEST(reply->body == "<ok/>");
    BOOST_TEST(reply->header("X-AMZN-REQUESTID") == "rid-1");
    BOOST_TEST(reply->header("absent") == "");
    BOOST_TEST(reply->attempts == 1);

    const auto sent = server.requests();
    BOOST_TEST_REQUIRE(sent.size() == 1u);
    const auto& wire = sent[0];
    BOOST_TEST(wire.rfind("POST /sts/?a=1 HTTP/1.1\r\n", 0) == 0u);
    BOOST_TEST(wire.find("\r\nHost: 127.0.0.1:") != std::string::npos);
    BOOST_TEST(wire.find("\r\nContent-Length: 36\r\n") != std::string::npos);
    BOOST_TEST(wire.find("Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") != std::string::npos);
    BOOST_TEST(wire.find("/eu-west-1/sts/aws4_request, SignedHeaders=") != std::string::npos);
    BOOST_TEST(wire.find("\r\nX-Amz-Security-Token: SESSION-TOKEN\r\n") != std::string::npos);
    BOOST_TEST(wire.find("VERY-SECRET-KEY") == std::string::npos);
    BOOST_TEST(wire.substr(wire.size() - 36) == "Action=AssumeRole&Version=2011-06-15");
}

BOOST_AUTO_TEST_CASE(server_failures_are_retried_and_other_answers_returned)
{
    {
        scripted_server server({response(503, "busy"), response(200, "fine")});
        http_call_request request;
        request.url = server.url("/x");
        auto reply = http_call_blocking(request, fast_options(3));
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->status == 200u);
        BOOST_TEST(reply->attempts == 2);
        BOOST_TEST(server.requests().size() == 2u);
    }
    {
        // A persisting 5xx comes back as the last reply, for the caller to read its error body.
        scripted_server server({response(500, "<Error>1</Error>"), response(500, "<Error>2</Error>")});
        http_call_request request;
        request.url = server.url("/x");
        auto reply = http_call_blocking(request, fast_options(2));
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->status == 500u);
        BOOST_TEST(reply->body == "<Error>2</Error>");
        BOOST_TEST(reply->attempts == 2);
    }
    {
        scripted_server server({response(403, "denied")});
        http_call_request request;
        request.method = "PUT";
        request.url = server.url("/latest/api/token");
        auto reply = http_call_blocking(request, fast_options(5));
        BOOST_TEST_REQUIRE(reply.has_value());
        BOOST_TEST(reply->status == 403u);
        BOOST_TEST(reply->attempts == 1);
        const auto sent = server.requests();
        BOOST_TEST_REQUIRE(sent.size() == 1u);
        BOOST_TEST(sent[0].find("\r\nContent-Length: 0\r\n") != std::string::npos);  // PUT without a body
    }
}

BOOST_AUTO_TEST_CASE(refuses_bad_urls_and_reports_unreachable_servers)
{
    http_call_request request;
    request.operation = "STS AssumeRole r";
    for (const char* url : {"ftp://example.com/", "not a url", "http://user:pw@127.0.0.1/"}) {
        request.url = url;
        auto reply = http_call_blocking(request, fast_options(1));
        BOOST_TEST_REQUIRE(!reply.has_value());
        BOOST_TEST(reply.error().code == make_error_code(engine_errc::invalid_argument));
        BOOST_TEST(reply.error().operation == "STS AssumeRole r");
        BOOST_TEST(reply.error().message.find("pw") == std::string::npos);
    }
    request.url = "http://127.0.0.1:1/";
    request.headers.emplace_back("X-aws-ec2-metadata-token", "abc\r\nInjected: yes");
    auto refused = http_call_blocking(request, fast_options(1));
    BOOST_TEST_REQUIRE(!refused.has_value());
    BOOST_TEST(refused.error().message == "header \"X-aws-ec2-metadata-token\" cannot be sent as it is");
    request.headers.clear();
    auto reply = http_call_blocking(request, fast_options(3));
    BOOST_TEST_REQUIRE(!reply.has_value());
    BOOST_TEST(reply.error().attempts == 3);  // connection refused is retried
    BOOST_TEST(reply.error().message == "connecting to 127.0.0.1:1");
}

BOOST_AUTO_TEST_CASE(a_body_over_the_limit_is_refused)
{
    scripted_server server({response(200, std::string(2000, 'x'))});
    http_call_request request;
    request.url = server.url("/big");
    auto options = fast_options(1);
    options.body_limit = 1000;
    auto reply = http_call_blocking(request, options);
    BOOST_TEST_REQUIRE(!reply.has_value());
    BOOST_TEST(reply.error().code == make_error_code(engine_errc::bad_response));
}

BOOST_AUTO_TEST_SUITE_END()
