// S3 XML answers as strings (see xml.hpp).

#include "xml.hpp"

namespace s3sink {

void xml_escape(std::string_view in, std::string& out)
{
    for (char c : in) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        case '\'': out += "&apos;"; break;
        case '\r': out += "&#13;"; break;
        case '\n': out += "&#10;"; break;
        case '\t': out += "&#9;"; break;
        default: out.push_back(c);
        }
    }
}

void el(std::string& out, std::string_view name, std::string_view value)
{
    out.push_back('<');
    out.append(name).push_back('>');
    xml_escape(value, out);
    out.append("</").append(name).push_back('>');
}

std::string xml_head(std::string_view root)
{
    std::string out(xml_decl);
    out.push_back('<');
    out.append(root).append(" xmlns=\"").append(xmlns).append("\">");
    return out;
}

}  // namespace s3sink
