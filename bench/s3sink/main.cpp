// cachestep-s3sink: a fast in-memory loopback S3 server for benchmarks (see README.md).

#include "server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace s3sink;

namespace {

const char* usage = R"(usage: cachestep-s3sink [options]
An in-memory S3 server on loopback for benchmarks: PUT, multipart, GET with Range, HEAD, ListObjects(V2),
DeleteObjects, CopyObject; SigV4 header signatures checked; aws-chunked bodies decoded.

  --host ADDR            listen address (127.0.0.1)
  --port N               port (0: the kernel picks one; printed as "listening on http://HOST:N")
  --threads N            threads running the one io_context (default: hardware concurrency)
  --access-key K         access key id clients must sign with (s3sink)
  --secret-key S         secret key (s3sink-secret)
  --bucket B             bucket created at start (cache-step-test); clients may create more
  --region R             region written to the env file and returned by GetBucketLocation (us-east-1)
  --env-file FILE        write S3_ENDPOINT, S3_REGION, S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET, ... there
  --pid-file FILE        write the sink's process group id there (as tests/servers/*.pid; start it with
                         setsid so bench/s3_transfer_bench.py --env counts the sink's CPU and nothing else)
  --memory-limit SIZE    memory for object bodies (default: half the machine's RAM); beyond it: 507
  --preallocate SIZE     map and touch this much object memory at start (first-touch page faults cost ~2 CPU s
                         per GiB on this VM: without it the first upload of a benchmark pays them)
  --min-part-size SIZE   smallest non-last multipart part CompleteMultipartUpload accepts (5MiB)
  --md5 auto|always|never  ETags: auto = PutObject MD5 (the client's Content-MD5 when sent, else computed),
                         UploadPart the client's Content-MD5 or a fast random ETag; always = computed for
                         every PUT and part (S3-exact, ~1.5 CPU s per GiB); never = never computed
  --verify-payload       check signed payload SHA-256 (x-amz-content-sha256), Content-MD5 and aws-chunked chunk
                         signatures against the body
  --no-auth              accept requests without checking signatures
  --vhost-domain D       Host: <bucket>.D addresses a bucket virtual-host style (localhost)
  --idle-timeout SEC     close connections idle this long (60)
  --log                  one line per request on stderr
SIZE: bytes, or with K, M, G (KiB, MiB, GiB; also KiB/MiB/GiB).
)";

std::uint64_t parse_size(const std::string& s)
{
    char* end = nullptr;
    double v = std::strtod(s.c_str(), &end);
    std::string unit = end ? end : "";
    std::uint64_t mult = 1;
    if (unit.empty() || unit == "B") mult = 1;
    else if (unit == "K" || unit == "KiB" || unit == "k") mult = 1ull << 10;
    else if (unit == "M" || unit == "MiB") mult = 1ull << 20;
    else if (unit == "G" || unit == "GiB") mult = 1ull << 30;
    else if (unit == "T" || unit == "TiB") mult = 1ull << 40;
    else {
        std::cerr << "cachestep-s3sink: bad size: " << s << "\n";
        std::exit(2);
    }
    if (v < 0) {
        std::cerr << "cachestep-s3sink: bad size: " << s << "\n";
        std::exit(2);
    }
    return static_cast<std::uint64_t>(v * static_cast<double>(mult));
}

options parse(int argc, char** argv)
{
    options o;
    auto need = [&](int& i) -> std::string {
        if (i + 1 >= argc) {
            std::cerr << "cachestep-s3sink: " << argv[i] << " needs a value\n";
            std::exit(2);
        }
        return argv[++i];
    };
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-h" || a == "--help") {
            std::cout << usage;
            std::exit(0);
        } else if (a == "--host") o.host = need(i);
        else if (a == "--port") o.port = static_cast<unsigned short>(std::stoul(need(i)));
        else if (a == "--threads") o.threads = static_cast<unsigned>(std::stoul(need(i)));
        else if (a == "--access-key") o.access_key = need(i);
        else if (a == "--secret-key") o.secret_key = need(i);
        else if (a == "--bucket") o.bucket = need(i);
        else if (a == "--region") o.region = need(i);
        else if (a == "--env-file") o.env_file = need(i);
        else if (a == "--pid-file") o.pid_file = need(i);
        else if (a == "--memory-limit") o.memory_limit = parse_size(need(i));
        else if (a == "--min-part-size") o.min_part_size = parse_size(need(i));
        else if (a == "--preallocate") o.preallocate = parse_size(need(i));
        else if (a == "--vhost-domain") o.vhost_domain = need(i);
        else if (a == "--idle-timeout") o.idle_timeout = std::chrono::seconds(std::stol(need(i)));
        else if (a == "--no-auth") o.no_auth = true;
        else if (a == "--verify-payload") o.verify_payload = true;
        else if (a == "--log") o.log = true;
        else if (a == "--md5") {
            std::string m = need(i);
            if (m == "auto") o.md5 = md5_mode::auto_;
            else if (m == "always") o.md5 = md5_mode::always;
            else if (m == "never") o.md5 = md5_mode::never;
            else {
                std::cerr << "cachestep-s3sink: --md5 auto|always|never\n";
                std::exit(2);
            }
        } else {
            std::cerr << "cachestep-s3sink: unknown argument " << a << "\n" << usage;
            std::exit(2);
        }
    }
    if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
    if (o.memory_limit == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
        o.memory_limit = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page) / 2;
    }
    return o;
}

asio::awaitable<void> accept_loop(server& srv, tcp::acceptor& acceptor)
{
    constexpr auto tok = asio::as_tuple(asio::use_awaitable);
    auto& ctx = static_cast<asio::io_context&>(acceptor.get_executor().context());
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ctx), tok);
        if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            continue;  // EMFILE and the like: keep serving the others
        }
        auto ex = socket.get_executor();
        asio::co_spawn(ex, serve_connection(srv, std::move(socket)), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv)
{
    // "--name=value" forms become "--name value".
    std::vector<std::string> args;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        auto eq = a.find('=');
        if (i > 0 && a.rfind("--", 0) == 0 && eq != std::string::npos) {
            args.push_back(a.substr(0, eq));
            args.push_back(a.substr(eq + 1));
        } else {
            args.push_back(a);
        }
    }
    std::vector<char*> av;
    for (auto& a : args) av.push_back(a.data());
    const options opt = parse(static_cast<int>(av.size()), av.data());

    server srv(opt);  // before the io_context: connections still holding objects go first
    asio::io_context ioc(static_cast<int>(opt.threads));
    {
        std::unique_lock lock(srv.st.mutex);
        srv.st.buckets.try_emplace(opt.bucket, bucket{clock_type::now(), {}});
    }
    if (opt.preallocate > 0) {
        auto t0 = std::chrono::steady_clock::now();
        auto got = srv.mem.preallocate(opt.preallocate);
        std::fprintf(stderr, "cachestep-s3sink: preallocated %" PRIu64 " MiB in %.2f s\n", got >> 20,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    // Before anything says we are up: a SIGTERM right after "listening on" must still stop us cleanly.
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
    tcp::acceptor acceptor(ioc);
    try {
        tcp::endpoint ep(asio::ip::make_address(opt.host), opt.port);
        acceptor.open(ep.protocol());
        acceptor.set_option(tcp::acceptor::reuse_address(true));
        acceptor.bind(ep);
        acceptor.listen(asio::socket_base::max_listen_connections);
    } catch (const std::exception& e) {
        std::cerr << "cachestep-s3sink: cannot listen on " << opt.host << ":" << opt.port << ": " << e.what() << "\n";
        return 1;
    }
    const unsigned short port = acceptor.local_endpoint().port();
    const std::string endpoint = "http://" + opt.host + ":" + std::to_string(port);
    if (!opt.env_file.empty()) {
        const std::string tmp = opt.env_file + ".tmp";
        std::ofstream env(tmp);
        env << "S3_ENDPOINT=" << endpoint << "\n"
            << "S3_REGION=" << opt.region << "\n"
            << "S3_ACCESS_KEY=" << opt.access_key << "\n"
            << "S3_SECRET_KEY=" << opt.secret_key << "\n"
            << "S3_BUCKET=" << opt.bucket << "\n"
            << "S3_VERIFIES_SIGV4=" << (opt.no_auth ? "false" : "true") << "\n"
            << "S3_HAS_LIST_MULTIPART_UPLOADS=true\n";
        env.close();
        if (!env || std::rename(tmp.c_str(), opt.env_file.c_str()) != 0) {
            std::cerr << "cachestep-s3sink: cannot write " << opt.env_file << "\n";
            return 1;
        }
    }
    if (!opt.pid_file.empty()) {
        std::ofstream pid(opt.pid_file);
        pid << getpgrp() << "\n";
        if (!pid) {
            std::cerr << "cachestep-s3sink: cannot write " << opt.pid_file << "\n";
            return 1;
        }
    }
    std::fprintf(stderr, "cachestep-s3sink: %u threads, memory limit %" PRIu64 " MiB, bucket %s, sigv4 %s\n",
                 opt.threads, opt.memory_limit >> 20, opt.bucket.c_str(), opt.no_auth ? "off" : "checked");
    std::printf("listening on %s\n", endpoint.c_str());
    std::fflush(stdout);

    asio::co_spawn(ioc, accept_loop(srv, acceptor), asio::detached);

    std::vector<std::thread> threads;
    for (unsigned i = 1; i < opt.threads; ++i) threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : threads) t.join();
    std::fprintf(stderr,
                 "cachestep-s3sink: stopped after %" PRIu64 " requests, %" PRIu64 " bytes in, %" PRIu64
                 " bytes out, %" PRIu64 " aws-chunked bodies\n",
                 srv.requests.load(), srv.bytes_in.load(), srv.bytes_out.load(), srv.aws_chunked_bodies.load());
    return 0;
}
