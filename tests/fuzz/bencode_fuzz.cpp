// libFuzzer target: strict bencode. Anything accepted must re-encode to the same bytes
// (the decoder only accepts the canonical form).
#include <cstdlib>
#include <string>
#include <string_view>

#include "p2p/wire/bencode.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  namespace be = p2p::bencode;
  be::Limits limits;
  limits.max_size = 1 << 20;
  try {
    be::Value v = be::decode(in, limits);
    if (be::encode(v) != in) std::abort();
    if (v.is_dict()) {
      for (const auto& [key, value] : v.as_dict()) {
        auto raw = be::raw_dict_value(in, key, limits);
        if (!raw || be::encode(value) != *raw) std::abort();
      }
    }
  } catch (const be::DecodeError& e) {
    if (e.offset() > size) std::abort();
  }
  try {
    std::size_t used = 0;
    be::Value v = be::decode_prefix(in, used, limits);
    if (used == 0 || used > size || be::encode(v) != in.substr(0, used)) std::abort();
  } catch (const be::DecodeError&) {
  }
  return 0;
}
