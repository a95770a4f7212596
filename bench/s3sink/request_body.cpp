// Receiving request bodies. A Content-Length body is read with plain socket reads straight into the memory its
// sink hands out (object memory for PUTs and parts, a string for XML), waking the thread only for a batch of bytes
// (SO_RCVLOWAT); a Transfer-Encoding: chunked body goes through Beast's parser; an aws-chunked body through the
// decoder in aws_chunked.cpp. Then what a stored body needs before it is kept: the --verify-payload checks and its
// ETag (--md5). The why of each choice is in README.md ("Bodies", "ETags and checksums").

#include "connection.hpp"
#include "digest.hpp"
#include "text.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace s3sink {

namespace {
constexpr std::uint64_t max_single_put = std::uint64_t{5} << 30;  // S3: 5 GiB for a PutObject or a part
}

void connection::set_low_water(std::size_t n)
{
    int want = static_cast<int>(std::max<std::size_t>(n, 1));
    if (want == low_water_) return;
    boost::system::error_code ignored;
    stream_.socket().set_option(asio::socket_base::receive_low_watermark(want), ignored);
    low_water_ = want;
}

bool connection::fail_body()
{
    close_after_ = true;
    return false;
}

asio::awaitable<bool> connection::read_body(body_sink& sink)
{
    body_started_ = true;
    if (!sent_continue_ && lower_eq(header("Expect"), "100-continue")) {
        sent_continue_ = true;
        static constexpr std::string_view cont = "HTTP/1.1 100 Continue\r\n\r\n";
        stream_.expires_after(std::chrono::seconds(30));
        auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(cont.data(), cont.size()), tok);
        if (ec) co_return fail_body();
    }
    const auto body_timeout = srv_.opt.idle_timeout;
    if (parser_->chunked()) {
        while (!parser_->is_done()) {
            auto s = sink.space();
            if (s.empty()) co_return fail_body();
            parser_->get().body().data = s.data();
            parser_->get().body().size = s.size();
            parser_->get().body().more = true;
            stream_.expires_after(body_timeout);
            auto [ec, n] = co_await http::async_read_some(stream_, buffer_, *parser_, tok);
            if (ec == http::error::need_buffer) ec = {};
            if (ec) co_return fail_body();
            std::size_t got = s.size() - parser_->get().body().size;
            srv_.bytes_in += got;
            if (got > 0 && !sink.commit(got)) co_return fail_body();
        }
        stream_.expires_never();
        body_done_ = true;
        co_return sink.finish();
    }
    std::uint64_t left = parser_->content_length().value_or(0);
    // First what Beast read beyond the header, then from the socket.
    while (left > 0 && buffer_.size() > 0) {
        auto s = sink.space();
        if (s.empty()) co_return fail_body();
        std::size_t k = static_cast<std::size_t>(std::min<std::uint64_t>({left, buffer_.size(), s.size()}));
        std::memcpy(s.data(), buffer_.data().data(), k);
        buffer_.consume(k);
        left -= k;
        srv_.bytes_in += k;
        if (!sink.commit(k)) co_return fail_body();
    }
    while (left > 0) {
        auto s = sink.space();
        if (s.empty()) co_return fail_body();
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, s.size()));
        // Wake up for a good batch of bytes, never more than the body still owes.
        set_low_water(std::min<std::size_t>(want, 1 << 20));
        stream_.expires_after(body_timeout);
        auto [ec, n] = co_await stream_.async_read_some(asio::buffer(s.data(), want), tok);
        if (!ec) {
            left -= n;
            srv_.bytes_in += n;
        }
        if (ec || !sink.commit(n)) {
            set_low_water(1);
            co_return fail_body();
        }
    }
    set_low_water(1);
    stream_.expires_never();
    body_done_ = true;
    co_return sink.finish();
}

asio::awaitable<bool> connection::read_string_body(std::string& out, std::size_t max)
{
    string_sink s(max);
    if (!co_await read_body(s)) {
        if (s.error().status) co_await send_body_error(s.error());
        else close_after_ = true;
        co_return false;
    }
    out = std::move(s.str());
    co_return true;
}

asio::awaitable<std::optional<blob>> connection::read_object_body()
{
    const std::string sha = header("x-amz-content-sha256");
    const bool chunked = starts_with(sha, "STREAMING-") || header("Content-Encoding").find("aws-chunked") != std::string::npos;
    std::uint64_t expected = parser_->content_length().value_or(0);
    bool known = parser_->content_length().has_value() && !parser_->chunked();
    std::optional<std::uint64_t> decoded_length;
    if (chunked) {
        std::string d = header("x-amz-decoded-content-length");
        if (d.empty()) {
            co_await send_error(411, "MissingContentLength", "aws-chunked without x-amz-decoded-content-length");
            co_return std::nullopt;
        }
        decoded_length = std::strtoull(d.c_str(), nullptr, 10);
        expected = *decoded_length;
        known = true;
    }
    if (known && expected > max_single_put) {
        co_await send_error(400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size (5 GiB)");
        co_return std::nullopt;
    }
    if (known && srv_.mem.reserved() - srv_.mem.in_objects() + srv_.mem.limit() < srv_.mem.reserved() + expected) {
        // reserved - in_objects is the free pool; limit - reserved is what may still be allocated.
        co_await send_error(507, "InsufficientStorage",
                            "the sink's --memory-limit (" + std::to_string(srv_.mem.limit() >> 20) +
                                " MiB) leaves no room for this body");
        co_return std::nullopt;
    }
    blob_sink bs(srv_.mem, expected, known);
    std::optional<aws_chunked_decoder> decoder;
    body_sink* top = &bs;
    if (chunked) {
        srv_.aws_chunked_bodies++;
        aws_chunked_ = true;
        decoder.emplace(bs);
        top = &*decoder;
        if (srv_.opt.verify_payload && chunk_signing_ && starts_with(sha, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"))
            decoder->verify_signatures(*chunk_signing_);
    }
    if (!co_await read_body(*top)) {
        if (top->error().status) co_await send_body_error(top->error());
        else if (bs.error().status) co_await send_body_error(bs.error());
        else close_after_ = true;
        co_return std::nullopt;
    }
    if (decoder && decoder->decoded() != *decoded_length) {
        co_await send_error(400, "IncompleteBody",
                            "aws-chunked body decoded to " + std::to_string(decoder->decoded()) +
                                " bytes, x-amz-decoded-content-length says " + std::to_string(*decoded_length));
        co_return std::nullopt;
    }
    blob b = bs.take();
    if (srv_.opt.verify_payload) {
        if (auto err = check_payload(b)) {
            co_await send_error(400, err->substr(0, err->find(':')), err->substr(err->find(':') + 2));
            co_return std::nullopt;
        }
    }
    co_return b;
}

asio::awaitable<std::optional<tagged_body>> connection::read_tagged_body(bool is_part)
{
    auto b = co_await read_object_body();
    if (!b) co_return std::nullopt;
    tagged_body t;
    t.etag = etag_for(*b, is_part);
    if (srv_.opt.md5 == md5_mode::always && !header("Content-MD5").empty() &&
        content_md5_hex(header("Content-MD5")) != t.etag) {
        co_await send_error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.");
        co_return std::nullopt;
    }
    t.data = std::move(*b);
    co_return t;
}

std::optional<std::string> connection::check_payload(const blob& b)
{
    const std::string sha = header("x-amz-content-sha256");
    if (sha.size() == 64 && sha.find_first_not_of("0123456789abcdef") == std::string::npos) {
        if (blob_digest(EVP_sha256(), b) != sha)
            return std::string("XAmzContentSHA256Mismatch: The provided 'x-amz-content-sha256' header does not match what was computed.");
    }
    const std::string md5 = header("Content-MD5");
    if (!md5.empty()) {
        std::string want = content_md5_hex(md5);
        if (want.empty()) return std::string("InvalidDigest: The Content-MD5 you specified was invalid.");
        if (blob_digest(EVP_md5(), b) != want)
            return std::string("BadDigest: The Content-MD5 you specified did not match what we received.");
    }
    return std::nullopt;
}

std::string connection::etag_for(const blob& b, bool is_part)
{
    const std::string md5 = header("Content-MD5");
    if (srv_.opt.md5 == md5_mode::always) return blob_digest(EVP_md5(), b);  // Content-MD5 checked by the caller
    if (!md5.empty()) {
        std::string h = content_md5_hex(md5);
        if (!h.empty()) return h;
    }
    if (srv_.opt.md5 == md5_mode::auto_ && !is_part) return blob_digest(EVP_md5(), b);
    return fast_etag();
}

}  // namespace s3sink
