#include "p2p/wire/bencode.hpp"

#include <limits>

namespace p2p::bencode {

const Value* Value::find(std::string_view key) const {
  if (!is_dict()) return nullptr;
  const Dict& d = as_dict();
  auto it = d.find(key);
  return it == d.end() ? nullptr : &it->second;
}

DecodeError::DecodeError(const std::string& what, std::size_t offset)
    : std::runtime_error("bencode: " + what + " at byte " + std::to_string(offset)),
      offset_(offset) {}

namespace {

class Parser {
 public:
  Parser(std::string_view in, const Limits& limits) : in_(in), limits_(limits) {
    if (in.size() > limits.max_size) {
      throw DecodeError("input of " + std::to_string(in.size()) + " bytes exceeds the limit of " +
                            std::to_string(limits.max_size),
                        0);
    }
  }

  std::size_t pos() const { return pos_; }

  Value value(std::size_t depth) {
    if (++items_ > limits_.max_items) fail("too many values");
    if (pos_ >= in_.size()) fail("unexpected end of input");
    char c = in_[pos_];
    if (c == 'i') return Value(integer());
    if (c >= '0' && c <= '9') return Value(string());
    if (c == 'l' || c == 'd') {
      if (depth >= limits_.max_depth)
        fail("nesting deeper than " + std::to_string(limits_.max_depth));
      ++pos_;
      if (c == 'l') {
        List list;
        while (true) {
          if (pos_ >= in_.size()) fail("unterminated list");
          if (in_[pos_] == 'e') break;
          list.push_back(value(depth + 1));
        }
        ++pos_;
        return Value(std::move(list));
      }
      Dict dict;
      const std::string* prev = nullptr;
      while (true) {
        if (pos_ >= in_.size()) fail("unterminated dictionary");
        if (in_[pos_] == 'e') break;
        std::size_t key_pos = pos_;
        if (in_[pos_] < '0' || in_[pos_] > '9') fail("dictionary key is not a string");
        std::string key = string();
        if (prev) {
          if (key == *prev) fail_at("duplicate dictionary key", key_pos);
          if (key < *prev) fail_at("dictionary keys not sorted", key_pos);
        }
        auto it = dict.emplace_hint(dict.end(), std::move(key), Value());
        it->second = value(depth + 1);
        prev = &it->first;
      }
      ++pos_;
      return Value(std::move(dict));
    }
    fail(std::string("unexpected character '") + printable(c) + "'");
  }

  Integer integer() {
    std::size_t start = pos_;
    ++pos_;  // 'i'
    bool negative = false;
    if (pos_ < in_.size() && in_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    std::size_t digits = pos_;
    // Accumulate as a negative number so INT64_MIN fits.
    Integer acc = 0;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      int d = in_[pos_] - '0';
      if (acc < (std::numeric_limits<Integer>::min() + d) / 10) fail_at("integer overflow", start);
      acc = acc * 10 - d;
      ++pos_;
    }
    if (pos_ >= in_.size()) fail("unterminated integer");
    if (in_[pos_] != 'e')
      fail(std::string("unexpected character '") + printable(in_[pos_]) + "' in integer");
    if (pos_ == digits) fail_at("integer without digits", start);
    if (in_[digits] == '0' && pos_ - digits > 1) fail_at("integer with a leading zero", start);
    if (negative && acc == 0) fail_at("negative zero", start);
    ++pos_;
    if (!negative) {
      if (acc == std::numeric_limits<Integer>::min()) fail_at("integer overflow", start);
      return -acc;
    }
    return acc;
  }

  std::string string() {
    std::size_t start = pos_;
    std::size_t len = 0;
    std::size_t digits = pos_;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      if (len > in_.size()) fail_at("string length too large", start);
      len = len * 10 + static_cast<std::size_t>(in_[pos_] - '0');
      ++pos_;
    }
    if (pos_ >= in_.size()) fail("unexpected end of input in string length");
    if (in_[pos_] != ':') fail("expected ':' after string length");
    if (in_[digits] == '0' && pos_ - digits > 1)
      fail_at("string length with a leading zero", start);
    ++pos_;
    if (len > in_.size() - pos_)
      fail_at("string of " + std::to_string(len) + " bytes runs past the end", start);
    std::string s(in_.substr(pos_, len));
    pos_ += len;
    return s;
  }

  [[noreturn]] void fail(const std::string& what) const { throw DecodeError(what, pos_); }
  [[noreturn]] static void fail_at(const std::string& what, std::size_t at) {
    throw DecodeError(what, at);
  }

 private:
  static std::string printable(char c) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) return std::string(1, c);
    static constexpr char kDigits[] = "0123456789abcdef";
    return std::string("\\x") + kDigits[u >> 4] + kDigits[u & 0xf];
  }

  std::string_view in_;
  const Limits& limits_;
  std::size_t pos_ = 0;
  std::size_t items_ = 0;
};

}  // namespace

Value decode(std::string_view in, const Limits& limits) {
  Parser p(in, limits);
  Value v = p.value(0);
  if (p.pos() != in.size()) p.fail("trailing data after the value");
  return v;
}

Value decode_prefix(std::string_view in, std::size_t& consumed, const Limits& limits) {
  Parser p(in.substr(0, std::min(in.size(), limits.max_size)), limits);
  Value v = p.value(0);
  consumed = p.pos();
  return v;
}

void encode_to(const Value& v, std::string& out) {
  switch (v.type()) {
    case Value::Type::integer:
      out += 'i';
      out += std::to_string(v.as_int());
      out += 'e';
      break;
    case Value::Type::string:
      out += std::to_string(v.as_string().size());
      out += ':';
      out += v.as_string();
      break;
    case Value::Type::list:
      out += 'l';
      for (const auto& e : v.as_list()) encode_to(e, out);
      out += 'e';
      break;
    case Value::Type::dict:
      out += 'd';
      for (const auto& [k, e] : v.as_dict()) {
        out += std::to_string(k.size());
        out += ':';
        out += k;
        encode_to(e, out);
      }
      out += 'e';
      break;
  }
}

std::string encode(const Value& v) {
  std::string out;
  encode_to(v, out);
  return out;
}

std::optional<std::string_view> raw_dict_value(std::string_view doc, std::string_view key,
                                               const Limits& limits) {
  // Decoding the whole document validates it; then walk the top level again for offsets.
  Value whole = decode(doc, limits);
  if (!whole.is_dict()) throw DecodeError("not a dictionary", 0);
  if (!whole.find(key)) return std::nullopt;
  std::size_t consumed = 0;
  // Step over "d", then key/value pairs, parsing each value to learn its extent.
  std::string_view rest = doc.substr(1);
  std::size_t base = 1;
  while (!rest.empty() && rest[0] != 'e') {
    std::size_t k = 0;
    Value kv = decode_prefix(rest, k, limits);
    std::size_t vstart = k;
    Value vv = decode_prefix(rest.substr(vstart), consumed, limits);
    if (kv.as_string() == key) return doc.substr(base + vstart, consumed);
    rest = rest.substr(vstart + consumed);
    base += vstart + consumed;
  }
  return std::nullopt;
}

}  // namespace p2p::bencode
