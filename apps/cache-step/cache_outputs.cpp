#include "cache_outputs.hpp"

#include "plugin/key_template.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace cachestep::app {

void write_cache_outputs(const restore_report& report)
{
    const char* path = std::getenv("DRONE_OUTPUT");
    if (!path || !*path) return;
    std::ofstream out(path, std::ios::app);
    out << "cache_hit=" << (report.exact_hit ? "true" : "false") << "\n"
        << "cache_matched_key=" << report.matched_key << "\n"
        << "cache_state=" << (report.complete() ? "complete" : "partial") << "\n";
    if (!out) std::cerr << "cache-step: warning: cannot append the step outputs to DRONE_OUTPUT " << path << "\n";
}

boost::system::result<std::string, std::string> render_cache_key(const std::string& text,
                                                                  const std::filesystem::path& workspace)
{
    using key_result = boost::system::result<std::string, std::string>;
    auto rendered = plugin::render_key(text, plugin::host_template_context(workspace));
    if (!rendered) return key_result(boost::system::in_place_error, "key '" + text + "': " + rendered.error().to_string());
    if (rendered->empty()) return key_result(boost::system::in_place_error, "key '" + text + "' renders to nothing");
    return key_result(boost::system::in_place_value, *rendered);
}

}  // namespace cachestep::app
