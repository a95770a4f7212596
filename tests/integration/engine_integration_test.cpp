// The engine's public API (cachestep::engine::client) against a real S3 server, started by the ctest fixture
// and described by the env file in CACHESTEP_S3_ENV: single operations and their typed errors, listing with
// pagination, batch delete, metadata, If-Match, multipart bookkeeping, connection reuse.
#include <cachestep/engine/client.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

namespace asio = boost::asio;
using namespace cachestep::engine;

namespace {

std::map<std::string, std::string> read_env_file()
{
    const char* path = std::getenv("CACHESTEP_S3_ENV");
    BOOST_TEST_REQUIRE(path != nullptr, "CACHESTEP_S3_ENV is not set: run through ctest (it starts the server)");
    std::map<std::string, std::string> values;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);)
        if (auto eq = line.find('='); eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
    return values;
}

struct server_fixture {
    std::map<std::string, std::string> env = read_env_file();
    std::string bucket = env.at("S3_BUCKET");
    std::string prefix = "engine-it-" + std::to_string(std::random_device{}()) + "-";
    bool has_list_uploads = env["S3_HAS_LIST_MULTIPART_UPLOADS"] == "true";
    bool verifies_sigv4 = env["S3_VERIFIES_SIGV4"] == "true";
    std::string server_name = std::filesystem::path(std::getenv("CACHESTEP_S3_ENV")).stem().string();
    asio::io_context io;

    client_config config(std::string secret = {})
    {
        client_config cfg;
        cfg.endpoint.url = env.at("S3_ENDPOINT");
        cfg.endpoint.region = env.at("S3_REGION");
        cfg.endpoint.addressing = addressing_style::path;
        cfg.credentials = {env.at("S3_ACCESS_KEY"), secret.empty() ? env.at("S3_SECRET_KEY") : secret, ""};
        cfg.retry.max_attempts = 2;
        cfg.transfer.part_size = 5 << 20;
        return cfg;
    }

    std::shared_ptr<client> make_client(std::string secret = {})
    {
        auto c = client::create(io.get_executor(), config(std::move(secret)));
        BOOST_TEST_REQUIRE(c.has_value());
        return *c;
    }

    template <class T>
    T run(asio::awaitable<T> work)
    {
        auto f = asio::co_spawn(io, std::move(work), asio::use_future);
        io.restart();
        io.run();
        return f.get();
    }

    object_ref obj(const std::string& key) { return {bucket, prefix + key}; }
};

std::vector<char> bytes(std::size_t n, unsigned seed)
{
    std::vector<char> v(n);
    std::mt19937 g(seed);
    for (auto& c : v) c = static_cast<char>(g());
    return v;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(engine_integration, server_fixture)

BOOST_AUTO_TEST_CASE(put_head_range_and_metadata)
{
    auto c = make_client();
    const auto data = bytes(100'000, 1);
    upload_options opts;
    opts.content_type = "application/x-tar";
    opts.metadata["cache-format"] = "lz4";
    const auto put = run(c->put_object(obj("a.bin"), data, opts));
    BOOST_TEST_REQUIRE(put.has_value(), put.error().to_string());
    BOOST_TEST(!put->etag.empty());

    const auto head = run(c->head_object(obj("a.bin")));
    BOOST_TEST_REQUIRE(head.has_value(), head.error().to_string());
    BOOST_TEST(head->size == data.size());
    BOOST_TEST(head->etag == put->etag);
    BOOST_TEST(head->content_type == "application/x-tar");
    BOOST_TEST(head->metadata.at("cache-format") == "lz4");

    std::vector<char> part(1000);
    const auto range = run(c->get_object_range(obj("a.bin"), 5000, 5999, part, head->etag));
    BOOST_TEST_REQUIRE(range.has_value(), range.error().to_string());
    BOOST_TEST(range->bytes == 1000u);
    BOOST_TEST(range->object_size == data.size());
    BOOST_TEST(std::equal(part.begin(), part.end(), data.begin() + 5000));
}

BOOST_AUTO_TEST_CASE(typed_errors_for_missing_objects_and_changed_versions)
{
    auto c = make_client();
    const auto missing = run(c->head_object(obj("missing.bin")));
    BOOST_TEST_REQUIRE(!missing.has_value());
    BOOST_TEST((missing.error().code == s3_errc::no_such_key));
    BOOST_TEST(missing.error().http_status == 404u);
    BOOST_TEST(missing.error().attempts == 1, "NoSuchKey is not retried");

    std::vector<char> buf(10);
    const auto get_missing = run(c->get_object_range(obj("missing.bin"), 0, 9, buf));
    BOOST_TEST_REQUIRE(!get_missing.has_value());
    BOOST_TEST((get_missing.error().code == s3_errc::no_such_key));

    const auto data = bytes(2000, 2);
    BOOST_TEST_REQUIRE(run(c->put_object(obj("v.bin"), data)).has_value());
    const auto stale = run(c->get_object_range(obj("v.bin"), 0, 9, buf, "\"0123456789abcdef0123456789abcdef\""));
    if (server_name.rfind("s3rver", 0) != 0) {  // s3rver ignores If-Match (tests/servers/BEHAVIOUR.md)
        BOOST_TEST_REQUIRE(!stale.has_value());
        BOOST_TEST((stale.error().code == s3_errc::precondition_failed));
        BOOST_TEST(stale.error().http_status == 412u);
        BOOST_TEST(stale.error().attempts == 1);
    }
}

BOOST_AUTO_TEST_CASE(wrong_secret_is_signature_does_not_match)
{
    if (!verifies_sigv4) return;
    auto c = make_client("definitely-not-the-secret");
    const auto r = run(c->head_object(obj("anything.bin")));
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().attempts == 1, "an auth failure is not retried");
    // HEAD has no body: the status says 403 and the code is access_denied; a GET names SignatureDoesNotMatch.
    std::vector<char> buf(10);
    const auto g = run(c->get_object_range(obj("anything.bin"), 0, 9, buf));
    BOOST_TEST_REQUIRE(!g.has_value());
    BOOST_TEST(g.error().http_status == 403u);
    BOOST_TEST((g.error().code == s3_errc::signature_does_not_match), g.error().to_string());
    BOOST_TEST(g.error().to_string().find("definitely-not-the-secret") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(listing_pages_and_batch_delete)
{
    auto c = make_client();
    std::vector<std::string> keys;
    for (int i = 0; i < 7; ++i) {
        keys.push_back(prefix + "list-" + std::to_string(i));
        BOOST_TEST_REQUIRE(run(c->put_object({bucket, keys.back()}, bytes(10, static_cast<unsigned>(i)))).has_value());
    }
    // Pages of 3 keys: the continuation token carries the listing through.
    std::vector<std::string> seen;
    std::string token;
    int pages = 0;
    do {
        const auto page = run(c->list_objects_v2(bucket, prefix + "list-", token, 3));
        BOOST_TEST_REQUIRE(page.has_value(), page.error().to_string());
        for (const auto& o : page->objects) {
            seen.push_back(o.key);
            BOOST_TEST(o.size == 10u);
        }
        token = page->is_truncated ? page->next_continuation_token : "";
        ++pages;
    } while (!token.empty() && pages < 10);
    BOOST_TEST(pages == 3);
    BOOST_TEST(seen == keys, boost::test_tools::per_element());

    const auto all = run(c->list_all_objects(bucket, prefix + "list-"));
    BOOST_TEST_REQUIRE(all.has_value());
    BOOST_TEST(all->size() == 7u);

    const auto deleted = run(c->delete_objects(bucket, keys));
    BOOST_TEST_REQUIRE(deleted.has_value(), deleted.error().to_string());
    BOOST_TEST(deleted->errors.empty());
    BOOST_TEST(deleted->deleted.size() == 7u);
    BOOST_TEST(run(c->list_all_objects(bucket, prefix + "list-"))->empty());

    BOOST_TEST_REQUIRE(run(c->put_object(obj("single"), bytes(5, 9))).has_value());
    BOOST_TEST(run(c->delete_object(obj("single"))).has_value());
    BOOST_TEST((run(c->head_object(obj("single"))).error().code == s3_errc::no_such_key));
}

BOOST_AUTO_TEST_CASE(multipart_by_hand_and_its_bookkeeping)
{
    auto c = make_client();
    const auto id = run(c->create_multipart_upload(obj("mpu.bin")));
    BOOST_TEST_REQUIRE(id.has_value(), id.error().to_string());
    const auto p1 = bytes(5 << 20, 3), p2 = bytes(1234, 4);
    const auto part1 = run(c->upload_part(obj("mpu.bin"), *id, 1, p1));
    const auto part2 = run(c->upload_part(obj("mpu.bin"), *id, 2, p2));
    BOOST_TEST_REQUIRE((part1.has_value() && part2.has_value()));

    if (has_list_uploads) {
        const auto live = run(c->list_all_multipart_uploads(bucket, prefix));
        BOOST_TEST_REQUIRE(live.has_value(), live.error().to_string());
        BOOST_TEST_REQUIRE(live->size() == 1u);
        BOOST_TEST(live->front().upload_id == *id);
        BOOST_TEST(live->front().key == prefix + "mpu.bin");
    }
    const auto done = run(c->complete_multipart_upload(obj("mpu.bin"), *id, {*part1, *part2}));
    BOOST_TEST_REQUIRE(done.has_value(), done.error().to_string());
    const auto head = run(c->head_object(obj("mpu.bin")));
    BOOST_TEST(head->size == p1.size() + p2.size());

    // An upload that is aborted leaves nothing (where the server can tell).
    const auto id2 = run(c->create_multipart_upload(obj("aborted.bin")));
    BOOST_TEST_REQUIRE(id2.has_value());
    BOOST_TEST_REQUIRE(run(c->upload_part(obj("aborted.bin"), *id2, 1, p2)).has_value());
    if (has_list_uploads) {
        BOOST_TEST(run(c->abort_multipart_upload(obj("aborted.bin"), *id2)).has_value());
        BOOST_TEST(run(c->list_all_multipart_uploads(bucket, prefix))->empty());
    }
}

BOOST_AUTO_TEST_CASE(transfers_reuse_kept_alive_connections)
{
    auto c = make_client();
    const auto data = bytes(23 << 20, 5);  // 5 parts
    memory_source source(data);
    const auto up = run(c->upload(obj("stream.bin"), source));
    BOOST_TEST_REQUIRE(up.has_value(), up.error().to_string());
    BOOST_TEST(up->parts == 5);
    BOOST_TEST(up->size == data.size());
    memory_sink sink;
    const auto down = run(c->download(obj("stream.bin"), sink));
    BOOST_TEST_REQUIRE(down.has_value(), down.error().to_string());
    BOOST_TEST((sink.data() == data));
    // 5 parts + create + complete, then 5 ranges, over at most `concurrency` (8) connections; moto closes
    // every connection after its answer (Connection: close), so there each request opens one.
    if (server_name != "moto") BOOST_TEST(c->connections_opened() <= 8u);
}

BOOST_AUTO_TEST_SUITE_END()
