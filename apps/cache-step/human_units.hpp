#pragma once
// Sizes for people: "12.3 MiB".

#include <string>

namespace cachestep::app {

std::string human_bytes(double bytes);

}  // namespace cachestep::app
