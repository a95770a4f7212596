// CreateMultipartUpload, UploadPart, CompleteMultipartUpload, AbortMultipartUpload.
#include "s3_operations.hpp"

#include "s3_xml.hpp"

#include <cachestep/sigv4/canonical.hpp>
#include <cachestep/sigv4/crypto.hpp>

namespace cachestep::engine::detail {
namespace {

std::string upload_id_query(const std::string& upload_id)
{
    return "uploadId=" + sigv4::uri_encode(upload_id, false);
}

}  // namespace

asio::awaitable<result<std::string>> s3_operations::create_multipart_upload(const object_ref& obj,
                                                                            const upload_options& options,
                                                                            bool use_crc32c)
{
    if (obj.key.empty()) co_return error_info(engine_errc::invalid_argument, "CreateMultipartUpload needs a key");
    s3_request r;
    r.method = http::verb::post;
    r.object = obj;
    r.query = "uploads=";
    add_upload_headers(r, options);
    if (use_crc32c) r.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
    r.operation = describe("CreateMultipartUpload", obj);
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    auto id = parse_initiate_multipart_upload(response->body);
    if (!id) {
        auto e = id.error();
        e.operation = r.operation;
        co_return e;
    }
    co_return std::move(*id);
}

asio::awaitable<result<completed_part>> s3_operations::upload_part(const object_ref& obj, const std::string& upload_id,
                                                                   int part_number, std::span<const char> body,
                                                                   const payload_checks& checks)
{
    s3_request r;
    r.method = http::verb::put;
    r.object = obj;
    r.query = "partNumber=" + std::to_string(part_number) + "&" + upload_id_query(upload_id);
    r.body = body;
    if (!checks.crc32c.empty()) r.headers.emplace_back("x-amz-checksum-crc32c", checks.crc32c);
    if (!checks.md5.empty()) r.headers.emplace_back("Content-MD5", checks.md5);
    r.payload_sha256 = checks.sha256;
    r.operation = "UploadPart " + std::to_string(part_number) + " of " + obj.bucket + "/" + obj.key;
    r.validate = [op = r.operation](const http_response& resp) -> std::optional<error_info> {
        if (resp.headers[http::field::etag].empty())
            return error_info(engine_errc::bad_response, op + ": no ETag in the response");
        return std::nullopt;
    };
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    completed_part part;
    part.part_number = part_number;
    part.etag = header(response->headers, "ETag");
    part.checksum_crc32c = checks.crc32c;
    co_return part;
}

asio::awaitable<result<complete_result>> s3_operations::complete_multipart_upload(
    const object_ref& obj, const std::string& upload_id, const std::vector<completed_part>& parts)
{
    s3_request r;
    r.method = http::verb::post;
    r.object = obj;
    r.query = upload_id_query(upload_id);
    const std::string body = build_complete_multipart_upload(parts);
    r.body = body;
    r.payload_sha256 = sigv4::sha256_hex(body);  // small: always signed
    r.headers.emplace_back("Content-Type", "application/xml");
    r.operation = describe("CompleteMultipartUpload", obj);
    // S3 may answer 200 and then report failure in the body (it starts the response before the work ends):
    // parse inside the retry loop so an InternalError there is retried like any other.
    std::optional<complete_result> parsed;
    r.validate = [&parsed, op = r.operation](const http_response& resp) -> std::optional<error_info> {
        auto c = parse_complete_multipart_upload(resp.body);
        if (!c) {
            auto e = c.error();
            e.operation = op;
            e.http_status = resp.status;
            return e;
        }
        parsed = std::move(*c);
        return std::nullopt;
    };
    auto response = co_await core_.send(r);
    if (!response) co_return response.error();
    co_return std::move(*parsed);
}

asio::awaitable<result<void>> s3_operations::abort_multipart_upload(const object_ref& obj, const std::string& upload_id)
{
    s3_request r;
    r.method = http::verb::delete_;
    r.object = obj;
    r.query = upload_id_query(upload_id);
    r.survives_cancel = true;
    r.operation = describe("AbortMultipartUpload", obj);
    auto response = co_await core_.send(r);
    if (!response) {
        // Already gone (a retried abort whose first attempt went through): nothing is left behind.
        if (response.error().code == s3_errc::no_such_upload) co_return result<void>{};
        co_return response.error();
    }
    co_return result<void>{};
}

}  // namespace cachestep::engine::detail
