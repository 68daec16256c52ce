// Token amounts in base units and in whole tokens with a unit.
#include <gtest/gtest.h>

#include "tron/amount.hpp"

namespace tron {
namespace {

const Network kMainnet = network_preset("mainnet");
const Token kTrx = resolve_token("trx", kMainnet);
const Token kBtt = resolve_token("btt", kMainnet);
const Token kBttOld = resolve_token("bttold", kMainnet);
const Token kOther20 = resolve_token("trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", kMainnet);
const Token kOther10 = resolve_token("trc10:1000001", kMainnet);

U256 amount(std::string_view text, const Token& token, const DecimalsLookup& lookup = {}) {
  return parse_token_amount(text, token, kMainnet, lookup);
}

std::string error_of(std::string_view text, const Token& token, const DecimalsLookup& lookup = {}) {
  try {
    amount(text, token, lookup);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TokenAmount, BaseUnits) {
  EXPECT_EQ(amount("1000", kTrx), 1000);
  EXPECT_EQ(amount("1000", kBtt), 1000);
  EXPECT_EQ(amount("0", kBtt), 0);
  EXPECT_EQ(amount("1000sun", kTrx), 1000);
  EXPECT_EQ(amount(" 7 ", kBttOld), 7);
  // The largest uint256 still parses; one more does not.
  const std::string max =
      "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  EXPECT_EQ(amount(max, kBtt), std::numeric_limits<U256>::max());
  EXPECT_NE(error_of(max.substr(0, max.size() - 1) + "6", kBtt).find("too large"),
            std::string::npos);
}

TEST(TokenAmount, WholeTokensWithUnits) {
  EXPECT_EQ(amount("2.5btt", kBtt), U256("2500000000000000000"));
  EXPECT_EQ(amount("2.5 BTT", kBtt), U256("2500000000000000000"));
  EXPECT_EQ(amount("0.000000000000000001btt", kBtt), 1);
  EXPECT_EQ(amount("0.001trx", kTrx), 1000);
  EXPECT_EQ(amount("1trx", kTrx), 1'000'000);
  EXPECT_EQ(amount("3bttold", kBttOld), 3'000'000);
  EXPECT_EQ(amount("1.5token", kTrx), 1'500'000);
  EXPECT_EQ(amount("1.5tokens", kBtt), U256("1500000000000000000"));
}

TEST(TokenAmount, TooManyDecimalsAreRefused) {
  std::string e = error_of("0.0000001trx", kTrx);
  EXPECT_NE(e.find("has 6 decimals"), std::string::npos) << e;
  EXPECT_NE(e.find("0.0000001trx"), std::string::npos) << e;
  e = error_of("1.0000000000000000001btt", kBtt);
  EXPECT_NE(e.find("18 decimals"), std::string::npos) << e;
  EXPECT_NE(error_of("0.1234567bttold", kBttOld).find("6 decimals"), std::string::npos);
}

TEST(TokenAmount, UnitMustNameTheToken) {
  std::string e = error_of("2btt", kTrx);
  EXPECT_NE(e.find("the unit btt is for BTT"), std::string::npos) << e;
  EXPECT_NE(e.find("the token is TRX"), std::string::npos) << e;
  EXPECT_NE(error_of("2bttold", kBtt).find("BTTOLD"), std::string::npos);
  EXPECT_NE(error_of("2trx", kBttOld).find("TRX"), std::string::npos);
  EXPECT_NE(error_of("5sun", kBtt).find("TRX"), std::string::npos);
  // On Nile there is no BTT to name.
  Network nile = network_preset("nile");
  try {
    parse_token_amount("1btt", kOther20, nile);
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("no BTT on nile"), std::string::npos) << e.what();
  }
}

TEST(TokenAmount, MalformedTextIsRefused) {
  EXPECT_NE(error_of("2.5", kBtt).find("base units and must be whole"), std::string::npos);
  EXPECT_NE(error_of("12.", kTrx).find("bad amount"), std::string::npos);
  EXPECT_NE(error_of("12.trx", kTrx).find("nothing after the decimal point"), std::string::npos);
  EXPECT_NE(error_of("-1", kTrx).find("negative"), std::string::npos);
  EXPECT_NE(error_of("", kTrx).find("empty"), std::string::npos);
  EXPECT_NE(error_of("1e18", kBtt).find("optional unit"), std::string::npos);
  EXPECT_NE(error_of("1eth", kBtt).find("unknown unit 'eth'"), std::string::npos);
  EXPECT_NE(error_of("1 b t t", kBtt).find("unit"), std::string::npos);
  EXPECT_NE(error_of("1.2.3btt", kBtt).find("bad amount"), std::string::npos);
  EXPECT_NE(error_of(".5btt", kBtt).find("bad amount"), std::string::npos);
  EXPECT_NE(error_of("1.5sun", kTrx).find("whole"), std::string::npos);
  EXPECT_NE(error_of(std::string(500, '1'), kBtt).find("longer than"), std::string::npos);
  EXPECT_NE(error_of("abc", kBtt).find("number first"), std::string::npos);
}

TEST(TokenAmount, UnknownDecimalsComeFromTheLookupOrAreRefused) {
  EXPECT_NE(error_of("1.5token", kOther20).find("not known"), std::string::npos);
  EXPECT_EQ(amount("1000", kOther20), 1000);  // base units need no decimals
  int asked = 0;
  auto lookup = [&](const Token& t) {
    ++asked;
    EXPECT_EQ(t, kOther20);
    return 6u;
  };
  EXPECT_EQ(amount("1.5token", kOther20, lookup), 1'500'000);
  EXPECT_EQ(asked, 1);
  EXPECT_EQ(amount("1000", kOther20, lookup), 1000);
  EXPECT_EQ(asked, 1) << "base units never ask";
  EXPECT_NE(
      error_of("1.0000001token", kOther10, [](const Token&) { return 6u; }).find("6 decimals"),
      std::string::npos);
}

TEST(TokenAmount, Formatting) {
  EXPECT_EQ(format_token_amount(U256("2500000000000000000"), kBtt, kMainnet), "2.5 BTT");
  EXPECT_EQ(format_token_amount(1'000'000, kBttOld, kMainnet), "1 BTTOLD");
  EXPECT_EQ(format_token_amount(1500, kOther10, kMainnet), "1500 base units of trc10:1000001");
  EXPECT_EQ(format_token_amount(1500, kOther10, kMainnet, 3), "1.5 trc10:1000001");
  EXPECT_EQ(format_trx(350'000), "0.35 TRX");
  EXPECT_EQ(format_trx(0), "0 TRX");
  EXPECT_EQ(format_trx(-1'000'000), "-1 TRX");
}

}  // namespace
}  // namespace tron
