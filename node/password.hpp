#pragma once
// Where a keystore password comes from, first found wins:
//   1. --password-file FILE (its first line, line ending stripped),
//   2. the BTTNODE_PASSWORD environment variable,
//   3. a prompt on the controlling terminal (/dev/tty, echo off), asked twice for a new
//      keystore. Standard input is never read, so it stays free for data (wallet import).
// Throws std::runtime_error when none is available, when the two entries differ, or when a
// new keystore would get an empty password.
#include <string>

#include "node/args.hpp"

namespace bttnode {

std::string read_password(const Args& args, bool confirm_new);

}  // namespace bttnode
