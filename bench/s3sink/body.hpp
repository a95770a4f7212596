#pragma once
// Where a request body goes: space() hands out memory to receive into (straight from the socket), commit(n)
// says n bytes of it were filled. Plain bodies go into a blob_writer (object memory) or a string (XML);
// aws-chunked bodies through a decoder that strips the framing on the way.

#include "memory.hpp"

#include <cstdint>
#include <array>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace s3sink {

struct body_error {
    unsigned status{0};  // 0: none
    std::string code, message;
};

class body_sink {
public:
    virtual ~body_sink() = default;
    virtual std::span<char> space() = 0;    // empty: out of memory (error() says so)
    virtual bool commit(std::size_t n) = 0;  // false: malformed body (error() says why)
    virtual bool finish() { return true; }   // end of the body: false when it was incomplete
    const body_error& error() const { return error_; }

    bool write(const char* p, std::size_t n)
    {
        while (n > 0) {
            auto s = space();
            if (s.empty()) return false;
            std::size_t k = std::min(n, s.size());
            std::memcpy(s.data(), p, k);
            if (!commit(k)) return false;
            p += k;
            n -= k;
        }
        return true;
    }

protected:
    body_error error_;
    void fail(unsigned status, std::string code, std::string message)
    {
        if (error_.status == 0) error_ = {status, std::move(code), std::move(message)};
    }
};

class blob_sink final : public body_sink {
public:
    blob_sink(memory& mem, std::uint64_t expected, bool known) : w_(mem, expected, known), mem_(mem) {}
    std::span<char> space() override
    {
        auto s = w_.space();
        if (s.empty())
            fail(507, "InsufficientStorage",
                 "the sink's --memory-limit (" + std::to_string(mem_.limit() >> 20) + " MiB) is used up");
        return s;
    }
    bool commit(std::size_t n) override { w_.commit(n); received_ += n; return true; }
    blob take() { return w_.finish(); }
    std::uint64_t received() const { return received_; }

private:
    blob_writer w_;
    memory& mem_;
    std::uint64_t received_{0};
};

class string_sink final : public body_sink {
public:
    explicit string_sink(std::size_t max) : max_(max) {}
    std::span<char> space() override
    {
        if (s_.size() >= max_) {
            fail(400, "MaxMessageLengthExceeded", "request body too large");
            return {};
        }
        std::size_t old = s_.size();
        s_.resize(std::min(max_, old + 65536));
        used_ = old;
        return {s_.data() + old, s_.size() - old};
    }
    bool commit(std::size_t n) override { s_.resize(used_ + n); return true; }
    std::string& str() { return s_; }

private:
    std::size_t max_;
    std::size_t used_{0};
    std::string s_;
};

// aws-chunked (Content-Encoding: aws-chunked): "<hex>[;chunk-signature=<sig>]\r\n<data>\r\n" ... a zero-size chunk,
// then trailer lines ("x-amz-checksum-crc32:...", "x-amz-trailer-signature:...") and an empty line. Chunk and
// trailer signatures are not verified (see README); checksum trailers are kept in trailers().
struct chunk_signing {
    std::string seed_signature;  // the Authorization header's
    std::string amz_date, scope;
    std::array<std::uint8_t, 32> key{};
};

class aws_chunked_decoder final : public body_sink {
public:
    explicit aws_chunked_decoder(body_sink& inner) : inner_(inner), stage_(1 << 20) {}
    ~aws_chunked_decoder() override;
    // Check each chunk's chunk-signature (STREAMING-AWS4-HMAC-SHA256-PAYLOAD; costs a SHA-256 of the body).
    void verify_signatures(chunk_signing s);
    std::span<char> space() override { return {stage_.data(), stage_.size()}; }
    bool commit(std::size_t n) override;
    bool finish() override;
    std::uint64_t decoded() const { return decoded_; }
    const std::vector<std::string>& trailers() const { return trailers_; }

private:
    enum class state { size_line, data, data_cr, data_lf, trailer, done };
    body_sink& inner_;
    std::vector<char> stage_;
    state state_{state::size_line};
    std::uint64_t remaining_{0};
    std::uint64_t decoded_{0};
    std::string line_;
    std::vector<std::string> trailers_;
    bool take_line(const char*& p, const char* end);  // true when line_ holds a complete line (without CRLF)
    bool check_chunk();                                // the finished chunk's signature
    std::optional<chunk_signing> signing_;
    std::string chunk_signature_;
    void* sha_{nullptr};  // EVP_MD_CTX
};

}  // namespace s3sink
