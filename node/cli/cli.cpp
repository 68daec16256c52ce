#include "node/cli/cli.hpp"

#include <exception>
#include <iostream>
#include <string_view>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"

namespace bttnode {

namespace {

struct Command {
  std::string_view name;
  int (*run)(int argc, char** argv, int first);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"wallet", cmd_wallet, "create, import, show and use a TRON wallet"},
    {"tx", cmd_tx, "build, sign and broadcast TRON transactions"},
    {"message", cmd_message, "sign and verify TIP-191 messages"},
    {"devnet", cmd_devnet, "run the local TRON devnet (java-tron HTTP API)"},
    {"create-torrent", cmd_create_torrent, "make a .torrent file from a file or folder"},
    {"seed", cmd_seed, "seed a torrent"},
    {"download", cmd_download, "download a torrent or magnet link"},
    {"earnings", cmd_earnings, "show what the wallet earned, spent and has pending"},
};

void print_usage(std::ostream& out) {
  out << "usage: bttnode <command> [options]\n\ncommands:\n";
  for (const auto& c : kCommands) {
    out << "  " << c.name << std::string(16 - c.name.size(), ' ') << c.summary << "\n";
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return 2;
  }
  std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return 0;
  }
  for (const auto& c : kCommands) {
    if (c.name != name) continue;
    try {
      return c.run(argc, argv, 2);
    } catch (const UsageError& e) {
      std::cerr << "bttnode " << name << ": " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "bttnode " << name << ": error: " << e.what() << "\n";
      return 1;
    }
  }
  std::cerr << "bttnode: unknown command '" << name << "'\n";
  print_usage(std::cerr);
  return 2;
}

}  // namespace bttnode
