#include <gtest/gtest.h>

#include <limits>

#include "tron/abi.hpp"
#include "tron/token.hpp"

namespace {

using tron::Address;
using tron::Token;
using tron::U256;
namespace abi = tron::abi;

const char* kContract = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t";
const char* kContractHex = "41a614f803b6fd780986a42c78ec9c7f77e6ded13c";

TEST(Token, ParsesEachForm) {
  EXPECT_EQ(Token::parse("trx").kind, Token::Kind::Trx);
  EXPECT_EQ(Token::parse("TRX").kind, Token::Kind::Trx);

  Token t10 = Token::parse("trc10:1002000");
  EXPECT_EQ(t10.kind, Token::Kind::Trc10);
  EXPECT_EQ(t10.asset_id, "1002000");
  EXPECT_EQ(t10.to_string(), "trc10:1002000");

  Token t20 = Token::parse(std::string("trc20:") + kContract);
  EXPECT_EQ(t20.kind, Token::Kind::Trc20);
  EXPECT_EQ(t20.contract.to_base58(), kContract);
  EXPECT_EQ(t20.to_string(), std::string("trc20:") + kContract);
  EXPECT_EQ(Token::parse(std::string("trc20:") + kContractHex), t20);
  EXPECT_EQ(Token::parse(t20.to_string()), t20);
}

TEST(Token, RejectsBadText) {
  for (const char* bad : {"", "tr", "trx ", "btt", "trc10:", "trc10:abc", "trc10:0123",
                          "trc10:-5", "trc10:12345678901234567890", "trc20:", "trc20:T123",
                          "trc20:41a614f803b6fd780986a42c78ec9c7f77e6ded13d00",
                          "trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", "trc30:1"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(Token::parse(bad), std::invalid_argument);
  }
  try {
    Token::parse("trc10:x");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("trc10:<asset id>"), std::string::npos) << e.what();
  }
}

TEST(Abi, EncodesTransferBalanceOfDecimals) {
  Address to = Address::from_string("413c9b65b212316904572826240224750eccce29a2");
  EXPECT_EQ(tron::to_hex(abi::encode_transfer(to, 1)),
            "a9059cbb0000000000000000000000003c9b65b212316904572826240224750eccce29a2"
            "0000000000000000000000000000000000000000000000000000000000000001");
  EXPECT_EQ(tron::to_hex(abi::encode_balance_of(to)),
            "70a082310000000000000000000000003c9b65b212316904572826240224750eccce29a2");
  EXPECT_EQ(tron::to_hex(abi::encode_decimals()), "313ce567");
}

TEST(Abi, Uint256RoundTripsAtTheEdges) {
  const U256 max = std::numeric_limits<U256>::max();
  for (U256 v : {U256(0), U256(1), U256(255), U256(256), U256("18446744073709551615"),
                 U256("18446744073709551616"), max, max - 1, U256(1) << 128}) {
    auto word = abi::encode_uint256(v);
    EXPECT_EQ(abi::decode_uint256(word), v);
  }
  EXPECT_EQ(tron::to_hex(abi::encode_uint256(max)), std::string(64, 'f'));
  EXPECT_EQ(tron::to_hex(abi::encode_uint256(U256(1) << 255)), "80" + std::string(62, '0'));
  EXPECT_EQ(tron::to_hex(abi::encode_uint256(0x0102)), std::string(60, '0') + "0102");
}

TEST(Abi, DecodesTransferAndRejectsMalformedCalldata) {
  Address to = Address::from_string("TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1");
  U256 amount("123456789012345678901234567890");
  tron::Bytes data = abi::encode_transfer(to, amount);
  auto call = abi::decode_transfer(data);
  EXPECT_EQ(call.to, to);
  EXPECT_EQ(call.amount, amount);

  tron::Bytes short_data(data.begin(), data.end() - 1);
  EXPECT_THROW(abi::decode_transfer(short_data), std::invalid_argument);
  tron::Bytes long_data = data;
  long_data.push_back(0);
  EXPECT_THROW(abi::decode_transfer(long_data), std::invalid_argument);
  tron::Bytes wrong_selector = data;
  wrong_selector[0] ^= 1;
  EXPECT_THROW(abi::decode_transfer(wrong_selector), std::invalid_argument);
  tron::Bytes dirty_address = data;
  dirty_address[4] = 1;  // upper bytes of the address word must be zero
  EXPECT_THROW(abi::decode_transfer(dirty_address), std::invalid_argument);
  EXPECT_FALSE(abi::try_decode_transfer(dirty_address));
  EXPECT_THROW(abi::decode_uint256(tron::Bytes(31)), std::invalid_argument);
}

TEST(Abi, RevertReasonRoundTrip) {
  tron::Bytes data = abi::encode_revert_reason("insufficient balance");
  EXPECT_EQ(tron::to_hex(data).substr(0, 8), "08c379a0");
  EXPECT_EQ(data.size(), 4u + 32 + 32 + 32);
  EXPECT_EQ(abi::decode_revert_reason(data), "insufficient balance");
  EXPECT_EQ(abi::decode_revert_reason(abi::encode_revert_reason("")), "");
  std::string long_reason(70, 'x');
  EXPECT_EQ(abi::decode_revert_reason(abi::encode_revert_reason(long_reason)), long_reason);
  // Known encoding of revert("Not enough Ether provided.").
  EXPECT_EQ(tron::to_hex(abi::encode_revert_reason("Not enough Ether provided.")),
            "08c379a0"
            "0000000000000000000000000000000000000000000000000000000000000020"
            "000000000000000000000000000000000000000000000000000000000000001a"
            "4e6f7420656e6f7567682045746865722070726f76696465642e000000000000");

  EXPECT_FALSE(abi::decode_revert_reason(tron::Bytes{0x08, 0xc3, 0x79, 0xa0}));
  tron::Bytes truncated(data.begin(), data.end() - 20);
  EXPECT_FALSE(abi::decode_revert_reason(truncated));
  tron::Bytes bad_offset = data;
  bad_offset[4 + 31] = 0xff;
  EXPECT_FALSE(abi::decode_revert_reason(bad_offset));
  tron::Bytes huge_length = data;
  huge_length[4 + 32] = 0xff;
  EXPECT_FALSE(abi::decode_revert_reason(huge_length));
}

TEST(Abi, ParsesDecimalAmounts) {
  EXPECT_EQ(abi::parse_amount("0"), 0);
  EXPECT_EQ(abi::parse_amount("1000000"), 1000000);
  const std::string max = "115792089237316195423570985008687907853269984665640564039457584007913129639935";
  EXPECT_EQ(abi::parse_amount(max), std::numeric_limits<U256>::max());
  EXPECT_EQ(abi::to_decimal(abi::parse_amount(max)), max);
  try {
    abi::parse_amount("115792089237316195423570985008687907853269984665640564039457584007913129639936");
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("too large"), std::string::npos) << e.what();
  }
  EXPECT_THROW(abi::parse_amount(std::string(200, '9')), std::invalid_argument);
  for (const char* bad : {"", "-1", "+1", "1.5", "1e6", " 1", "1 ", "0x10", "1,000"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW(abi::parse_amount(bad), std::invalid_argument);
  }

  EXPECT_EQ(abi::parse_units("1.5", 6), 1500000);
  EXPECT_EQ(abi::parse_units("0.000001", 6), 1);
  EXPECT_EQ(abi::parse_units("12", 18), U256("12000000000000000000"));
  EXPECT_THROW(abi::parse_units("0.0000001", 6), std::invalid_argument);
  EXPECT_THROW(abi::parse_units("1.", 6), std::invalid_argument);
  EXPECT_THROW(abi::parse_units(".5", 6), std::invalid_argument);
  EXPECT_THROW(abi::parse_units("1.2.3", 6), std::invalid_argument);
  EXPECT_THROW(abi::parse_units(max, 1), std::invalid_argument);

  EXPECT_EQ(abi::format_units(1500000, 6), "1.5");
  EXPECT_EQ(abi::format_units(1, 6), "0.000001");
  EXPECT_EQ(abi::format_units(2000000, 6), "2");
  EXPECT_EQ(abi::format_units(0, 6), "0");
  EXPECT_EQ(abi::format_units(42, 0), "42");
}

}  // namespace
