// libFuzzer target: btt_pay extension messages from a peer. decode either gives a message
// that encodes and decodes back to itself, or throws ProtocolError.
#include <cstdlib>
#include <string_view>

#include "node/pay/protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace bttnode::pay;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    Message m = decode(body);
    std::string again = encode(m);
    if (!(decode(again) == m)) std::abort();
    (void)type_name(m);
  } catch (const ProtocolError&) {
  }
  return 0;
}
