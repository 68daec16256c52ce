#include "node/cli.hpp"

#include <iostream>
#include <string_view>

namespace bttnode {

int run_cli(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) == "--help") {
    std::cout << "usage: bttnode <command> [options]\n";
    return argc < 2 ? 2 : 0;
  }
  std::cerr << "bttnode: unknown command '" << argv[1] << "'\n";
  return 2;
}

}  // namespace bttnode
