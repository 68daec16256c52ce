#include "p2p/wire/bencode.hpp"

#include <gtest/gtest.h>

#include <string>

namespace be = p2p::bencode;

namespace {

// The offset a decode error reports, or SIZE_MAX when decoding succeeded.
std::size_t error_offset(std::string_view in, const be::Limits& limits = {}) {
  try {
    be::decode(in, limits);
  } catch (const be::DecodeError& e) {
    return e.offset();
  }
  return SIZE_MAX;
}

std::string error_text(std::string_view in) {
  try {
    be::decode(in);
  } catch (const be::DecodeError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Bencode, DecodesEveryType) {
  be::Value v = be::decode("d0:0:3:agei-42e5:emptyde4:listli1e1:xe4:name5:helloe");
  ASSERT_TRUE(v.is_dict());
  EXPECT_EQ(v.find("age")->as_int(), -42);
  EXPECT_EQ(v.find("name")->as_string(), "hello");
  ASSERT_TRUE(v.find("list")->is_list());
  EXPECT_EQ(v.find("list")->as_list().size(), 2u);
  EXPECT_EQ(v.find("list")->as_list()[1].as_string(), "x");
  EXPECT_TRUE(v.find("empty")->as_dict().empty());
  EXPECT_EQ(v.find("")->as_string(), "");
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(Bencode, IntegerBounds) {
  EXPECT_EQ(be::decode("i9223372036854775807e").as_int(), INT64_MAX);
  EXPECT_EQ(be::decode("i-9223372036854775808e").as_int(), INT64_MIN);
  EXPECT_EQ(be::decode("i0e").as_int(), 0);
  EXPECT_NE(error_offset("i9223372036854775808e"), SIZE_MAX);
  EXPECT_NE(error_offset("i-9223372036854775809e"), SIZE_MAX);
  EXPECT_NE(error_offset("i99999999999999999999999e"), SIZE_MAX);
}

TEST(Bencode, RejectsNonCanonicalIntegers) {
  EXPECT_EQ(error_offset("i03e"), 0u);
  EXPECT_EQ(error_offset("i-0e"), 0u);
  EXPECT_EQ(error_offset("i-03e"), 0u);
  EXPECT_EQ(error_offset("ie"), 0u);
  EXPECT_EQ(error_offset("i-e"), 0u);
  EXPECT_EQ(error_offset("i+3e"), 1u);
  EXPECT_EQ(error_offset("i3"), 2u);
  EXPECT_EQ(error_offset("i3.5e"), 2u);
  EXPECT_NE(error_text("i03e").find("leading zero"), std::string::npos);
  EXPECT_NE(error_text("i-0e").find("negative zero"), std::string::npos);
}

TEST(Bencode, RejectsBadStrings) {
  EXPECT_EQ(error_offset("03:abc"), 0u);  // leading zero in a length
  EXPECT_EQ(error_offset("5:abc"), 0u);   // runs past the end
  EXPECT_EQ(error_offset("3abc"), 1u);    // no colon
  EXPECT_NE(error_offset("99999999999999999999999999:a"), SIZE_MAX);
  EXPECT_EQ(be::decode("0:").as_string(), "");
  std::string binary("4:\0\xff\x01z", 6);
  EXPECT_EQ(be::decode(binary).as_string(), std::string("\0\xff\x01z", 4));
}

TEST(Bencode, RejectsUnsortedAndDuplicateKeys) {
  EXPECT_EQ(error_offset("d1:bi1e1:ai2ee"), 7u);
  EXPECT_NE(error_text("d1:bi1e1:ai2ee").find("not sorted"), std::string::npos);
  EXPECT_EQ(error_offset("d1:ai1e1:ai2ee"), 7u);
  EXPECT_NE(error_text("d1:ai1e1:ai2ee").find("duplicate"), std::string::npos);
  // Keys compare as raw bytes: "a" < "b" < "\xff".
  EXPECT_NO_THROW(be::decode("d1:ai1e1:bi2e1:\xffi3ee"));
  EXPECT_NE(error_offset("d1:\xffi3e1:ai1ee"), SIZE_MAX);
  // Non-string keys.
  EXPECT_EQ(error_offset("di1ei2ee"), 1u);
}

TEST(Bencode, RejectsTruncatedAndTrailing) {
  EXPECT_EQ(error_offset(""), 0u);
  EXPECT_EQ(error_offset("l"), 1u);
  EXPECT_EQ(error_offset("d"), 1u);
  EXPECT_EQ(error_offset("d1:a"), 4u);
  EXPECT_EQ(error_offset("li1e"), 4u);
  EXPECT_EQ(error_offset("i1ei2e"), 3u);
  EXPECT_NE(error_text("i1ei2e").find("trailing"), std::string::npos);
  EXPECT_EQ(error_offset("x"), 0u);
  EXPECT_EQ(error_offset("e"), 0u);
}

TEST(Bencode, BoundsDepthSizeAndItems) {
  std::string deep(100, 'l');
  deep += std::string(100, 'e');
  EXPECT_NE(error_offset(deep), SIZE_MAX);  // default depth 64
  be::Limits generous;
  generous.max_depth = 200;
  EXPECT_EQ(error_offset(deep, generous), SIZE_MAX);
  std::string exact(64, 'l');
  exact += std::string(64, 'e');
  EXPECT_EQ(error_offset(exact), SIZE_MAX);

  be::Limits small;
  small.max_size = 10;
  EXPECT_EQ(error_offset("11:hello world", small), 0u);

  be::Limits few;
  few.max_items = 3;
  EXPECT_EQ(error_offset("li1ei2ee", few), SIZE_MAX);
  EXPECT_NE(error_offset("li1ei2ei3ee", few), SIZE_MAX);

  // Very deep input must not exhaust the stack.
  std::string huge(1'000'000, 'l');
  EXPECT_NE(error_offset(huge), SIZE_MAX);
}

TEST(Bencode, EncodeRoundTrip) {
  be::Dict d;
  d["z"] = be::Value(be::Integer{-7});
  d["a"] = be::Value("bytes");
  be::List l;
  l.emplace_back(1);
  l.emplace_back(be::Dict{});
  d["m"] = be::Value(std::move(l));
  std::string enc = be::encode(be::Value(d));
  EXPECT_EQ(enc, "d1:a5:bytes1:mli1edee1:zi-7ee");
  EXPECT_EQ(be::decode(enc), be::Value(d));
  EXPECT_EQ(be::encode(be::Value(INT64_MIN)), "i-9223372036854775808e");
}

TEST(Bencode, DecodePrefixLeavesTheRest) {
  std::size_t used = 0;
  be::Value v = be::decode_prefix("d8:msg_typei1e5:piecei0eeRAWDATA", used);
  EXPECT_EQ(used, 25u);
  EXPECT_EQ(v.find("piece")->as_int(), 0);
}

TEST(Bencode, RawDictValueIsTheExactBytes) {
  std::string doc = "d8:announce3:url4:infod6:lengthi5e4:name1:xe5:otheri1ee";
  auto raw = be::raw_dict_value(doc, "info");
  ASSERT_TRUE(raw);
  EXPECT_EQ(*raw, "d6:lengthi5e4:name1:xe");
  EXPECT_EQ(be::raw_dict_value(doc, "other").value(), "i1e");
  EXPECT_FALSE(be::raw_dict_value(doc, "nope"));
  EXPECT_THROW(be::raw_dict_value("li1ee", "info"), be::DecodeError);
  EXPECT_THROW(be::raw_dict_value("d4:infoi1e", "info"), be::DecodeError);
}
