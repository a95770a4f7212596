// MD5, SHA-256 and base64 (engine/src/digest.cpp): the RFC 1321, FIPS 180-2 and RFC 4648 test vectors,
// incremental updates against one call, Content-MD5 values, and misuse after finish.
#include "digest.hpp"

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

using namespace cachestep::engine::detail;

namespace {

std::string hex(std::span<const std::uint8_t> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : bytes) {
        out += digits[b >> 4];
        out += digits[b & 15];
    }
    return out;
}

std::string md5_hex(std::string_view s)
{
    md5_hasher h;
    h.update(s.data(), s.size());
    return hex(h.finish());
}

std::string sha256_hex(std::string_view s)
{
    sha256_hasher h;
    h.update(s.data(), s.size());
    return h.finish_hex();
}

std::string base64_of(std::string_view s)
{
    return base64_encode({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

std::vector<std::uint8_t> pattern(std::size_t n)
{
    std::vector<std::uint8_t> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(i);
    return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(engine_digest)

BOOST_AUTO_TEST_CASE(md5_rfc1321_test_suite)
{
    // RFC 1321, appendix A.5.
    BOOST_TEST(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
    BOOST_TEST(md5_hex("a") == "0cc175b9c0f1b6a831c399e269772661");
    BOOST_TEST(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
    BOOST_TEST(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
    BOOST_TEST(md5_hex("abcdefghijklmnopqrstuvwxyz") == "c3fcd3d76192e4007dfb496cca67e13b");
    BOOST_TEST(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") ==
               "d174ab98d277d9f5a5611c2c9f419d9f");
    BOOST_TEST(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890") ==
               "57edf4a22be3c955ac49da2e2107b67a");
}

BOOST_AUTO_TEST_CASE(sha256_fips180_examples)
{
    BOOST_TEST(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_TEST(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    BOOST_TEST(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
               "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    // One million 'a', fed 1000 at a time.
    sha256_hasher h;
    const std::string thousand(1000, 'a');
    for (int i = 0; i < 1000; ++i) h.update(thousand.data(), thousand.size());
    BOOST_TEST(h.finish_hex() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

BOOST_AUTO_TEST_CASE(pieces_equal_one_call)
{
    // 25,600 bytes (0..255 repeated); expected values from Python's hashlib.
    const auto data = pattern(25'600);
    std::mt19937 rng(3);
    for (int trial = 0; trial < 20; ++trial) {
        md5_hasher md5;
        sha256_hasher sha;
        std::size_t at = 0;
        while (at < data.size()) {
            // Pieces of 0 to 199 bytes: across every 64-byte block boundary, empty updates included.
            const std::size_t piece = std::min<std::size_t>(rng() % 200, data.size() - at);
            md5.update(data.data() + at, piece);
            sha.update(data.data() + at, piece);
            at += piece;
        }
        BOOST_TEST(hex(md5.finish()) == "c73a756d7c65cb6991030bff87439016");
        BOOST_TEST(sha.finish_hex() == "22c27b021752596140145a93194d9cdf33b0b1b454f50fd1b430491eb3eb3cb9");
    }
    md5_hasher one;
    one.update(data.data(), data.size());
    BOOST_TEST(hex(one.finish()) == "c73a756d7c65cb6991030bff87439016");
}

BOOST_AUTO_TEST_CASE(use_after_finish_is_refused)
{
    md5_hasher md5;
    md5.update("abc", 3);
    BOOST_TEST(hex(md5.finish()) == "900150983cd24fb0d6963f7d28e17f72");
    BOOST_CHECK_THROW(md5.update("d", 1), std::logic_error);
    BOOST_CHECK_THROW(md5.finish(), std::logic_error);

    sha256_hasher sha;
    BOOST_TEST(sha.finish_hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    BOOST_CHECK_THROW(sha.update("d", 1), std::logic_error);
    BOOST_CHECK_THROW(sha.finish_hex(), std::logic_error);

    // A moved hasher carries its state; the moved-from one refuses use instead of crashing.
    md5_hasher first;
    first.update("ab", 2);
    md5_hasher second(std::move(first));
    second.update("c", 1);
    BOOST_TEST(hex(second.finish()) == "900150983cd24fb0d6963f7d28e17f72");
    BOOST_CHECK_THROW(first.update("x", 1), std::logic_error);  // NOLINT(bugprone-use-after-move)
    BOOST_CHECK_THROW(first.finish(), std::logic_error);
}

BOOST_AUTO_TEST_CASE(base64_rfc4648_vectors)
{
    // RFC 4648, section 10: every padding case.
    BOOST_TEST(base64_of("") == "");
    BOOST_TEST(base64_of("f") == "Zg==");
    BOOST_TEST(base64_of("fo") == "Zm8=");
    BOOST_TEST(base64_of("foo") == "Zm9v");
    BOOST_TEST(base64_of("foob") == "Zm9vYg==");
    BOOST_TEST(base64_of("fooba") == "Zm9vYmE=");
    BOOST_TEST(base64_of("foobar") == "Zm9vYmFy");
    // The two characters beyond the letters and digits: '+' (62) and '/' (63), never '-' or '_'.
    const std::vector<std::uint8_t> high{0xFB, 0xFF, 0xBF};
    BOOST_TEST(base64_encode(high) == "+/+/");
}

BOOST_AUTO_TEST_CASE(base64_of_input_longer_than_one_encoder_call)
{
    // 3 MiB + 1 zero bytes crosses the encoder's internal chunk of 3 MiB: no padding may appear inside.
    const std::vector<std::uint8_t> zeros((3u << 20) + 1, 0);
    const std::string out = base64_encode(zeros);
    BOOST_TEST(out.size() == (1u << 20) * 4 + 4);
    BOOST_TEST(out.find_first_not_of('A') == out.size() - 2);
    BOOST_TEST(out.substr(out.size() - 4) == "AA==");
}

BOOST_AUTO_TEST_CASE(content_md5_header_values)
{
    // Base64 of the 16 digest bytes, as S3 and `openssl md5 -binary | base64` give them.
    BOOST_TEST(content_md5("", 0) == "1B2M2Y8AsgTpgAmY7PhCfg==");
    BOOST_TEST(content_md5(nullptr, 0) == "1B2M2Y8AsgTpgAmY7PhCfg==");
    BOOST_TEST(content_md5("abc", 3) == "kAFQmDzST7DWlj99KOF/cg==");
    BOOST_TEST(content_md5("message digest", 14) == "+WtpfXy3k41SWi8xqvFh0A==");
    const std::string_view alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    BOOST_TEST(content_md5(alnum.data(), alnum.size()) == "0XSrmNJ32fWlYRwsn0Gdnw==");
}

BOOST_AUTO_TEST_SUITE_END()
