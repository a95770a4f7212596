// cache-step: CI cache transfers to and from S3. Commands so far: cp, pack, unpack.
#include "archive_commands.hpp"
#include "cache_commands.hpp"
#include "cp_command.hpp"
#include "plugin_mode.hpp"

#include <CLI/CLI.hpp>

#include <clocale>
#include <iostream>

#ifndef CACHESTEP_VERSION
#define CACHESTEP_VERSION "0.0.0"
#endif

int main(int argc, char** argv)
{
    // File names are bytes, nearly always UTF-8: with a UTF-8 LC_CTYPE libarchive stores non-ASCII names as
    // plain pax UTF-8 paths (in the "C" locale it would mark every such entry hdrcharset=BINARY, which GNU tar
    // warns about). Names that are not valid UTF-8 still go through as bytes.
    std::setlocale(LC_CTYPE, "C.UTF-8");
    // No subcommand and PLUGIN_REBUILD / PLUGIN_RESTORE set: the Drone cache plugin's drop-in.
    if (argc == 1 && cachestep::app::plugin_mode_requested()) return cachestep::app::run_plugin_mode();
    CLI::App app{"cache-step: save and restore CI caches in S3, fast"};
    app.set_version_flag("--version", std::string("cache-step ") + CACHESTEP_VERSION);
    app.require_subcommand(1);
    app.footer("Plugin mode: with no subcommand and PLUGIN_REBUILD=true or PLUGIN_RESTORE=true, cache-step runs as\n"
               "the Drone cache plugin (plugins/cache) from its PLUGIN_* settings; see README.md.");
    cachestep::app::cp_options cp;
    cachestep::app::add_cp_command(app, cp);
    cachestep::app::pack_command_options pack;
    cachestep::app::add_pack_command(app, pack);
    cachestep::app::unpack_command_options unpack;
    cachestep::app::add_unpack_command(app, unpack);
    cachestep::app::save_flags save;
    cachestep::app::restore_flags restore;
    cachestep::app::manage_flags ls, rm, prune;
    cachestep::app::add_cache_commands(app, save, restore, ls, rm, prune);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);  // prints help or the usage error; 0 for --help/--version
    }
    if (app.got_subcommand("cp")) return cachestep::app::run_cp(cp);
    if (app.got_subcommand("pack")) return cachestep::app::run_pack(pack);
    if (app.got_subcommand("unpack")) return cachestep::app::run_unpack(unpack);
    if (app.got_subcommand("save")) return cachestep::app::run_save(save);
    if (app.got_subcommand("restore")) return cachestep::app::run_restore(restore);
    if (app.got_subcommand("ls")) return cachestep::app::run_ls(ls);
    if (app.got_subcommand("rm")) return cachestep::app::run_rm(rm);
    if (app.got_subcommand("prune")) return cachestep::app::run_prune(prune);
    return 2;
}
