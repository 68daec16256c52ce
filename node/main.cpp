#include "node/cli.hpp"

int main(int argc, char** argv) { return bttnode::run_cli(argc, argv); }
