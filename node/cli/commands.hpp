#pragma once
// Subcommands of the bttnode program, each in a cmd_<name>.cpp of its own. Each takes the
// options the command line parser read (node/cli/cli.cpp holds every command's options and
// help) and returns the exit code. Commands with actions (wallet create, tx sign, ...) find
// the action as their first positional.
#include "node/cli/args.hpp"

namespace bttnode {

int cmd_wallet(const Args& args);          // wallet create|import|address|balance|fee|send
int cmd_tx(const Args& args);              // tx build|sign
int cmd_tx_broadcast(const Args& args);    // tx broadcast --node URL (stdin JSON)
int cmd_message(const Args& args);         // message sign|verify
int cmd_devnet(const Args& args);          // devnet --listen --genesis ...
int cmd_create_torrent(const Args& args);  // create-torrent PATH -o OUT
int cmd_seed(const Args& args);            // seed TORRENT --data DIR
int cmd_download(const Args& args);        // download TORRENT|MAGNET --out DIR
int cmd_earnings(const Args& args);        // earnings --keystore F [--json]
int cmd_run(const Args& args);             // run [--config FILE]: the daemon

}  // namespace bttnode
