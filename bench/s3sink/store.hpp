#pragma once
// Buckets, objects and multipart uploads, all in memory, behind one reader-writer lock (held only for map
// operations: bodies are received before and sent after, outside it).

#include "memory.hpp"

#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

namespace s3sink {

using clock_type = std::chrono::system_clock;
using header_list = std::vector<std::pair<std::string, std::string>>;  // stored response headers of an object

struct object {
    blob data;
    std::string etag;  // without quotes: 32 hex digits, or 32 hex digits + "-N" for a multipart upload
    clock_type::time_point modified;
    header_list headers;  // Content-Type, Content-Encoding, Cache-Control, ..., x-amz-meta-*
    int parts_count{0};
};
using object_ptr = std::shared_ptr<const object>;

struct part {
    blob data;
    std::string etag;
    clock_type::time_point modified;
};
using part_ptr = std::shared_ptr<const part>;

struct upload {
    std::string bucket, key, id;
    clock_type::time_point initiated;
    header_list headers;
    std::map<int, part_ptr> parts;
};

struct bucket {
    clock_type::time_point created;
    std::map<std::string, object_ptr> objects;
};

struct store {
    std::shared_mutex mutex;
    std::map<std::string, bucket> buckets;
    std::map<std::string, upload> uploads;  // by upload id
};

}  // namespace s3sink
