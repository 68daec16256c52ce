#pragma once
// Subcommands of the bttnode program. Each takes the whole argv and the index of its first
// own argument, and returns the exit code. Each lives in a cmd_<name>.cpp of its own.

namespace bttnode {

int cmd_wallet(int argc, char** argv, int first);          // wallet create|import|address|balance|send
int cmd_tx(int argc, char** argv, int first);              // tx build|sign|broadcast
int cmd_message(int argc, char** argv, int first);         // message sign|verify
int cmd_devnet(int argc, char** argv, int first);          // devnet --listen --genesis ...
int cmd_create_torrent(int argc, char** argv, int first);  // create-torrent PATH -o OUT
int cmd_seed(int argc, char** argv, int first);            // seed TORRENT --data DIR
int cmd_download(int argc, char** argv, int first);        // download TORRENT|MAGNET --out DIR
int cmd_earnings(int argc, char** argv, int first);        // earnings --keystore F [--json]

}  // namespace bttnode

namespace bttnode {
int cmd_tx_broadcast(int argc, char** argv, int first);  // tx broadcast --node URL (stdin JSON)
}  // namespace bttnode
