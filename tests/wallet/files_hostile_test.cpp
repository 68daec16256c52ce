// Files an attacker may have edited or read: a keystore asking for ruinous scrypt work, a
// keystore whose clear address was redirected, a ledger left readable by everyone.
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_files.hpp"
#include "tron/hashes.hpp"
#include "wallet/keystore.hpp"
#include "wallet/sqlite.hpp"

namespace {

using nlohmann::json;
using wallet::KeystoreError;
using Kind = wallet::KeystoreError::Kind;

const wallet::ScryptParams kFast{1u << 10, 8, 1};

json read_json(const std::filesystem::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

// Writes the edited keystore back with its unkeyed checksum recomputed, as an attacker can.
void write_with_checksum(const std::filesystem::path& p, json doc) {
  doc.erase("checksum");
  doc["checksum"] = tron::to_hex(tron::sha256(tron::as_bytes(doc.dump())));
  std::ofstream(p, std::ios::trunc) << doc.dump();
}

class FilesHostile : public ::testing::Test {
 protected:
  test_support::TempDir dir_;
  std::filesystem::path keystore_ = dir_ / "key.json";
  tron::PrivateKey key_ = tron::PrivateKey::generate();
  void SetUp() override { wallet::create_keystore(keystore_, key_, "pw", kFast); }

  // Opens with the kdf parameters replaced; returns the error and the seconds it took.
  std::pair<std::string, double> open_with(std::uint64_t n, std::uint32_t r, std::uint32_t p) {
    json doc = read_json(keystore_);
    doc["kdf"]["n"] = n;
    doc["kdf"]["r"] = r;
    doc["kdf"]["p"] = p;
    write_with_checksum(keystore_, doc);
    auto start = std::chrono::steady_clock::now();
    std::string error;
    try {
      wallet::open_keystore(keystore_, "wrong");
      error = "(opened)";
    } catch (const KeystoreError& e) {
      error = std::string(wallet::to_string(e.kind())) + ": " + e.what();
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return {error, seconds};
  }
};

// n = 2^20, r = 8, p = 16 was accepted: 1 GiB and about 99 s of scrypt before "wrong password".
TEST_F(FilesHostile, RuinousScryptParametersAreRefusedBeforeDeriving) {
  auto [error, seconds] = open_with(1u << 20, 8, 16);
  EXPECT_NE(error.find("corrupt: "), std::string::npos) << error;
  EXPECT_NE(error.find("over the limits n <= 2^20, r <= 16, p <= 4"), std::string::npos) << error;
  EXPECT_LT(seconds, 0.5);

  std::tie(error, seconds) = open_with(1u << 21, 1, 1);
  EXPECT_NE(error.find("over the limits"), std::string::npos) << error;
  std::tie(error, seconds) = open_with(1u << 10, 32, 1);
  EXPECT_NE(error.find("over the limits"), std::string::npos) << error;
  // Within each limit, but 1 GiB together.
  std::tie(error, seconds) = open_with(1u << 20, 8, 1);
  EXPECT_NE(error.find("need 1024 MiB, over the limit of 256 MiB"), std::string::npos) << error;
  EXPECT_LT(seconds, 0.5);
  // r = 16 and p = 4 are within the limits: the file gets as far as the password check.
  std::tie(error, seconds) = open_with(1u << 11, 16, 4);
  EXPECT_NE(error.find("wrong password"), std::string::npos) << error;
}

TEST_F(FilesHostile, RedirectedAddressIsCaughtWithThePassword) {
  EXPECT_EQ(wallet::verified_keystore_address(keystore_, "pw"), key_.address());
  tron::Address thief = tron::PrivateKey::generate().address();
  json doc = read_json(keystore_);
  doc["address"] = thief.to_base58();
  write_with_checksum(keystore_, doc);
  // Without a secret the edit cannot be seen: the clear field is what it is.
  EXPECT_EQ(wallet::keystore_address(keystore_), thief);
  try {
    wallet::verified_keystore_address(keystore_, "pw");
    ADD_FAILURE() << "a redirected address verified";
  } catch (const KeystoreError& e) {
    EXPECT_EQ(e.kind(), Kind::Tampered) << e.what();
  }
}

TEST_F(FilesHostile, DeeplyNestedKeystoreIsCorruptNotACrash) {
  // 30,000 levels fit in the 64 KiB a keystore may have.
  std::ofstream(keystore_, std::ios::trunc)
      << "{\"kdf\":" << std::string(30'000, '[') << std::string(30'000, ']') << "}";
  try {
    wallet::keystore_address(keystore_);
    ADD_FAILURE() << "nested arrays read as a keystore";
  } catch (const KeystoreError& e) {
    EXPECT_EQ(e.kind(), Kind::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("nests too deep"), std::string::npos) << e.what();
  }
}

// Found by the keystore fuzz target: a number out of double's range made the JSON parser throw
// out_of_range, which escaped as an uncaught exception and aborted `wallet address`.
TEST_F(FilesHostile, NumberOutOfRangeIsCorruptNotAnAbort) {
  std::ofstream(keystore_, std::ios::trunc) << R"({"version":1e999})";
  try {
    wallet::keystore_address(keystore_);
    ADD_FAILURE() << "read as a keystore";
  } catch (const KeystoreError& e) {
    EXPECT_EQ(e.kind(), Kind::Corrupt) << e.what();
    EXPECT_NE(std::string(e.what()).find("out of range"), std::string::npos) << e.what();
  }
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return 01000;  // missing
  return st.st_mode & 0777;
}

TEST(LedgerFileMode, NewDatabaseAndItsWalAreOwnerOnly) {
  test_support::TempDir dir;
  auto path = dir / "ledger.db";
  mode_t old = ::umask(022);
  {
    wallet::Db db(path.string());
    db.exec("CREATE TABLE t(x)");
    db.exec("INSERT INTO t VALUES (1)");
    EXPECT_EQ(mode_of(path), 0600u);
    EXPECT_EQ(mode_of(path.string() + "-wal"), 0600u);
    EXPECT_EQ(mode_of(path.string() + "-shm"), 0600u);
  }
  ::umask(old);
}

TEST(LedgerFileMode, ExistingReadableDatabaseIsTightened) {
  test_support::TempDir dir;
  auto path = dir / "ledger.db";
  {
    wallet::Db db(path.string());
    db.exec("CREATE TABLE t(x)");
  }
  for (const auto& p : {path.string(), path.string() + "-wal", path.string() + "-shm"}) {
    std::ofstream(p, std::ios::app);
    ::chmod(p.c_str(), 0644);
  }
  wallet::Db db(path.string());
  db.exec("INSERT INTO t VALUES (1)");
  EXPECT_EQ(mode_of(path), 0600u);
  EXPECT_EQ(mode_of(path.string() + "-wal"), 0600u);
  EXPECT_EQ(mode_of(path.string() + "-shm"), 0600u);
}

}  // namespace
