// cachestep-wan-proxy: a shaping TCP proxy that makes a loopback S3 server look like S3 over a WAN.
//
// Per accepted connection, two directions (client->upstream, upstream->client), each with its own token bucket
// (--rate bytes/s, --burst bytes), and a first-byte latency per request: the first upstream->client bytes after
// the client sent something are not released before `latency` after the last client->upstream bytes were
// forwarded (a GET: after the request; a PUT: after the last body byte; a TLS handshake: after each flight).
// A new connection starts forwarding only `connect-latency` after it was accepted (the TCP/TLS handshake).
// The shaping is done in user space because these machines' kernels have no netem or fq qdisc. See README.md.

#include <boost/asio.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

struct config {
  std::string listen_host = "127.0.0.1";
  unsigned short port = 0;
  std::string port_file;
  std::string upstream_host;
  std::string upstream_port;
  double up_rate = 90e6;    // client -> upstream, bytes/s per connection; 0 = unlimited
  double down_rate = 90e6;  // upstream -> client
  double burst = 256 * 1024;
  steady::duration latency = 10ms;
  std::optional<steady::duration> connect_latency;  // default: latency
  std::size_t buffer = 256 * 1024;
  int threads = 2;
  steady::duration catch_up = 20ms;
  bool copy = false;  // read/write through a user-space buffer instead of splice(2)
  bool verbose = false;
};

// "90e6", "90MB", "90MiB", "256KiB", "1.5G", optionally ending in "/s". Decimal prefixes are powers of 1000.
std::optional<double> parse_size(std::string_view s) {
  if (s.ends_with("/s")) s.remove_suffix(2);
  std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (end == str.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
  std::string unit(end);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  struct { const char* name; double mult; } const units[] = {
      {"", 1},       {"k", 1e3},          {"K", 1e3},          {"M", 1e6},        {"G", 1e9},
      {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"ki", 1024.0},
  };
  for (auto const& u : units)
    if (unit == u.name) return v * u.mult;
  return std::nullopt;
}

// "10ms", "2.5ms", "500us", "0.01s", "0"; a bare number is milliseconds.
std::optional<steady::duration> parse_duration(std::string_view s) {
  std::string str(s);
  char* end = nullptr;
  double v = std::strtod(str.c_str(), &end);
  if (end == str.c_str() || !std::isfinite(v) || v < 0) return std::nullopt;
  std::string_view unit(end);
  double seconds;
  if (unit.empty() || unit == "ms") seconds = v / 1e3;
  else if (unit == "us") seconds = v / 1e6;
  else if (unit == "s") seconds = v;
  else return std::nullopt;
  return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(seconds));
}

double ms(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// A token bucket in its virtual-time form (GCRA): tat_ is when every byte released so far has drained at `rate`.
// take(n) always succeeds and says when the n bytes may leave: at once while the bucket holds them (at most
// `burst` bytes ahead of the drain), else when it would; a chunk is never split and the average rate is exact.
// An idle source forfeits the time it was idle, as a bucket that is full stops filling. A busy source (its bytes
// were already waiting when the proxy came back to read) keeps up to `catch_up` of time the proxy lost itself
// (descheduled on a busy machine, a late timer), so the cap holds even when the proxy is not run on time.
class shaper {
 public:
  shaper(double rate, double burst, steady::duration catch_up, steady::time_point now)
      : rate_(rate), tau_(seconds_of(rate > 0 ? burst / rate : 0)), catch_up_(catch_up), tat_(now) {}

  steady::time_point take(std::size_t n, steady::time_point at, bool busy) {
    if (rate_ <= 0) return at;
    auto floor = busy ? at - catch_up_ : at;
    if (tat_ < floor) tat_ = floor;
    tat_ += seconds_of(static_cast<double>(n) / rate_);
    return std::max(at, tat_ - tau_);
  }

 private:
  static steady::duration seconds_of(double s) {
    return std::chrono::duration_cast<steady::duration>(std::chrono::duration<double>(s));
  }
  double rate_;
  steady::duration tau_, catch_up_;
  steady::time_point tat_;
};

struct totals {
  std::atomic<std::uint64_t> connections{0}, active{0}, requests{0}, up_bytes{0}, down_bytes{0}, failed_connects{0};
};

class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tcp::socket client, config const& cfg, tcp::resolver::results_type const& upstream, totals& t,
             std::uint64_t id)
      : cfg_(cfg), upstream_eps_(upstream), totals_(t), id_(id), accepted_(steady::now()),
        client_(std::move(client)), upstream_(client_.get_executor()), setup_timer_(client_.get_executor()),
        up_(client_, upstream_, cfg, cfg.up_rate, accepted_), down_(upstream_, client_, cfg, cfg.down_rate, accepted_) {}

  void start() {
    ++totals_.active;
    asio::async_connect(upstream_, upstream_eps_, [self = shared_from_this()](boost::system::error_code ec, tcp::endpoint const&) {
      self->on_connected(ec);
    });
  }

  ~connection() {
    --totals_.active;
    if (cfg_.verbose) {
      double secs = std::chrono::duration<double>(steady::now() - accepted_).count();
      std::fprintf(stderr, "conn %llu: %.3f s, %llu requests, up %llu B in %llu chunks, down %llu B in %llu chunks\n",
                   static_cast<unsigned long long>(id_), secs, static_cast<unsigned long long>(requests_),
                   static_cast<unsigned long long>(up_.bytes), static_cast<unsigned long long>(up_.chunks),
                   static_cast<unsigned long long>(down_.bytes), static_cast<unsigned long long>(down_.chunks));
    }
  }

 private:
  // One direction. Bytes move either by splice(2) (socket -> pipe -> socket: the kernel moves page references,
  // the proxy copies nothing) or, with --copy or when no pipe could be made, by read/write through `buf`.
  struct direction {
    direction(tcp::socket& from_, tcp::socket& to_, config const& cfg, double rate, steady::time_point now)
        : from(from_), to(to_), bucket(rate, cfg.burst, cfg.catch_up, now), timer(from_.get_executor()) {
      if (!cfg.copy) open_pipe(cfg.buffer);
      if (pipe_r < 0) buf.reset(new char[cfg.buffer]);
    }
    ~direction() {
      if (pipe_r >= 0) ::close(pipe_r);
      if (pipe_w >= 0) ::close(pipe_w);
    }
    direction(direction const&) = delete;
    direction& operator=(direction const&) = delete;

    void open_pipe(std::size_t size) {
      int fds[2];
      if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return;
      pipe_r = fds[0];
      pipe_w = fds[1];
      ::fcntl(pipe_w, F_SETPIPE_SZ, static_cast<int>(size));  // may be refused above pipe-max-size: keep the default
      int cap = ::fcntl(pipe_w, F_GETPIPE_SZ);
      pipe_cap = cap > 0 ? static_cast<std::size_t>(cap) : 65536;
    }

    tcp::socket& from;
    tcp::socket& to;
    std::unique_ptr<char[]> buf;  // copy mode
    int pipe_r = -1, pipe_w = -1;  // splice mode
    std::size_t pipe_cap = 0;
    std::size_t in_pipe = 0;  // bytes spliced in, not yet out
    shaper bucket;
    asio::steady_timer timer;
    std::uint64_t bytes = 0;
    std::uint64_t chunks = 0;
    bool eof = false;
  };

  void on_connected(boost::system::error_code ec) {
    if (ec) {
      ++totals_.failed_connects;
      std::fprintf(stderr, "conn %llu: connect to upstream failed: %s\n", static_cast<unsigned long long>(id_),
                   ec.message().c_str());
      close();
      return;
    }
    boost::system::error_code ignored;
    client_.set_option(tcp::no_delay(true), ignored);
    upstream_.set_option(tcp::no_delay(true), ignored);
    client_.non_blocking(true, ignored);  // reads never wait in place; splice(2) honours O_NONBLOCK only
    upstream_.non_blocking(true, ignored);
    client_.native_non_blocking(true, ignored);
    upstream_.native_non_blocking(true, ignored);
    auto ready = accepted_ + cfg_.connect_latency.value_or(cfg_.latency);
    if (ready <= steady::now()) {
      try_read(up_, true);
      try_read(down_, true);
      return;
    }
    setup_timer_.expires_at(ready);
    setup_timer_.async_wait([self = shared_from_this()](boost::system::error_code wec) {
      if (wec || self->closed_) return;
      self->try_read(self->up_, true);
      self->try_read(self->down_, true);
    });
  }

  // Reads the next chunk: at once when the source has bytes waiting (busy), else once it becomes readable.
  void try_read(direction& d, bool waited) {
    if (closed_) return;
    boost::system::error_code ec;
    std::size_t n = 0;
    if (d.pipe_r >= 0) {
      ssize_t r;
      do r = ::splice(d.from.native_handle(), nullptr, d.pipe_w, nullptr, d.pipe_cap, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      while (r < 0 && errno == EINTR);
      if (r > 0) n = d.in_pipe = static_cast<std::size_t>(r);
      else if (r == 0) ec = asio::error::eof;
      else if (errno == EAGAIN) ec = asio::error::would_block;
      else ec.assign(errno, boost::system::system_category());
    } else {
      n = d.from.read_some(asio::buffer(d.buf.get(), cfg_.buffer), ec);  // non_blocking(true): no wait here
    }
    if (ec == asio::error::would_block) {
      d.from.async_wait(tcp::socket::wait_read, [self = shared_from_this(), &d](boost::system::error_code wec) {
        if (self->closed_) return;
        if (wec) {
          self->close();
          return;
        }
        self->try_read(d, true);
      });
      return;
    }
    on_read(d, ec, n, !waited);
  }

  void on_read(direction& d, boost::system::error_code ec, std::size_t n, bool busy) {
    if (ec) {
      if (ec == asio::error::eof) {  // half-close: pass it on, keep the other direction going
        d.eof = true;
        boost::system::error_code ignored;
        d.to.shutdown(tcp::socket::shutdown_send, ignored);
        if (up_.eof && down_.eof) close();
      } else {
        close();
      }
      return;
    }
    ++d.chunks;
    auto now = steady::now();
    auto at = now;
    if (&d == &down_ && request_pending_) {  // the first bytes of a response
      request_pending_ = false;
      at = std::max(now, request_sent_ + cfg_.latency);
      busy = false;
    }
    auto send_at = d.bucket.take(n, at, busy);
    if (send_at <= now) {
      write(d, n);
      return;
    }
    d.timer.expires_at(send_at);
    d.timer.async_wait([self = shared_from_this(), &d, n](boost::system::error_code wec) {
      if (wec || self->closed_) return;
      self->write(d, n);
    });
  }

  void write(direction& d, std::size_t n) {
    if (&d == &up_) {  // stamped before the write: the response cannot arrive before its request was sent
      if (!request_pending_) {
        ++requests_;
        ++totals_.requests;
      }
      request_pending_ = true;
      request_sent_ = steady::now();
    }
    if (d.pipe_r >= 0) {
      splice_out(d);
      return;
    }
    asio::async_write(d.to, asio::buffer(d.buf.get(), n),
                      [self = shared_from_this(), &d](boost::system::error_code ec, std::size_t written) {
                        if (self->closed_) return;
                        if (ec) {
                          self->close();
                          return;
                        }
                        self->count(d, written);
                        self->try_read(d, false);
                      });
  }

  void splice_out(direction& d) {
    while (d.in_pipe > 0) {
      auto n = ::splice(d.pipe_r, nullptr, d.to.native_handle(), nullptr, d.in_pipe, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        d.in_pipe -= static_cast<std::size_t>(n);
        count(d, static_cast<std::size_t>(n));
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else if (n < 0 && errno == EAGAIN) {  // the socket's send buffer is full
        d.to.async_wait(tcp::socket::wait_write, [self = shared_from_this(), &d](boost::system::error_code ec) {
          if (self->closed_) return;
          if (ec) {
            self->close();
            return;
          }
          self->splice_out(d);
        });
        return;
      } else {
        close();
        return;
      }
    }
    // Posted, not called: a source that always has bytes must not recurse, nor keep this thread to itself.
    asio::post(client_.get_executor(), [self = shared_from_this(), &d] { self->try_read(d, false); });
  }

  void count(direction& d, std::size_t n) {
    d.bytes += n;
    (&d == &up_ ? totals_.up_bytes : totals_.down_bytes) += n;
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    setup_timer_.cancel();
    up_.timer.cancel();
    down_.timer.cancel();
    client_.close(ignored);
    upstream_.close(ignored);
  }

  config const& cfg_;
  tcp::resolver::results_type const& upstream_eps_;
  totals& totals_;
  std::uint64_t id_;
  steady::time_point accepted_;
  tcp::socket client_;
  tcp::socket upstream_;
  asio::steady_timer setup_timer_;
  direction up_;
  direction down_;
  bool request_pending_ = false;  // client bytes were forwarded since the last response bytes were released
  steady::time_point request_sent_{};
  std::uint64_t requests_ = 0;
  bool closed_ = false;
};

class server {
 public:
  server(asio::io_context& ioc, config const& cfg, tcp::resolver::results_type upstream, tcp::endpoint listen)
      : ioc_(ioc), cfg_(cfg), upstream_(std::move(upstream)), acceptor_(asio::make_strand(ioc)) {
    acceptor_.open(listen.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(listen);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  totals& stats() { return totals_; }

  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](boost::system::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto id = ++totals_.connections;
        std::make_shared<connection>(std::move(socket), cfg_, upstream_, totals_, id)->start();
      } else {
        std::fprintf(stderr, "accept: %s\n", ec.message().c_str());
      }
      accept();
    });
  }

  void stop() {
    asio::post(acceptor_.get_executor(), [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
    });
  }

 private:
  asio::io_context& ioc_;
  config const& cfg_;
  tcp::resolver::results_type upstream_;
  tcp::acceptor acceptor_;
  totals totals_;
};

const char* const usage_text =
    "usage: cachestep-wan-proxy --upstream HOST:PORT [options]\n"
    "A shaping TCP proxy: per-connection rate caps and per-request first-byte latency (a WAN in user space).\n"
    "  --upstream HOST:PORT     where to forward each connection (required)\n"
    "  --listen HOST            address to listen on (default 127.0.0.1)\n"
    "  --port N                 port to listen on (default 0: pick one); prints 'listening on HOST:N'\n"
    "  --port-file FILE         also write the port to FILE (atomically) once listening\n"
    "  --rate R                 bytes/s per connection and direction, e.g. 90e6, 90MB, 85MiB; 0 = unlimited\n"
    "                           (default 90e6: S3's ~90 MB/s per connection)\n"
    "  --up-rate R              client->upstream only (default: --rate)\n"
    "  --down-rate R            upstream->client only (default: --rate)\n"
    "  --burst B                token bucket depth per direction (default 256KiB)\n"
    "  --catch-up D             while a source has bytes waiting, time the proxy itself lost (not scheduled,\n"
    "                           late timer) is made up for, up to D (default 20ms; 0 = a plain bucket)\n"
    "  --latency D              first-byte latency per request: the first response bytes after client bytes\n"
    "                           are held until D after those were forwarded (default 10ms; 0 = none)\n"
    "  --connect-latency D      delay before a new connection starts forwarding (default: --latency)\n"
    "  --buffer B               read/write buffer per direction (default 256KiB)\n"
    "  --threads N              I/O threads (default 2)\n"
    "  --copy                   move bytes with read/write through a buffer instead of splice(2)\n"
    "  -v, --verbose            a line per connection on stderr when it closes\n"
    "Durations: 10ms, 500us, 0.01s; a bare number is milliseconds. Sizes: 90e6, 90MB, 90MiB, 256KiB.\n"
    "SIGINT/SIGTERM: stop, print totals and the process's CPU time on stderr.\n";

[[noreturn]] void usage_error(std::string const& msg) {
  std::fprintf(stderr, "cachestep-wan-proxy: %s\n%s", msg.c_str(), usage_text);
  std::exit(2);
}

config parse_args(int argc, char** argv) {
  config cfg;
  std::optional<double> rate, up_rate, down_rate;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string_view value;
    bool has_inline = false;
    if (arg.starts_with("--")) {
      if (auto eq = arg.find('='); eq != std::string_view::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_inline = true;
      }
    }
    auto next = [&]() -> std::string_view {
      if (has_inline) return value;
      if (i + 1 >= argc) usage_error(std::string(arg) + " needs a value");
      return argv[++i];
    };
    auto size_arg = [&](std::string_view what) {
      auto v = next();
      auto s = parse_size(v);
      if (!s) usage_error(std::string(what) + ": not a size: " + std::string(v));
      return *s;
    };
    auto duration_arg = [&](std::string_view what) {
      auto v = next();
      auto d = parse_duration(v);
      if (!d) usage_error(std::string(what) + ": not a duration: " + std::string(v));
      return *d;
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(usage_text, stdout);
      std::exit(0);
    } else if (arg == "--upstream") {
      std::string up(next());
      auto colon = up.rfind(':');
      if (colon == std::string::npos || colon == 0 || colon + 1 == up.size()) usage_error("--upstream: HOST:PORT");
      cfg.upstream_host = up.substr(0, colon);
      cfg.upstream_port = up.substr(colon + 1);
      if (cfg.upstream_host.size() > 2 && cfg.upstream_host.front() == '[' && cfg.upstream_host.back() == ']')
        cfg.upstream_host = cfg.upstream_host.substr(1, cfg.upstream_host.size() - 2);
    } else if (arg == "--listen") {
      cfg.listen_host = std::string(next());
    } else if (arg == "--port") {
      auto v = std::string(next());
      char* end = nullptr;
      long p = std::strtol(v.c_str(), &end, 10);
      if (*end || p < 0 || p > 65535) usage_error("--port: not a port: " + v);
      cfg.port = static_cast<unsigned short>(p);
    } else if (arg == "--port-file") {
      cfg.port_file = std::string(next());
    } else if (arg == "--rate") {
      rate = size_arg(arg);
    } else if (arg == "--up-rate") {
      up_rate = size_arg(arg);
    } else if (arg == "--down-rate") {
      down_rate = size_arg(arg);
    } else if (arg == "--burst") {
      cfg.burst = size_arg(arg);
    } else if (arg == "--catch-up") {
      cfg.catch_up = duration_arg(arg);
    } else if (arg == "--latency") {
      cfg.latency = duration_arg(arg);
    } else if (arg == "--connect-latency") {
      cfg.connect_latency = duration_arg(arg);
    } else if (arg == "--buffer") {
      auto b = size_arg(arg);
      if (b < 1024 || b > 64.0 * 1048576) usage_error("--buffer: between 1KiB and 64MiB");
      cfg.buffer = static_cast<std::size_t>(b);
    } else if (arg == "--threads") {
      auto v = std::string(next());
      char* end = nullptr;
      long t = std::strtol(v.c_str(), &end, 10);
      if (*end || t < 1 || t > 256) usage_error("--threads: 1..256");
      cfg.threads = static_cast<int>(t);
    } else if (arg == "--copy") {
      cfg.copy = true;
    } else if (arg == "-v" || arg == "--verbose") {
      cfg.verbose = true;
    } else {
      usage_error("unknown argument: " + std::string(argv[i]));
    }
  }
  if (cfg.upstream_host.empty()) usage_error("--upstream is required");
  if (rate) cfg.up_rate = cfg.down_rate = *rate;
  if (up_rate) cfg.up_rate = *up_rate;
  if (down_rate) cfg.down_rate = *down_rate;
  if (cfg.burst < 1) cfg.burst = 1;
  return cfg;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](timeval t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return tv(ru.ru_utime) + tv(ru.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  config cfg = parse_args(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);  // a peer gone while we splice to it: EPIPE, not death
  try {
    asio::io_context ioc(cfg.threads);
    tcp::resolver resolver(ioc);
    auto upstream = resolver.resolve(cfg.upstream_host, cfg.upstream_port);
    auto listen_addr = asio::ip::make_address(cfg.listen_host);
    server srv(ioc, cfg, upstream, tcp::endpoint(listen_addr, cfg.port));
    auto port = srv.local_endpoint().port();

    if (!cfg.port_file.empty()) {
      auto tmp = cfg.port_file + ".tmp";
      {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) throw std::runtime_error("cannot write " + tmp);
      }
      if (std::rename(tmp.c_str(), cfg.port_file.c_str()) != 0) throw std::runtime_error("cannot rename " + tmp);
    }
    std::printf("listening on %s:%u\n", listen_addr.to_string().c_str(), static_cast<unsigned>(port));
    std::fflush(stdout);
    std::fprintf(stderr,
                 "cachestep-wan-proxy: upstream %s:%s, rate up %.4g / down %.4g B/s per connection, burst %.0f B, "
                 "catch-up %.3g ms, latency %.3g ms, connect latency %.3g ms, buffer %zu B, %d threads, %s\n",
                 cfg.upstream_host.c_str(), cfg.upstream_port.c_str(), cfg.up_rate, cfg.down_rate, cfg.burst,
                 ms(cfg.catch_up), ms(cfg.latency), ms(cfg.connect_latency.value_or(cfg.latency)), cfg.buffer, cfg.threads,
                 cfg.copy ? "read/write" : "splice");

    auto started = steady::now();
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](boost::system::error_code ec, int) {
      if (ec) return;
      srv.stop();
      ioc.stop();
    });
    srv.accept();

    std::vector<std::thread> pool;
    for (int i = 1; i < cfg.threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    for (auto& t : pool) t.join();

    auto& s = srv.stats();
    double secs = std::chrono::duration<double>(steady::now() - started).count();
    double bytes = static_cast<double>(s.up_bytes + s.down_bytes);
    double cpu = cpu_seconds();
    std::fprintf(stderr,
                 "cachestep-wan-proxy: %.1f s, %llu connections (%llu failed to connect upstream), %llu requests, "
                 "up %llu B, down %llu B, CPU %.2f s (%.3f s per GB)\n",
                 secs, static_cast<unsigned long long>(s.connections.load()),
                 static_cast<unsigned long long>(s.failed_connects.load()),
                 static_cast<unsigned long long>(s.requests.load()), static_cast<unsigned long long>(s.up_bytes.load()),
                 static_cast<unsigned long long>(s.down_bytes.load()), cpu, bytes > 0 ? cpu / (bytes / 1e9) : 0.0);
    // Connections still open are dropped with the process (ioc.stop() left their handlers pending).
    std::fflush(stderr);
    std::_Exit(0);
  } catch (std::exception const& e) {
    std::fprintf(stderr, "cachestep-wan-proxy: %s\n", e.what());
    return 1;
  }
}
