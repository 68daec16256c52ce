#include "p2p/wire/extension_handshake.hpp"

#include <algorithm>

namespace p2p::ext {

std::optional<Handshake> parse_handshake(std::string_view body, std::string* error) {
  auto failed = [&](std::string why) -> std::optional<Handshake> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  Handshake h;
  try {
    bencode::Limits lim;
    lim.max_depth = 8;
    lim.max_size = kMaxHandshakeSize;
    h.dict = bencode::decode(body, lim);
  } catch (const std::exception& e) {
    return failed(e.what());
  }
  if (!h.dict.is_dict()) return failed("not a dictionary");
  if (const auto* m = h.dict.find("m"); m && m->is_dict()) {
    for (const auto& [name, idv] : m->as_dict()) {
      if (!idv.is_int()) continue;
      std::int64_t id = idv.as_int();
      h.ids[name] = id <= 0 || id > 255 ? 0 : std::uint8_t(id);
    }
  }
  if (const auto* v = h.dict.find("v"); v && v->is_string())
    h.client = v->as_string().substr(0, 64);
  if (const auto* p = h.dict.find("p");
      p && p->is_int() && p->as_int() > 0 && p->as_int() < 65536) {
    h.listen_port = std::uint16_t(p->as_int());
  }
  if (const auto* q = h.dict.find("reqq"); q && q->is_int() && q->as_int() > 0) {
    h.reqq = int(std::min<std::int64_t>(q->as_int(), kMaxReqq));
  }
  if (const auto* ms = h.dict.find("metadata_size"); ms && ms->is_int() && ms->as_int() >= 0) {
    h.metadata_size = ms->as_int();
  }
  return h;
}

}  // namespace p2p::ext
