#pragma once
// What a restore tells the rest of the pipeline, and the key as the user wrote it turned into the key used.
//   $DRONE_OUTPUT (Drone/Harness step outputs; appended when set): cache_hit=true|false (the exact key),
//   cache_matched_key=<key restored, or empty>, cache_state=complete|partial (partial: a miss, or some mount
//   not restored).

#include "cache_jobs.hpp"

#include <boost/system/result.hpp>

#include <filesystem>
#include <string>

namespace cachestep::app {

void write_cache_outputs(const restore_report& report);

// The key template (see plugin/key_template.hpp) rendered in the workspace; an error names the position.
boost::system::result<std::string, std::string> render_cache_key(const std::string& text,
                                                                  const std::filesystem::path& workspace);

}  // namespace cachestep::app
