#include "wallet/password_file.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "tests/test_files.hpp"

namespace {

std::string from_file(const test_support::TempDir& dir, const std::string& content) {
  auto p = dir / "pw";
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  return wallet::read_password_file(p);
}

TEST(PasswordFile, FirstLineWithoutLineEnding) {
  test_support::TempDir dir;
  EXPECT_EQ(from_file(dir, "hunter2\n"), "hunter2");
  EXPECT_EQ(from_file(dir, "hunter2"), "hunter2");
  EXPECT_EQ(from_file(dir, "hunter2\r\n"), "hunter2");
  EXPECT_EQ(from_file(dir, "first line\nsecond line\n"), "first line");
  // Inner and leading spaces are part of the password.
  EXPECT_EQ(from_file(dir, "  two words \n"), "  two words ");
  EXPECT_EQ(from_file(dir, "\n"), "");
  EXPECT_EQ(from_file(dir, ""), "");
}

TEST(PasswordFile, MissingFileNamesIt) {
  test_support::TempDir dir;
  try {
    wallet::read_password_file(dir / "absent");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent"), std::string::npos);
  }
}

}  // namespace
