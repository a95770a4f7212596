#include <cachestep/engine/client.hpp>

#include "part_plan.hpp"
#include "ranged_download.hpp"
#include "s3_operations.hpp"
#include "upload_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>

namespace cachestep::engine {

namespace asio = boost::asio;

struct client::impl {
    impl(detail::strand_type strand, client_config cfg, detail::endpoint ep, std::unique_ptr<asio::ssl::context> tls)
        : core(strand, std::move(cfg), std::move(ep), std::move(tls)), ops(core)
    {
    }
    detail::s3_core core;
    detail::s3_operations ops;
    std::atomic<std::uint64_t> connections{0};

    // Runs `work` on the strand and resumes the caller on its own executor. Not a coroutine itself: it hands
    // the awaitable straight to co_spawn (see run_blocking.hpp for why coroutines here avoid owning params).
    template <class T>
    asio::awaitable<T> on_strand(asio::awaitable<T> work)
    {
        return asio::co_spawn(core.strand(), std::move(work), asio::use_awaitable);
    }
};

client::client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
client::~client() = default;

result<std::shared_ptr<client>> client::create(asio::any_io_executor ex, client_config cfg)
{
    if (cfg.credentials.access_key_id.empty() || cfg.credentials.secret_access_key.empty())
        return error_info(engine_errc::invalid_argument,
                          "no credentials: set an access key id and secret access key (or AWS_ACCESS_KEY_ID and "
                          "AWS_SECRET_ACCESS_KEY)");
    if (auto t = detail::validate_transfer(cfg.transfer); !t) return t.error();
    if (cfg.retry.max_attempts < 1) return error_info(engine_errc::invalid_argument, "retry.max_attempts must be >= 1");
    auto ep = detail::resolve_endpoint(cfg.endpoint);
    if (!ep) return ep.error();
    std::unique_ptr<asio::ssl::context> tls;
    if (ep->tls || !cfg.tls.ca_bundle.empty()) {
        auto ctx = detail::make_tls_context(cfg.tls);
        if (!ctx) return ctx.error();
        tls = std::move(*ctx);
    }
    auto strand = asio::make_strand(ex);
    return std::shared_ptr<client>(new client(std::make_unique<impl>(strand, std::move(cfg), std::move(*ep), std::move(tls))));
}

void client::cancel()
{
    asio::post(impl_->core.strand(), [p = impl_.get()] { p->core.cancel(); });
}

std::uint64_t client::connections_opened() const
{
    return impl_->core.connections_opened();
}

asio::awaitable<result<upload_result>> client::upload(object_ref obj, byte_source& source, upload_options options)
{
    auto work = [](impl& i, object_ref o, byte_source& s, upload_options opts) -> asio::awaitable<result<upload_result>> {
        asio::thread_pool worker(1);  // reads the source and hashes parts; joined when the upload ends
        const asio::any_io_executor worker_executor = worker.get_executor();
        const detail::upload_plan plan{i.core.config().transfer, i.core.server().tls};
        auto r = co_await detail::upload_stream(i.ops, o, s, opts, plan, worker_executor);
        worker.join();
        co_return r;
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), source, std::move(options)));
}

asio::awaitable<result<download_result>> client::download(object_ref obj, byte_sink& sink)
{
    auto work = [](impl& i, object_ref o, byte_sink& s) -> asio::awaitable<result<download_result>> {
        asio::thread_pool worker(1);  // writes the sink in order
        const asio::any_io_executor worker_executor = worker.get_executor();
        auto r = co_await detail::download_object(i.ops, o, s, i.core.config().transfer, worker_executor);
        worker.join();
        co_return r;
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), sink));
}

asio::awaitable<result<object_info>> client::head_object(object_ref obj)
{
    auto work = [](impl& i, object_ref o) -> asio::awaitable<result<object_info>> { co_return co_await i.ops.head_object(o); };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj)));
}

asio::awaitable<result<put_result>> client::put_object(object_ref obj, std::span<const char> body, upload_options options)
{
    auto work = [](impl& i, object_ref o, std::span<const char> b, upload_options opts) -> asio::awaitable<result<put_result>> {
        detail::upload_plan plan{i.core.config().transfer, i.core.server().tls};
        const auto kinds = detail::checks_for(plan);
        payload_checks checks = detail::compute_checks(b, kinds);
        co_return co_await i.ops.put_object(o, b, checks, opts);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), body, std::move(options)));
}

asio::awaitable<result<range_read>> client::get_object_range(object_ref obj, std::uint64_t first, std::uint64_t last,
                                                             std::span<char> into, std::string if_match)
{
    auto work = [](impl& i, object_ref o, std::uint64_t f, std::uint64_t l, std::span<char> b,
                   std::string m) -> asio::awaitable<result<range_read>> { co_return co_await i.ops.get_range(o, f, l, m, b); };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), first, last, into, std::move(if_match)));
}

asio::awaitable<result<void>> client::delete_object(object_ref obj)
{
    auto work = [](impl& i, object_ref o) -> asio::awaitable<result<void>> { co_return co_await i.ops.delete_object(o); };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj)));
}

asio::awaitable<result<delete_objects_result>> client::delete_objects(std::string bucket, std::vector<std::string> keys)
{
    auto work = [](impl& i, std::string b, std::vector<std::string> k) -> asio::awaitable<result<delete_objects_result>> {
        co_return co_await i.ops.delete_objects(b, k);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(bucket), std::move(keys)));
}

asio::awaitable<result<list_objects_page>> client::list_objects_v2(std::string bucket, std::string prefix,
                                                                   std::string continuation_token, int max_keys)
{
    auto work = [](impl& i, std::string b, std::string p, std::string t, int m) -> asio::awaitable<result<list_objects_page>> {
        co_return co_await i.ops.list_objects_v2(b, p, t, m);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(bucket), std::move(prefix), std::move(continuation_token), max_keys));
}

asio::awaitable<result<std::vector<listed_object>>> client::list_all_objects(std::string bucket, std::string prefix)
{
    auto work = [](impl& i, std::string b, std::string p) -> asio::awaitable<result<std::vector<listed_object>>> {
        std::vector<listed_object> all;
        std::string token;
        for (;;) {
            auto page = co_await i.ops.list_objects_v2(b, p, token, 0);
            if (!page) co_return page.error();
            for (auto& o : page->objects) all.push_back(std::move(o));
            if (!page->is_truncated) break;
            if (page->next_continuation_token.empty() || page->next_continuation_token == token)
                co_return error_info(engine_errc::bad_response, "ListObjectsV2 " + b + "/" + p +
                                                                    ": truncated page without a new continuation token");
            token = page->next_continuation_token;
        }
        co_return all;
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(bucket), std::move(prefix)));
}

asio::awaitable<result<std::string>> client::create_multipart_upload(object_ref obj, upload_options options)
{
    auto work = [](impl& i, object_ref o, upload_options opts) -> asio::awaitable<result<std::string>> {
        const bool crc = i.core.config().transfer.checksum == payload_checksum::crc32c;
        co_return co_await i.ops.create_multipart_upload(o, opts, crc);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), std::move(options)));
}

asio::awaitable<result<completed_part>> client::upload_part(object_ref obj, std::string upload_id, int part_number,
                                                            std::span<const char> body)
{
    auto work = [](impl& i, object_ref o, std::string id, int n, std::span<const char> b) -> asio::awaitable<result<completed_part>> {
        detail::upload_plan plan{i.core.config().transfer, i.core.server().tls};
        payload_checks checks = detail::compute_checks(b, detail::checks_for(plan));
        co_return co_await i.ops.upload_part(o, id, n, b, checks);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), std::move(upload_id), part_number, body));
}

asio::awaitable<result<complete_result>> client::complete_multipart_upload(object_ref obj, std::string upload_id,
                                                                           std::vector<completed_part> parts)
{
    auto work = [](impl& i, object_ref o, std::string id, std::vector<completed_part> p) -> asio::awaitable<result<complete_result>> {
        co_return co_await i.ops.complete_multipart_upload(o, id, p);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), std::move(upload_id), std::move(parts)));
}

asio::awaitable<result<void>> client::abort_multipart_upload(object_ref obj, std::string upload_id)
{
    auto work = [](impl& i, object_ref o, std::string id) -> asio::awaitable<result<void>> {
        co_return co_await i.ops.abort_multipart_upload(o, id);
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(obj), std::move(upload_id)));
}

asio::awaitable<result<list_uploads_page>> client::list_multipart_uploads(std::string bucket, std::string prefix,
                                                                          std::string key_marker,
                                                                          std::string upload_id_marker)
{
    auto work = [](impl& i, std::string b, std::string p, std::string k, std::string u) -> asio::awaitable<result<list_uploads_page>> {
        co_return co_await i.ops.list_multipart_uploads(b, p, k, u);
    };
    co_return co_await impl_->on_strand(
        work(*impl_, std::move(bucket), std::move(prefix), std::move(key_marker), std::move(upload_id_marker)));
}

asio::awaitable<result<std::vector<multipart_upload_entry>>> client::list_all_multipart_uploads(std::string bucket,
                                                                                                std::string prefix)
{
    auto work = [](impl& i, std::string b, std::string p) -> asio::awaitable<result<std::vector<multipart_upload_entry>>> {
        std::vector<multipart_upload_entry> all;
        std::string key_marker, id_marker;
        for (;;) {
            auto page = co_await i.ops.list_multipart_uploads(b, p, key_marker, id_marker);
            if (!page) co_return page.error();
            for (auto& u : page->uploads) all.push_back(std::move(u));
            if (!page->is_truncated) break;
            if (page->next_key_marker == key_marker && page->next_upload_id_marker == id_marker)
                co_return error_info(engine_errc::bad_response, "ListMultipartUploads: truncated page without new markers");
            key_marker = page->next_key_marker;
            id_marker = page->next_upload_id_marker;
        }
        co_return all;
    };
    co_return co_await impl_->on_strand(work(*impl_, std::move(bucket), std::move(prefix)));
}

}  // namespace cachestep::engine
