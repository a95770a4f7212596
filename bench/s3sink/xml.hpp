#pragma once
// Building S3's XML answers as strings: the declaration and namespaced root, escaped <Name>value</Name> elements,
// and the fixed owner snippets the listings repeat. Answers are written by hand (not through pugixml, which only
// parses request bodies) because they are small, flat and sent once.

#include <string>
#include <string_view>

namespace s3sink {

inline constexpr std::string_view xml_decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
inline constexpr std::string_view xmlns = "http://s3.amazonaws.com/doc/2006-03-01/";
inline constexpr std::string_view owner_xml = "<Owner><ID>s3sink</ID><DisplayName>s3sink</DisplayName></Owner>";
inline constexpr std::string_view initiator_xml =
    "<Initiator><ID>s3sink</ID><DisplayName>s3sink</DisplayName></Initiator>";

void xml_escape(std::string_view in, std::string& out);
void el(std::string& out, std::string_view name, std::string_view value);  // <name>escaped value</name>
inline void el_bool(std::string& out, std::string_view name, bool value) { el(out, name, value ? "true" : "false"); }
std::string xml_head(std::string_view root);  // declaration + <root xmlns="...">

}  // namespace s3sink
