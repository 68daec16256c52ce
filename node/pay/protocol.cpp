#include "node/pay/protocol.hpp"

#include <algorithm>
#include <limits>

#include "p2p/wire/bencode.hpp"
#include "tron/hex.hpp"

namespace bttnode::pay {

namespace bc = p2p::bencode;

namespace {

const U256 kMaxAmount = std::numeric_limits<U256>::max();

U256 mib_rounded_down(const U256& numerator) {
  return numerator >> 20;
}

bc::Value amount_value(const U256& a) {
  if (a <= U256(std::numeric_limits<std::int64_t>::max())) {
    return bc::Value(static_cast<bc::Integer>(a));
  }
  return bc::Value(a.str());
}

std::string bytes_of(const std::uint8_t* p, std::size_t n) {
  return std::string(reinterpret_cast<const char*>(p), n);
}

class Reader {
 public:
  explicit Reader(const bc::Dict& d) : d_(d) {}

  const bc::Value& field(const char* key) const {
    auto it = d_.find(key);
    if (it == d_.end()) throw ProtocolError(std::string("missing field '") + key + "'");
    return it->second;
  }
  std::int64_t integer(const char* key, std::int64_t min = 0) const {
    const auto& v = field(key);
    if (!v.is_int()) throw ProtocolError(std::string("field '") + key + "' is not an integer");
    if (v.as_int() < min) throw ProtocolError(std::string("field '") + key + "' is out of range");
    return v.as_int();
  }
  std::int64_t optional_integer(const char* key, std::int64_t absent) const {
    return d_.find(key) == d_.end() ? absent : integer(key);
  }
  const std::string& string(const char* key) const {
    const auto& v = field(key);
    if (!v.is_string()) throw ProtocolError(std::string("field '") + key + "' is not a string");
    return v.as_string();
  }
  std::optional<std::string> optional_string(const char* key) const {
    auto it = d_.find(key);
    if (it == d_.end()) return std::nullopt;
    if (!it->second.is_string()) {
      throw ProtocolError(std::string("field '") + key + "' is not a string");
    }
    return it->second.as_string();
  }
  U256 amount(const char* key) const {
    const auto& v = field(key);
    if (v.is_int()) {
      if (v.as_int() < 0) throw ProtocolError(std::string("field '") + key + "' is negative");
      return U256(v.as_int());
    }
    if (!v.is_string()) throw ProtocolError(std::string("field '") + key + "' is not an amount");
    const std::string& s = v.as_string();
    if (s.empty() || s.size() > 78 || (s.size() > 1 && s[0] == '0')) {
      throw ProtocolError(std::string("field '") + key + "' is not a decimal amount");
    }
    U256 out = 0;
    for (char c : s) {
      if (c < '0' || c > '9') {
        throw ProtocolError(std::string("field '") + key + "' is not a decimal amount");
      }
      U256 digit = U256(c - '0');
      if (out > (kMaxAmount - digit) / 10) {
        throw ProtocolError(std::string("field '") + key + "' is too large");
      }
      out = out * 10 + digit;
    }
    return out;
  }
  tron::Address address(const char* key) const {
    auto a = tron::Address::parse(string(key));
    if (!a) throw ProtocolError(std::string("field '") + key + "' is not a TRON address");
    return *a;
  }
  tron::Hash32 hash(const char* key) const {
    const std::string& s = string(key);
    if (s.size() != 32) throw ProtocolError(std::string("field '") + key + "' is not 32 bytes");
    tron::Hash32 h;
    std::copy(s.begin(), s.end(), h.begin());
    return h;
  }

 private:
  const bc::Dict& d_;
};

bc::Dict header(const char* type, std::int64_t version) {
  bc::Dict d;
  d["t"] = type;
  d["v"] = bc::Integer(version);
  return d;
}

}  // namespace

U256 owed(std::int64_t bytes, const U256& price) {
  if (bytes <= 0) return 0;
  return mib_rounded_down(U256(bytes) * price);
}

std::int64_t bytes_covered(const U256& amount, const U256& price) {
  if (price == 0) return std::numeric_limits<std::int64_t>::max();
  U256 bytes = ((amount << 20) + price - 1) / price;
  if (bytes > U256(std::numeric_limits<std::int64_t>::max())) {
    return std::numeric_limits<std::int64_t>::max();
  }
  return static_cast<std::int64_t>(bytes);
}

std::int64_t bytes_paid_for(const U256& amount, const U256& price) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  if (price == 0) return kMax;
  U256 bytes = (amount << 20) / price;
  return bytes >= U256(kMax) ? kMax : static_cast<std::int64_t>(bytes);
}

const char* type_name(const Message& m) {
  struct {
    const char* operator()(const Terms&) { return "terms"; }
    const char* operator()(const Bind&) { return "bind"; }
    const char* operator()(const Bid&) { return "bid"; }
    const char* operator()(const Invoice&) { return "invoice"; }
    const char* operator()(const Settle&) { return "settle"; }
    const char* operator()(const Receipt&) { return "receipt"; }
    const char* operator()(const Reject&) { return "reject"; }
  } name;
  return std::visit(name, m);
}

std::int64_t session_version(std::int64_t theirs) {
  if (theirs < kMinVersion) return kMinVersion;
  return std::min(theirs, kVersion);
}

std::string encode(const Message& m, std::int64_t version) {
  const bool v2 = version >= 2;
  bc::Dict d = header(type_name(m), version);
  if (auto* t = std::get_if<Terms>(&m)) {
    d["addr"] = t->addr.to_base58();
    d["chain"] = t->chain;
    d["token"] = t->token.to_string();
    d["price"] = amount_value(t->price);
    d["credit"] = bc::Integer(t->credit);
    d["min_settle"] = amount_value(t->min_settle);
    d["conf"] = bc::Integer(t->confirmations);
    d["nonce"] = t->nonce;
    if (v2 && t->max_credit > 0) d["max_credit"] = bc::Integer(t->max_credit);
  } else if (auto* b = std::get_if<Bind>(&m)) {
    d["addr"] = b->addr.to_base58();
    d["sig"] = bytes_of(b->sig.data(), b->sig.size());
  } else if (auto* bid = std::get_if<Bid>(&m)) {
    d["price"] = amount_value(bid->price);
  } else if (auto* inv = std::get_if<Invoice>(&m)) {
    d["seq"] = bc::Integer(inv->seq);
    d["bytes"] = bc::Integer(inv->bytes);
    d["owed"] = amount_value(inv->owed);
    d["paid"] = amount_value(inv->paid);
    if (inv->carried > 0) d["carried"] = bc::Integer(inv->carried);
    if (v2 && inv->window > 0) d["window"] = bc::Integer(inv->window);
    if (v2 && inv->pending > 0) d["pending"] = amount_value(inv->pending);
  } else if (auto* s = std::get_if<Settle>(&m)) {
    d["txid"] = bytes_of(s->txid.data(), s->txid.size());
    d["amount"] = amount_value(s->amount);
    if (s->prior) d["prior"] = bc::Integer(1);
    if (v2 && !s->tx.empty()) d["tx"] = s->tx;
  } else if (auto* r = std::get_if<Receipt>(&m)) {
    d["txid"] = bytes_of(r->txid.data(), r->txid.size());
    d["credited"] = amount_value(r->credited);
    d["paid"] = amount_value(r->paid);
    if (v2 && r->provisional) d["prov"] = bc::Integer(1);
    if (v2 && r->window > 0) d["window"] = bc::Integer(r->window);
  } else if (auto* rej = std::get_if<Reject>(&m)) {
    d["reason"] = rej->reason;
    if (rej->txid) d["txid"] = bytes_of(rej->txid->data(), rej->txid->size());
    if (!rej->msg.empty()) d["msg"] = rej->msg;
  }
  return bc::encode(bc::Value(std::move(d)));
}

Message decode(std::string_view body, std::int64_t* version_out) {
  bc::Limits limits;
  limits.max_depth = 4;
  limits.max_size = 16 * 1024;
  limits.max_items = 64;
  bc::Value v;
  try {
    v = bc::decode(body, limits);
  } catch (const bc::DecodeError& e) {
    throw ProtocolError(std::string("not bencode: ") + e.what());
  }
  if (!v.is_dict()) throw ProtocolError("not a dictionary");
  Reader r(v.as_dict());
  const std::string& type = r.string("t");
  std::int64_t version = r.integer("v");
  if (version < kMinVersion || version > kVersion) {
    throw ProtocolError("unsupported version " + std::to_string(version));
  }
  if (version_out) *version_out = version;
  const bool v2 = version >= 2;
  try {
    if (type == "terms") {
      Terms t;
      t.addr = r.address("addr");
      t.chain = r.string("chain");
      t.token = tron::Token::parse(r.string("token"));
      t.price = r.amount("price");
      t.credit = r.integer("credit");
      t.min_settle = r.amount("min_settle");
      t.confirmations = r.integer("conf", 1);
      t.nonce = r.string("nonce");
      if (t.nonce.size() != kNonceSize) throw ProtocolError("nonce is not 16 bytes");
      if (t.chain.empty() || t.chain.size() > 128) throw ProtocolError("bad chain id");
      if (v2) t.max_credit = r.optional_integer("max_credit", 0);
      return t;
    }
    if (type == "bind") {
      Bind b;
      b.addr = r.address("addr");
      const std::string& sig = r.string("sig");
      if (sig.size() != b.sig.size()) throw ProtocolError("sig is not 65 bytes");
      std::copy(sig.begin(), sig.end(), b.sig.begin());
      return b;
    }
    if (type == "bid") return Bid{r.amount("price")};
    if (type == "invoice") {
      Invoice i;
      i.seq = r.integer("seq");
      i.bytes = r.integer("bytes");
      i.owed = r.amount("owed");
      i.paid = r.amount("paid");
      i.carried = r.optional_integer("carried", 0);
      if (v2) {
        i.window = r.optional_integer("window", 0);
        if (v.find("pending")) i.pending = r.amount("pending");
      }
      return i;
    }
    if (type == "settle") {
      Settle st;
      st.txid = r.hash("txid");
      st.amount = r.amount("amount");
      auto prior = v.find("prior");
      st.prior = prior && prior->is_int() && prior->as_int() == 1;
      if (v2) {
        if (auto tx = r.optional_string("tx")) {
          if (tx->size() > kMaxSettleTx) throw ProtocolError("tx longer than 4096 bytes");
          st.tx = *tx;
        }
      }
      return st;
    }
    if (type == "receipt") {
      Receipt rc{r.hash("txid"), r.amount("credited"), r.amount("paid")};
      if (v2) {
        rc.provisional = r.optional_integer("prov", 0) == 1;
        rc.window = r.optional_integer("window", 0);
      }
      return rc;
    }
    if (type == "reject") {
      Reject j;
      j.reason = r.string("reason");
      if (j.reason.size() > 64) throw ProtocolError("reason too long");
      if (r.optional_string("txid")) j.txid = r.hash("txid");
      j.msg = r.optional_string("msg").value_or("");
      if (j.msg.size() > 1024) j.msg.resize(1024);
      return j;
    }
  } catch (const std::invalid_argument& e) {
    throw ProtocolError(e.what());
  }
  throw ProtocolError("unknown message type '" + type.substr(0, 32) + "'");
}

std::string bind_text(std::string_view chain, std::string_view info_hash_hex,
                      std::string_view seeder_peer_id_hex, std::string_view leecher_peer_id_hex,
                      std::string_view nonce) {
  std::string text = "btt_pay bind v1\nchain:";
  text += chain;
  text += "\ninfo_hash:";
  text += info_hash_hex;
  text += "\nseeder:";
  text += seeder_peer_id_hex;
  text += "\nleecher:";
  text += leecher_peer_id_hex;
  text += "\nnonce:";
  text += tron::to_hex(tron::Bytes(nonce.begin(), nonce.end()));
  return text;
}

}  // namespace bttnode::pay
