#pragma once

namespace bttnode {

// Parses the command line and runs one subcommand. Returns the process exit code.
int run_cli(int argc, char** argv);

}  // namespace bttnode
