#pragma once
// The XML bodies S3 sends and the two it receives (AWS S3 API reference), parsed and built without I/O.
//
// Parsing contract, for every parse_* function:
// - A body that is not one well-formed XML element (empty, truncated, JSON or HTML, text beside the root, two
//   roots, a DOCTYPE, a control character), or not the expected root, or missing a required element, or with
//   a value of the wrong form (a non-numeric Size, a date that is not ISO 8601), is refused with
//   engine_errc::bad_response and a message naming what is wrong. Nothing is guessed or defaulted.
// - A body whose root is <Error> (S3 may send one with a 200, CompleteMultipartUpload most famously) comes back
//   as that S3 error: s3_errc from its <Code>, with s3_code, message and request id filled and http_status 200.
// - Element names are matched without namespace prefixes; the xmlns attribute is ignored (s3rver even sends a
//   wrong one); unknown elements are skipped; an XML declaration, comments and a UTF-8 BOM are fine.
// - Text is taken exactly as sent: no trimming (keys may begin or end with spaces), CDATA included (moto wraps
//   messages in it). Numbers, booleans and dates may be padded with XML white space.
// - Bodies over max_xml_body_bytes or with more than max_xml_markup '<' are refused before parsing: the
//   transport caps bodies well below this anyway; this bounds the DOM (pugixml spends ~64 bytes per node).

#include <cachestep/engine/error.hpp>
#include <cachestep/engine/types.hpp>

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace cachestep::engine::detail {

// A ListObjectsV2 page of 1,000 keys of 1,024 bytes is about 1.3 MiB; a ListMultipartUploads page ~1.8 MiB.
inline constexpr std::size_t max_xml_body_bytes = 8u << 20;
// Each element costs one or two '<'; a full listing page uses under 50,000.
inline constexpr std::size_t max_xml_markup = 256u << 10;

inline constexpr std::string_view s3_xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

// The <Error> body of a failed request (also what RGW, moto and s3rver send): Code, Message, RequestId (moto:
// RequestID), HostId, Resource, each empty when absent. nullopt unless the body parses and its root is <Error>.
std::optional<s3_error_body> parse_error_body(std::string_view body);

// CreateMultipartUpload: <InitiateMultipartUploadResult><UploadId>, required and non-empty.
result<std::string> parse_initiate_multipart_upload(std::string_view body);

// CompleteMultipartUpload: <CompleteMultipartUploadResult> with a non-empty <ETag> (kept as sent, quotes and
// all) and an optional <Location>. S3 answers 200 before it has assembled the object and reports a late
// failure as an <Error> body in that 200; that comes back as the S3 error, never as success.
result<complete_result> parse_complete_multipart_upload(std::string_view body);

// ListObjectsV2: <ListBucketResult> with <IsTruncated> (required; "true"/"false"/"1"/"0"), <Contents> entries
// (Key, Size and LastModified required; ETag and StorageClass optional), <CommonPrefixes><Prefix> entries and
// <NextContinuationToken> (required when truncated, or the caller could not go on).
// With <EncodingType>url</EncodingType>, Contents/Key and CommonPrefixes/Prefix are percent-decoded, '+' being a
// space (S3 form-encodes them: "a b" comes as "a+b", "a+b" as "a%2Bb"). NextContinuationToken is never decoded:
// it is opaque and goes back verbatim (botocore does the same; AWS tokens are base64 and may hold '+').
// Any other EncodingType is refused: the keys could not be read.
result<list_objects_page> parse_list_objects_v2(std::string_view body);

// ListMultipartUploads: <ListMultipartUploadsResult> with <IsTruncated> (required), <Upload> entries (Key,
// UploadId and Initiated required), NextKeyMarker and NextUploadIdMarker (at least one non-empty when
// truncated). With EncodingType url, Upload/Key and NextKeyMarker are decoded; NextUploadIdMarker is not.
result<list_uploads_page> parse_list_multipart_uploads(std::string_view body);

// DeleteObjects: <DeleteResult> with <Deleted><Key> entries and <Error> entries (Key and Code required,
// Message optional). A per-key <Error> is data here, not a failure of the call: the caller decides.
result<delete_objects_result> parse_delete_objects(std::string_view body);

// "2009-10-12T17:50:30.000Z": date, 'T', time, optional fraction (truncated to the second), then 'Z' or
// +hh:mm / -hh:mm. Anything else (no zone, out-of-range fields, seconds = 60) is nullopt.
std::optional<std::chrono::sys_seconds> parse_iso8601_timestamp(std::string_view text);

// The CompleteMultipartUpload request body, parts in the order given (S3 wants ascending part numbers; the
// caller keeps them so). <ChecksumCRC32C> is added for parts that carry one. ETags and checksums come from our
// own UploadPart responses and are printable ASCII; they are XML-escaped all the same.
std::string build_complete_multipart_upload(std::span<const completed_part> parts);

// The DeleteObjects request body (S3 takes 1 to 1,000 keys; <Quiet> makes it report only failures). Keys are
// XML-escaped; a key that XML 1.0 cannot carry (invalid UTF-8, control characters other than tab, LF and CR,
// U+FFFE/U+FFFF) is refused with engine_errc::invalid_argument naming it, as are an empty key, an empty list
// and more than 1,000 keys. Such keys exist in S3 but only DeleteObject (one key, in the URL) can remove them.
result<std::string> build_delete_objects(std::span<const std::string> keys, bool quiet);

}  // namespace cachestep::engine::detail
