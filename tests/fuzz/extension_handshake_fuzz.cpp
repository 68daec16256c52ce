// libFuzzer target: the BEP 10 extended handshake parser.
#include <cstdlib>
#include <string_view>

#include "p2p/wire/extension_handshake.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto h = p2p::ext::parse_handshake(in, &error);
  if (!h) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (!h->dict.is_dict()) std::abort();
  if (h->client.size() > 64) std::abort();
  if (h->reqq < 0 || h->reqq > p2p::ext::kMaxReqq) std::abort();
  if (h->metadata_size < -1) std::abort();
  return 0;
}
