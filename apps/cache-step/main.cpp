// cache-step: CI cache transfers to and from S3. Commands so far: cp.
#include "cp_command.hpp"

#include <CLI/CLI.hpp>

#include <iostream>

#ifndef CACHESTEP_VERSION
#define CACHESTEP_VERSION "0.0.0"
#endif

int main(int argc, char** argv)
{
    CLI::App app{"cache-step: save and restore CI caches in S3, fast"};
    app.set_version_flag("--version", std::string("cache-step ") + CACHESTEP_VERSION);
    app.require_subcommand(1);
    cachestep::app::cp_options cp;
    cachestep::app::add_cp_command(app, cp);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);  // prints help or the usage error; 0 for --help/--version
    }
    if (app.got_subcommand("cp")) return cachestep::app::run_cp(cp);
    return 2;
}
