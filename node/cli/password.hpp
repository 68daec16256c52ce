#pragma once
// Where a keystore password comes from, first found wins:
//   1. --password-file FILE (its first line, line ending stripped),
//   2. the BTTNODE_PASSWORD environment variable,
//   3. a prompt on the controlling terminal (/dev/tty, echo off), asked twice for a new
//      keystore. Standard input is never read, so it stays free for data (wallet import).
// Throws std::runtime_error when none is available, when the two entries differ, or when a
// new keystore would get an empty password.
#include <optional>
#include <string>

#include "node/cli/args.hpp"
#include "tron/secure_memory.hpp"

namespace bttnode {

// The password in locked memory, wiped when released. Prefer this one.
tron::SecretString read_secret_password(const Args& args, bool confirm_new);
// A password from --password-file or BTTNODE_PASSWORD, never a prompt; nullopt if neither is
// given. For commands that can work without one but check more with one.
std::optional<tron::SecretString> given_password(const Args& args);

}  // namespace bttnode
