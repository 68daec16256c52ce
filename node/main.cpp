#include <iostream>

#include "node/cli/cli.hpp"
#include "wallet/process_hardening.hpp"

int main(int argc, char** argv) {
  // Every subcommand may unlock a keystore, so every process starts without core dumps: a
  // crash must never leave a private key on disk.
  if (std::string problem = wallet::harden_process(); !problem.empty()) {
    std::cerr << "bttnode: warning: " << problem << "\n";
  }
  return bttnode::run_cli(argc, argv);
}
