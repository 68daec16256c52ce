#pragma once
// For a process that may hold a private key: no core file (RLIMIT_CORE 0) and not dumpable
// (PR_SET_DUMPABLE 0: no core even if a parent raises the limit again, no ptrace attach by
// other processes of the same user, /proc/PID/mem and environ closed to them).
#include <string>

namespace wallet {

// Returns an empty string on success, else what could not be set (the caller warns).
std::string harden_process();

}  // namespace wallet
