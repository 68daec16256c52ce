#include <iostream>

#include "node/commands.hpp"

namespace bttnode {

// Placeholder until the command is built.
int cmd_tx_broadcast(int, char**, int) {
  std::cerr << "bttnode: this command is not available yet\n";
  return 1;
}

}  // namespace bttnode
