#include "tron/hex.hpp"

#include <stdexcept>

namespace tron {

Bytes from_hex(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2);
  if (text.size() % 2 != 0) throw std::invalid_argument("hex text has an odd number of digits");
  auto bytes = base::parse_hex(text);
  if (!bytes) throw std::invalid_argument("not a hex digit in hex text");
  return std::move(*bytes);
}

}  // namespace tron
