#pragma once
// cachestep::engine::client: S3 over Beast, for programs that embed the engine.
//
// Contract, for every member returning an awaitable:
// - It runs on the client's strand whatever executor awaits it, and resumes the awaiting coroutine on that
//   coroutine's own executor. The io_context behind the executor given to create() may be run by one thread
//   or several; the client serialises its own work.
// - It completes with the value, or with an error_info naming the operation, the code (s3_errc, engine_errc
//   or a transport error), the HTTP status, the server's message and request id, and the attempts made.
//   Retryable failures (connection errors, timeouts, stalls, 500/502/503/504, SlowDown, RequestTimeout) are
//   retried with exponential backoff and full jitter up to retry.max_attempts; others are not.
// - Arguments are copied into the operation; spans (bodies, buffers) must stay valid until it completes.
// For a completion-token interface, wrap any call with asio::co_spawn(ex, client->head_object(o), token).
// Overloads stand in for default arguments on purpose: with g++ 12 a defaulted class-type argument
// (`upload_options options = {}`) in a co_await expression is destroyed twice (DEVELOPERS.md, "Compiler
// pitfalls"). For the same reason, pass named objects rather than braced temporaries (T{...}) to these calls.

#include <cachestep/engine/config.hpp>
#include <cachestep/engine/error.hpp>
#include <cachestep/engine/io.hpp>
#include <cachestep/engine/types.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace cachestep::engine {

class client {
public:
    // Checks the configuration (endpoint URL, credentials present, part size and concurrency within S3's
    // limits, CA bundle readable) and refuses it with engine_errc::invalid_argument and the reason.
    // Unset fields are not read from the environment here: call apply_environment() first for that.
    static result<std::shared_ptr<client>> create(boost::asio::any_io_executor ex, client_config cfg);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // --- Transfers ---------------------------------------------------------------------------------------
    // Uploads the whole source under obj: one PutObject if it fits one part, else a multipart upload with
    // transfer.concurrency parts in flight; memory stays within transfer.memory_limit. The source is read on a
    // worker thread the upload owns. On failure or cancel(), the multipart upload is aborted (exactly once)
    // before this completes, so nothing is left under the key.
    boost::asio::awaitable<result<upload_result>> upload(object_ref obj, byte_source& source,
                                                         upload_options options);
    boost::asio::awaitable<result<upload_result>> upload(object_ref obj, byte_source& source);

    // Downloads obj into the sink, in order, with ranged GETs in parallel. If the object changes during the
    // download (another writer), it fails with engine_errc::object_changed; the sink has then received a
    // prefix of the old object only, never a mix.
    boost::asio::awaitable<result<download_result>> download(object_ref obj, byte_sink& sink);

    // --- Single operations -------------------------------------------------------------------------------
    boost::asio::awaitable<result<object_info>> head_object(object_ref obj);
    boost::asio::awaitable<result<put_result>> put_object(object_ref obj, std::span<const char> body,
                                                          upload_options options);
    boost::asio::awaitable<result<put_result>> put_object(object_ref obj, std::span<const char> body);
    // Bytes [first, last] of obj into `into`; with if_match, only from that version (else precondition_failed).
    boost::asio::awaitable<result<range_read>> get_object_range(object_ref obj, std::uint64_t first,
                                                                std::uint64_t last, std::span<char> into,
                                                                std::string if_match);
    boost::asio::awaitable<result<range_read>> get_object_range(object_ref obj, std::uint64_t first,
                                                                std::uint64_t last, std::span<char> into);
    boost::asio::awaitable<result<void>> delete_object(object_ref obj);
    // At most 1000 keys per call (S3's limit); per-key failures are in the result, not an error.
    boost::asio::awaitable<result<delete_objects_result>> delete_objects(std::string bucket,
                                                                         std::vector<std::string> keys);
    // One page (max_keys 0 = the server's default, 1000).
    boost::asio::awaitable<result<list_objects_page>> list_objects_v2(std::string bucket, std::string prefix,
                                                                      std::string continuation_token,
                                                                      int max_keys = 0);
    boost::asio::awaitable<result<list_objects_page>> list_objects_v2(std::string bucket, std::string prefix);
    // Every page.
    boost::asio::awaitable<result<std::vector<listed_object>>> list_all_objects(std::string bucket,
                                                                                std::string prefix);
    boost::asio::awaitable<result<std::string>> create_multipart_upload(object_ref obj, upload_options options);
    boost::asio::awaitable<result<std::string>> create_multipart_upload(object_ref obj);
    boost::asio::awaitable<result<completed_part>> upload_part(object_ref obj, std::string upload_id,
                                                               int part_number, std::span<const char> body);
    boost::asio::awaitable<result<complete_result>> complete_multipart_upload(object_ref obj, std::string upload_id,
                                                                              std::vector<completed_part> parts);
    boost::asio::awaitable<result<void>> abort_multipart_upload(object_ref obj, std::string upload_id);
    boost::asio::awaitable<result<list_uploads_page>> list_multipart_uploads(std::string bucket, std::string prefix,
                                                                             std::string key_marker,
                                                                             std::string upload_id_marker);
    boost::asio::awaitable<result<std::vector<multipart_upload_entry>>> list_all_multipart_uploads(
        std::string bucket, std::string prefix);

    // Thread-safe. Fails every operation in progress and every later one with engine_errc::cancelled; uploads
    // still abort their multipart upload. There is no un-cancel: make a new client.
    void cancel();

    // Connections opened so far (kept-alive connections are reused; for diagnostics and tests).
    std::uint64_t connections_opened() const;

    struct impl;  // opaque: defined in engine/src/client.cpp

private:
    explicit client(std::unique_ptr<impl> p);
    std::unique_ptr<impl> impl_;
};

}  // namespace cachestep::engine
