#include <cachestep/engine/client.hpp>

#include "part_plan.hpp"
#include "ranged_download.hpp"
#include "s3_operations.hpp"
#include "upload_stream.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace cachestep::engine {

namespace asio = boost::asio;

struct client::impl {
    impl(detail::strand_type strand, client_config cfg, detail::endpoint ep, std::unique_ptr<asio::ssl::context> tls)
        : core(strand, std::move(cfg), std::move(ep), std::move(tls)), ops(core)
    {
    }
    detail::s3_core core;
    detail::s3_operations ops;

    detail::upload_plan plan() const { return {core.config().transfer, core.server().tls}; }

    // Runs `work` on the strand and resumes the caller on its own executor.
    template <class T>
    asio::awaitable<T> on_strand(asio::awaitable<T> work)
    {
        return asio::co_spawn(core.strand(), std::move(work), asio::use_awaitable);
    }
};

// The public members are plain functions: they hand a coroutine below to the strand. The coroutines take
// their arguments by value (moved in by the member function, never braced temporaries: DEVELOPERS.md).
namespace {

using impl_t = client::impl;

asio::awaitable<result<upload_result>> upload_work(impl_t& i, object_ref o, byte_source& s, upload_options opts)
{
    asio::thread_pool worker(1);  // reads the source and hashes parts; joined when the upload ends
    const asio::any_io_executor worker_executor = worker.get_executor();
    const detail::upload_plan plan = i.plan();
    auto r = co_await detail::upload_stream(i.ops, o, s, opts, plan, worker_executor);
    worker.join();
    co_return r;
}

asio::awaitable<result<download_result>> download_work(impl_t& i, object_ref o, byte_sink& s)
{
    asio::thread_pool worker(1);  // writes the sink in order
    const asio::any_io_executor worker_executor = worker.get_executor();
    auto r = co_await detail::download_object(i.ops, o, s, i.core.config().transfer, worker_executor);
    worker.join();
    co_return r;
}

asio::awaitable<result<object_info>> head_work(impl_t& i, object_ref o)
{
    co_return co_await i.ops.head_object(o);
}

asio::awaitable<result<put_result>> put_work(impl_t& i, object_ref o, std::span<const char> body, upload_options opts)
{
    const payload_checks checks = detail::compute_checks(body, detail::checks_for(i.plan()));
    co_return co_await i.ops.put_object(o, body, checks, opts);
}

asio::awaitable<result<range_read>> range_work(impl_t& i, object_ref o, std::uint64_t first, std::uint64_t last,
                                               std::span<char> into, std::string if_match)
{
    co_return co_await i.ops.get_range(o, first, last, if_match, into);
}

asio::awaitable<result<void>> delete_work(impl_t& i, object_ref o)
{
    co_return co_await i.ops.delete_object(o);
}

asio::awaitable<result<delete_objects_result>> delete_many_work(impl_t& i, std::string bucket,
                                                                std::vector<std::string> keys)
{
    co_return co_await i.ops.delete_objects(bucket, keys);
}

asio::awaitable<result<list_objects_page>> list_work(impl_t& i, std::string bucket, std::string prefix,
                                                     std::string token, int max_keys)
{
    co_return co_await i.ops.list_objects_v2(bucket, prefix, token, max_keys);
}

asio::awaitable<result<std::vector<listed_object>>> list_all_work(impl_t& i, std::string bucket, std::string prefix)
{
    std::vector<listed_object> all;
    std::string token;
    for (;;) {
        auto page = co_await i.ops.list_objects_v2(bucket, prefix, token, 0);
        if (!page) co_return page.error();
        for (auto& o : page->objects) all.push_back(std::move(o));
        if (!page->is_truncated) break;
        if (page->next_continuation_token.empty() || page->next_continuation_token == token)
            co_return error_info(engine_errc::bad_response, "ListObjectsV2 " + bucket + "/" + prefix +
                                                                ": truncated page without a new continuation token");
        token = page->next_continuation_token;
    }
    co_return all;
}

asio::awaitable<result<std::string>> create_work(impl_t& i, object_ref o, upload_options opts)
{
    co_return co_await i.ops.create_multipart_upload(o, opts, detail::checks_for(i.plan()).crc32c);
}

asio::awaitable<result<completed_part>> part_work(impl_t& i, object_ref o, std::string id, int n,
                                                  std::span<const char> body)
{
    const payload_checks checks = detail::compute_checks(body, detail::checks_for(i.plan()));
    co_return co_await i.ops.upload_part(o, id, n, body, checks);
}

asio::awaitable<result<complete_result>> complete_work(impl_t& i, object_ref o, std::string id,
                                                       std::vector<completed_part> parts)
{
    co_return co_await i.ops.complete_multipart_upload(o, id, parts);
}

asio::awaitable<result<void>> abort_work(impl_t& i, object_ref o, std::string id)
{
    co_return co_await i.ops.abort_multipart_upload(o, id);
}

asio::awaitable<result<list_uploads_page>> uploads_work(impl_t& i, std::string bucket, std::string prefix,
                                                        std::string key_marker, std::string id_marker)
{
    co_return co_await i.ops.list_multipart_uploads(bucket, prefix, key_marker, id_marker);
}

asio::awaitable<result<std::vector<multipart_upload_entry>>> all_uploads_work(impl_t& i, std::string bucket,
                                                                              std::string prefix)
{
    std::vector<multipart_upload_entry> all;
    std::string key_marker, id_marker;
    for (;;) {
        auto page = co_await i.ops.list_multipart_uploads(bucket, prefix, key_marker, id_marker);
        if (!page) co_return page.error();
        for (auto& u : page->uploads) all.push_back(std::move(u));
        if (!page->is_truncated) break;
        if (page->next_key_marker == key_marker && page->next_upload_id_marker == id_marker)
            co_return error_info(engine_errc::bad_response, "ListMultipartUploads: truncated page without new markers");
        key_marker = page->next_key_marker;
        id_marker = page->next_upload_id_marker;
    }
    co_return all;
}

}  // namespace

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
    return std::shared_ptr<client>(
        new client(std::make_unique<impl>(strand, std::move(cfg), std::move(*ep), std::move(tls))));
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
    return impl_->on_strand(upload_work(*impl_, std::move(obj), source, std::move(options)));
}
asio::awaitable<result<upload_result>> client::upload(object_ref obj, byte_source& source)
{
    return upload(std::move(obj), source, upload_options());
}

asio::awaitable<result<download_result>> client::download(object_ref obj, byte_sink& sink)
{
    return impl_->on_strand(download_work(*impl_, std::move(obj), sink));
}

asio::awaitable<result<object_info>> client::head_object(object_ref obj)
{
    return impl_->on_strand(head_work(*impl_, std::move(obj)));
}

asio::awaitable<result<put_result>> client::put_object(object_ref obj, std::span<const char> body, upload_options options)
{
    return impl_->on_strand(put_work(*impl_, std::move(obj), body, std::move(options)));
}
asio::awaitable<result<put_result>> client::put_object(object_ref obj, std::span<const char> body)
{
    return put_object(std::move(obj), body, upload_options());
}

asio::awaitable<result<range_read>> client::get_object_range(object_ref obj, std::uint64_t first, std::uint64_t last,
                                                             std::span<char> into, std::string if_match)
{
    return impl_->on_strand(range_work(*impl_, std::move(obj), first, last, into, std::move(if_match)));
}
asio::awaitable<result<range_read>> client::get_object_range(object_ref obj, std::uint64_t first, std::uint64_t last,
                                                             std::span<char> into)
{
    return get_object_range(std::move(obj), first, last, into, std::string());
}

asio::awaitable<result<void>> client::delete_object(object_ref obj)
{
    return impl_->on_strand(delete_work(*impl_, std::move(obj)));
}

asio::awaitable<result<delete_objects_result>> client::delete_objects(std::string bucket, std::vector<std::string> keys)
{
    return impl_->on_strand(delete_many_work(*impl_, std::move(bucket), std::move(keys)));
}

asio::awaitable<result<list_objects_page>> client::list_objects_v2(std::string bucket, std::string prefix,
                                                                   std::string continuation_token, int max_keys)
{
    return impl_->on_strand(list_work(*impl_, std::move(bucket), std::move(prefix), std::move(continuation_token), max_keys));
}
asio::awaitable<result<list_objects_page>> client::list_objects_v2(std::string bucket, std::string prefix)
{
    return list_objects_v2(std::move(bucket), std::move(prefix), std::string(), 0);
}

asio::awaitable<result<std::vector<listed_object>>> client::list_all_objects(std::string bucket, std::string prefix)
{
    return impl_->on_strand(list_all_work(*impl_, std::move(bucket), std::move(prefix)));
}

asio::awaitable<result<std::string>> client::create_multipart_upload(object_ref obj, upload_options options)
{
    return impl_->on_strand(create_work(*impl_, std::move(obj), std::move(options)));
}
asio::awaitable<result<std::string>> client::create_multipart_upload(object_ref obj)
{
    return create_multipart_upload(std::move(obj), upload_options());
}

asio::awaitable<result<completed_part>> client::upload_part(object_ref obj, std::string upload_id, int part_number,
                                                            std::span<const char> body)
{
    return impl_->on_strand(part_work(*impl_, std::move(obj), std::move(upload_id), part_number, body));
}

asio::awaitable<result<complete_result>> client::complete_multipart_upload(object_ref obj, std::string upload_id,
                                                                           std::vector<completed_part> parts)
{
    return impl_->on_strand(complete_work(*impl_, std::move(obj), std::move(upload_id), std::move(parts)));
}

asio::awaitable<result<void>> client::abort_multipart_upload(object_ref obj, std::string upload_id)
{
    return impl_->on_strand(abort_work(*impl_, std::move(obj), std::move(upload_id)));
}

asio::awaitable<result<list_uploads_page>> client::list_multipart_uploads(std::string bucket, std::string prefix,
                                                                          std::string key_marker,
                                                                          std::string upload_id_marker)
{
    return impl_->on_strand(uploads_work(*impl_, std::move(bucket), std::move(prefix), std::move(key_marker),
                                         std::move(upload_id_marker)));
}

asio::awaitable<result<std::vector<multipart_upload_entry>>> client::list_all_multipart_uploads(std::string bucket,
                                                                                                std::string prefix)
{
    return impl_->on_strand(all_uploads_work(*impl_, std::move(bucket), std::move(prefix)));
}

}  // namespace cachestep::engine
