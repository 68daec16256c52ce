#pragma once
// Strict bencode (BEP 3): decoding rejects anything that is not the one canonical encoding —
// integers with leading zeros or "-0", string lengths with leading zeros, dictionary keys out
// of order or repeated, trailing bytes — and bounds nesting depth and total size. Errors carry
// the byte offset where decoding stopped.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace p2p::bencode {

class Value;
using Integer = std::int64_t;
using String = std::string;  // byte string; may hold any bytes
using List = std::vector<Value>;
using Dict = std::map<std::string, Value, std::less<>>;

class Value {
 public:
  enum class Type { integer, string, list, dict };

  Value() : v_(Integer{0}) {}
  Value(Integer i) : v_(i) {}  // NOLINT(google-explicit-constructor)
  Value(int i) : v_(Integer{i}) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(List l) : v_(std::move(l)) {}
  Value(Dict d) : v_(std::move(d)) {}

  Type type() const { return static_cast<Type>(v_.index()); }
  bool is_int() const { return type() == Type::integer; }
  bool is_string() const { return type() == Type::string; }
  bool is_list() const { return type() == Type::list; }
  bool is_dict() const { return type() == Type::dict; }

  // Accessors throw std::bad_variant_access on the wrong type; check first.
  Integer as_int() const { return std::get<Integer>(v_); }
  const String& as_string() const { return std::get<String>(v_); }
  const List& as_list() const { return std::get<List>(v_); }
  const Dict& as_dict() const { return std::get<Dict>(v_); }
  String& as_string() { return std::get<String>(v_); }
  List& as_list() { return std::get<List>(v_); }
  Dict& as_dict() { return std::get<Dict>(v_); }

  // Dictionary lookup: nullptr if this is not a dict or the key is absent.
  const Value* find(std::string_view key) const;

  bool operator==(const Value& other) const = default;

 private:
  std::variant<Integer, String, List, Dict> v_;
};

struct Limits {
  std::size_t max_depth = 64;                // nested lists/dicts
  std::size_t max_size = 64u * 1024 * 1024;  // input bytes
  std::size_t max_items = 4u * 1024 * 1024;  // total values in the document
};

class DecodeError : public std::runtime_error {
 public:
  DecodeError(const std::string& what, std::size_t offset);
  std::size_t offset() const { return offset_; }  // byte offset of the fault in the input

 private:
  std::size_t offset_;
};

// Decodes exactly one value that spans the whole input.
Value decode(std::string_view in, const Limits& limits = {});

// Decodes one value at the start of `in` and sets `consumed` to its length; bytes after it are
// allowed (BEP 9 data messages carry raw bytes after a bencoded dict).
Value decode_prefix(std::string_view in, std::size_t& consumed, const Limits& limits = {});

// Canonical encoding (dictionary keys come out sorted because Dict is ordered).
std::string encode(const Value& v);
void encode_to(const Value& v, std::string& out);

// The exact encoded bytes of the value under `key` in the top-level dictionary of `doc`
// (a view into `doc`), or nullopt if the key is absent. Throws DecodeError if `doc` is not a
// valid bencoded dictionary. Used for the info-hash, which is the SHA-1 of these bytes.
std::optional<std::string_view> raw_dict_value(std::string_view doc, std::string_view key,
                                               const Limits& limits = {});

}  // namespace p2p::bencode
