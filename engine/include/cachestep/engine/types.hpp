#pragma once
// Plain values the S3 operations take and return.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cachestep::engine {

// S3's limits (AWS S3 user guide, "Amazon S3 multipart upload limits").
inline constexpr std::uint64_t min_part_size = 5ull << 20;         // 5 MiB, every part but the last
inline constexpr std::uint64_t max_part_size = 5ull << 30;         // 5 GiB
inline constexpr int max_part_count = 10000;
inline constexpr std::uint64_t max_object_size = 5ull << 40;       // 5 TiB

// An object: bucket and key (any UTF-8 up to 1024 bytes; the engine encodes it).
struct object_ref {
    std::string bucket;
    std::string key;
};

struct upload_options {
    std::string content_type;                     // "" = application/octet-stream
    std::map<std::string, std::string> metadata;  // sent as x-amz-meta-<name>
    std::string acl;                              // x-amz-acl (canned ACL, e.g. "private"); "" = not sent
    std::string server_side_encryption;           // x-amz-server-side-encryption: "AES256" or "aws:kms"; "" = not sent
};

// The integrity data that travels with a body we send. Computed by the transfer off the network thread.
struct payload_checks {
    std::string crc32c;  // base64, x-amz-checksum-crc32c; "" = not sent
    std::string md5;     // base64, Content-MD5; "" = not sent
    std::string sha256;  // hex, signed as the payload hash; "" = UNSIGNED-PAYLOAD
};

struct put_result {
    std::string etag;
};

// One ranged GET placed into the caller's buffer.
struct range_read {
    std::size_t bytes{0};           // placed in the buffer
    std::uint64_t object_size{0};   // from Content-Range (or Content-Length of a whole-object 200)
    std::string etag;
    bool whole_object{false};       // the server answered 200 with the whole object instead of 206
};

struct upload_result {
    std::string etag;
    std::uint64_t size{0};
    int parts{0};  // 0: the stream fit one PutObject
};

struct download_result {
    std::uint64_t size{0};
    std::string etag;
    int ranges{0};
};

// HeadObject, and the first response of a download.
struct object_info {
    std::uint64_t size{0};
    std::string etag;           // as sent, with its quotes: "\"9b2cf535f27731c974343645a3985328\""
    std::string last_modified;  // the Last-Modified header as sent (an HTTP date)
    std::string content_type;
    std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, names lower-case
};

struct listed_object {
    std::string key;
    std::uint64_t size{0};
    std::string etag;
    std::chrono::sys_seconds last_modified{};
    std::string storage_class;
};

struct list_objects_page {
    std::vector<listed_object> objects;
    std::vector<std::string> common_prefixes;
    bool is_truncated{false};
    std::string next_continuation_token;
};

struct multipart_upload_entry {
    std::string key;
    std::string upload_id;
    std::chrono::sys_seconds initiated{};
};

struct list_uploads_page {
    std::vector<multipart_upload_entry> uploads;
    bool is_truncated{false};
    std::string next_key_marker;
    std::string next_upload_id_marker;
};

struct completed_part {
    int part_number{0};
    std::string etag;             // as the UploadPart response sent it
    std::string checksum_crc32c;  // base64; empty when the upload does not use CRC32C
};

struct complete_result {
    std::string etag;
    std::string location;
};

// The parsed <Error> body of a failed request.
struct s3_error_body {
    std::string code;
    std::string message;
    std::string request_id;
    std::string host_id;
    std::string resource;
};

struct delete_objects_result {
    std::vector<std::string> deleted;
    std::vector<std::pair<std::string, s3_error_body>> errors;  // key, what the server said
};

}  // namespace cachestep::engine
