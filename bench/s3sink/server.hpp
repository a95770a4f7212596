#pragma once

#include "auth.hpp"
#include "memory.hpp"
#include "store.hpp"

#include <cachestep/sigv4/signing_key.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace s3sink {

enum class md5_mode {
    auto_,   // PutObject: the client's Content-MD5, else computed; UploadPart: Content-MD5, else a fast ETag
    always,  // every PutObject and UploadPart ETag computed (and Content-MD5 checked): S3-exact, ~1.5 CPU s per GiB
    never,   // Content-MD5 when given, else a fast ETag: no hashing at all
};

struct options {
    std::string host{"127.0.0.1"};
    unsigned short port{0};
    unsigned threads{0};
    std::string access_key{"s3sink"};
    std::string secret_key{"s3sink-secret"};
    std::string bucket{"cache-step-test"};
    std::string region{"us-east-1"};
    std::string env_file;
    std::string pid_file;
    std::string vhost_domain{"localhost"};
    std::uint64_t memory_limit{0};
    std::uint64_t preallocate{0};
    std::uint64_t min_part_size{5u << 20};
    bool no_auth{false};
    bool verify_payload{false};
    md5_mode md5{md5_mode::auto_};
    bool log{false};
    std::chrono::seconds idle_timeout{60};
};

struct server {
    explicit server(const options& o) : opt(o), mem(o.memory_limit), auth{o.access_key, o.secret_key} {}
    options opt;
    memory mem;
    store st;
    auth_config auth;
    cachestep::sigv4::signing_key_cache keys;
    std::atomic<std::uint64_t> requests{0}, bytes_in{0}, bytes_out{0}, connections{0}, aws_chunked_bodies{0};
};

boost::asio::awaitable<void> serve_connection(server& srv, boost::asio::ip::tcp::socket socket);

}  // namespace s3sink
