#pragma once
// Plugin mode: cache-step as a drop-in for the Drone cache plugin (drone-plugins/drone-meltwater-cache) behind
// Harness CI's "Save Cache to S3" / "Restore Cache From S3" steps. It runs when cache-step is started with no
// subcommand and PLUGIN_REBUILD or PLUGIN_RESTORE is set, reads the PLUGIN_* settings (plugin/plugin_settings.hpp),
// and saves or restores each mount at "<key>/<mount>" with the plugin's archive names and log lines.
//
// Exit status, as the plugin: a configuration error always exits 1; a failed save or restore exits 1 only with
// PLUGIN_EXIT_CODE=true (else it is logged and the step goes on), a missing key fails only with
// PLUGIN_FAIL_RESTORE_IF_KEY_NOT_PRESENT; an interrupted run exits 128+signal.

namespace cachestep::app {

bool plugin_mode_requested();
int run_plugin_mode();

}  // namespace cachestep::app
