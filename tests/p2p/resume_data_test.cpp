// Resume data decoding: inputs the resume_data fuzz target turned up.
#include <gtest/gtest.h>

#include "p2p/storage/resume_data.hpp"

using namespace p2p;

namespace {

std::string with_pieces(const std::string& pieces, const std::string& have) {
  return "d11:file-format16:bttnode resume 15:filesle4:have" + std::to_string(have.size()) + ":" +
         have + "9:info-hash20:aaaaaaaaaaaaaaaaaaaa6:piecesi" + pieces + "ee";
}

}  // namespace

TEST(ResumeData, HugePieceCountIsRefusedWithoutOverflow) {
  // (n + 7) / 8 overflowed a signed 64-bit integer here.
  EXPECT_THROW(decode_resume_data(with_pieces("9223372036854775807", "")), std::runtime_error);
  EXPECT_THROW(decode_resume_data(with_pieces("9223372036854775800", "x")), std::runtime_error);
}

TEST(ResumeData, PieceCountMustMatchTheBits) {
  EXPECT_EQ(decode_resume_data(with_pieces("9", "\xff\x80")).have.size(), 9u);
  EXPECT_EQ(decode_resume_data(with_pieces("16", "\xff\x80")).have.size(), 16u);
  EXPECT_THROW(decode_resume_data(with_pieces("17", "\xff\x80")), std::runtime_error);
  EXPECT_THROW(decode_resume_data(with_pieces("8", "\xff\x80")), std::runtime_error);
  EXPECT_EQ(decode_resume_data(with_pieces("0", "")).have.size(), 0u);
  EXPECT_THROW(decode_resume_data(with_pieces("-1", "")), std::runtime_error);
}
