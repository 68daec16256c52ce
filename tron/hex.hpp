#pragma once
// Byte buffers and hexadecimal text for the TRON code, on top of base/hex.
#include <string_view>

#include "base/hex.hpp"

namespace tron {

using base::as_bytes;
using base::Bytes;
using base::to_hex;

// Parses hex (either case, optional "0x" prefix). Throws std::invalid_argument on odd length
// or a non-hex digit.
Bytes from_hex(std::string_view text);

}  // namespace tron
