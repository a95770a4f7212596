// embed_example: the cache-step engine (cachestep::engine) used as a library.
//
//   embed_example [--endpoint URL] --bucket BUCKET --key KEY FILE
//
// Uploads FILE to s3://BUCKET/KEY, HEADs it, downloads it back and compares the bytes, lists the key's prefix,
// deletes the object and checks that it is gone; prints each step. Exits 0 only if every step succeeded.
// Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), the region from
// AWS_REGION, a CA bundle from AWS_CA_BUNDLE; without --endpoint, AWS_ENDPOINT_URL_S3 or AWS's own endpoint.

#include <cachestep/engine/client.hpp>
#include <cachestep/engine/environment.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <fcntl.h>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
namespace engine = cachestep::engine;

namespace {

constexpr const char* usage =
    "usage: embed_example [--endpoint URL] --bucket BUCKET --key KEY FILE\n"
    "  Uploads FILE to s3://BUCKET/KEY, HEADs it, downloads it and compares the bytes, lists the key's\n"
    "  prefix, then deletes it. Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN);\n"
    "  region: AWS_REGION; CA bundle: AWS_CA_BUNDLE; endpoint without --endpoint: AWS_ENDPOINT_URL_S3.\n";

struct options {
    std::string endpoint;
    std::string bucket;
    std::string key;
    std::string file;
};

enum class parsed { run, help, bad };

parsed parse_arguments(int argc, char** argv, options& out)
{
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") return parsed::help;
        if (arg == "--endpoint" || arg == "--bucket" || arg == "--key") {
            if (i + 1 == argc) {
                std::cerr << "embed_example: " << arg << " needs a value\n" << usage;
                return parsed::bad;
            }
            std::string& field = arg == "--endpoint" ? out.endpoint : arg == "--bucket" ? out.bucket : out.key;
            field = argv[++i];
        } else if (arg.starts_with("-") || !out.file.empty()) {
            std::cerr << "embed_example: unexpected argument '" << arg << "'\n" << usage;
            return parsed::bad;
        } else {
            out.file = arg;
        }
    }
    if (out.bucket.empty() || out.key.empty() || out.file.empty()) {
        std::cerr << "embed_example: --bucket, --key and FILE are required\n" << usage;
        return parsed::bad;
    }
    return parsed::run;
}

bool report_failure(const char* step, const engine::error_info& error)
{
    // to_string(): operation, error code, HTTP status, the server's message and request id, attempts made.
    std::cerr << "embed_example: " << step << " failed: " << error.to_string() << "\n";
    return false;
}

bool report_failure(const char* step, const std::string& why)
{
    std::cerr << "embed_example: " << step << " failed: " << why << "\n";
    return false;
}

std::vector<char> read_file(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The whole round trip as one coroutine. Every client member returns an awaitable: nothing is sent until it is
// co_await-ed. The operation then runs on the client's own strand and this coroutine resumes on its own
// executor (here the io_context's, run by main's thread) with a result<T>: the value, or an error_info.
//
// g++ 12 (Debian 12's compiler) can destroy twice a temporary built inside a co_await expression, so every
// argument of a co_await-ed call is a named object. That includes defaulted parameters: upload()'s
// `upload_options options = {}` left out is such a temporary (a double free under ASan), so it is passed
// explicitly. The coroutine's own parameters are references: main owns what they refer to.
asio::awaitable<bool> round_trip(engine::client& client, const options& opt, int fd)
{
    const engine::object_ref object{opt.bucket, opt.key};
    const std::string where = "s3://" + opt.bucket + "/" + opt.key;

    // 1. Upload. The source is read on a worker thread the upload owns, so it may block (a file, a pipe); it
    //    must stay alive until the upload completes. A stream longer than one part goes as a multipart upload
    //    with parts in flight in parallel; if it fails (or cancel() is called), the multipart upload is
    //    aborted before upload() completes, so nothing is left under the key.
    engine::fd_source source(fd, opt.file);
    const engine::upload_options upload_settings;  // content type, x-amz-meta-*; named, not defaulted (above)
    const auto uploaded = co_await client.upload(object, source, upload_settings);
    if (!uploaded) co_return report_failure("upload", uploaded.error());
    std::cout << "uploaded   " << uploaded->size << " bytes to " << where << " ("
              << (uploaded->parts ? std::to_string(uploaded->parts) + " parts" : std::string("one PutObject"))
              << ", ETag " << uploaded->etag << ")\n";

    // 2. HEAD: what the server stored.
    const auto head = co_await client.head_object(object);
    if (!head) co_return report_failure("HEAD", head.error());
    if (head->size != uploaded->size)
        co_return report_failure("HEAD", "the server holds " + std::to_string(head->size) + " bytes");
    std::cout << "HEAD       " << head->size << " bytes, ETag " << head->etag << ", Last-Modified "
              << head->last_modified << "\n";

    // 3. Download into memory (ranged GETs in parallel, delivered to the sink in order) and compare. A
    //    memory_sink suits small objects; fd_sink, or a byte_sink of your own, streams big ones.
    engine::memory_sink sink;
    const auto downloaded = co_await client.download(object, sink);
    if (!downloaded) co_return report_failure("download", downloaded.error());
    // Reading the file here blocks this thread, which is acceptable only because nothing else runs on it.
    if (sink.data() != read_file(opt.file))
        co_return report_failure("download", "the bytes downloaded differ from " + opt.file);
    std::cout << "downloaded " << downloaded->size << " bytes in " << downloaded->ranges
              << " ranged GET(s): identical to " << opt.file << "\n";

    // 4. List the key's "folder" (every page; the key itself when it has no '/').
    const auto slash = opt.key.rfind('/');
    const std::string prefix = slash == std::string::npos ? opt.key : opt.key.substr(0, slash + 1);
    const auto listed = co_await client.list_all_objects(opt.bucket, prefix);
    if (!listed) co_return report_failure("list", listed.error());
    const bool found = std::any_of(listed->begin(), listed->end(), [&](const engine::listed_object& o) {
        return o.key == opt.key && o.size == uploaded->size;
    });
    if (!found) co_return report_failure("list", opt.key + " is not listed under '" + prefix + "'");
    std::cout << "listed     " << listed->size() << " object(s) under '" << prefix << "', " << opt.key
              << " among them\n";

    // 5. Delete, then HEAD again: the answer must now be NoSuchKey. Errors are error_codes, comparable with
    //    the engine's enums (s3_errc: what the server said; engine_errc: what the client decided).
    const auto deleted = co_await client.delete_object(object);
    if (!deleted) co_return report_failure("delete", deleted.error());
    const auto gone = co_await client.head_object(object);
    if (gone) co_return report_failure("delete", where + " is still there");
    if (gone.error().code != engine::s3_errc::no_such_key) co_return report_failure("HEAD after delete", gone.error());
    std::cout << "deleted    " << where << " (HEAD now answers NoSuchKey)\n";
    co_return true;
}

}  // namespace

int main(int argc, char** argv)
{
    options opt;
    switch (parse_arguments(argc, argv, opt)) {
    case parsed::help: std::cout << usage; return 0;
    case parsed::bad: return 2;
    case parsed::run: break;
    }

    const int fd = ::open(opt.file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        std::cerr << "embed_example: cannot open " << opt.file << ": " << std::strerror(errno) << "\n";
        return 1;
    }

    // Explicit settings first; apply_environment() fills only what is still empty (credentials, region,
    // endpoint, CA bundle from the AWS_* variables). create() checks the whole configuration.
    engine::client_config config;
    config.endpoint.url = opt.endpoint;
    config.user_agent = "embed_example";
    engine::apply_environment(config);

    // One io_context, run below by this thread. It could be run by several threads: the client serialises
    // its own work on a strand, and each awaiting coroutine resumes on its own executor.
    asio::io_context io;
    auto created = engine::client::create(io.get_executor(), std::move(config));
    if (!created) {
        std::cerr << "embed_example: " << created.error().to_string() << "\n";
        ::close(fd);
        return 1;
    }
    const std::shared_ptr<engine::client> client = *created;

    // Ctrl-C: cancel() is thread-safe and final. Every operation in progress completes with
    // engine_errc::cancelled (an upload aborts its multipart upload first), so the coroutine ends normally.
    asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&client](const boost::system::error_code& ec, int) {
        if (!ec) client->cancel();
    });

    bool succeeded = false;
    asio::co_spawn(io, round_trip(*client, opt, fd), [&](std::exception_ptr e, bool ok) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::cerr << "embed_example: unexpected exception: " << x.what() << "\n";
            }
        }
        succeeded = !e && ok;
        signals.cancel();  // the last pending work: io.run() returns
    });
    io.run();
    ::close(fd);
    std::cout << (succeeded ? "all steps succeeded\n" : "");
    return succeeded ? 0 : 1;
}
