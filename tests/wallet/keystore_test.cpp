#include "wallet/keystore.hpp"

#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_files.hpp"
#include "tron/hashes.hpp"

namespace {

using wallet::KeystoreError;
using Kind = wallet::KeystoreError::Kind;
using nlohmann::json;

// Cheap parameters so the many cases below stay fast (also under sanitizers).
const wallet::ScryptParams kFast{1u << 10, 8, 1};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::filesystem::path& p, const std::string& data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << data;
}

Kind open_error(const std::filesystem::path& p, std::string_view password) {
  try {
    wallet::open_keystore(p, password);
  } catch (const KeystoreError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "open_keystore succeeded on " << p;
  return Kind::Io;
}

std::string recompute_checksum(json doc) {
  doc.erase("checksum");
  return tron::to_hex(tron::sha256(tron::as_bytes(doc.dump())));
}

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_ / "key.json";
    wallet::create_keystore(path_, key_, "correct horse", kFast);
  }
  json doc() const { return json::parse(slurp(path_)); }
  void write(const json& d) { spit(path_, d.dump(2)); }

  test_support::TempDir dir_;
  std::filesystem::path path_;
  tron::PrivateKey key_ = tron::PrivateKey::generate();
};

TEST_F(KeystoreTest, RoundTrip) {
  tron::PrivateKey back = wallet::open_keystore(path_, "correct horse");
  EXPECT_EQ(back.secret(), key_.secret());
  EXPECT_EQ(wallet::keystore_address(path_), key_.address());
  json d = doc();
  EXPECT_EQ(d["version"], 1);
  EXPECT_EQ(d["address"], key_.address().to_base58());
  EXPECT_EQ(d["kdf"]["name"], "scrypt");
  EXPECT_EQ(d["kdf"]["n"], 1024);
  EXPECT_EQ(d["cipher"]["name"], "aes-256-gcm");
  // The secret must not appear in clear.
  EXPECT_EQ(slurp(path_).find(tron::to_hex(key_.secret())), std::string::npos);
}

TEST_F(KeystoreTest, FileModeIs0600EvenWithPermissiveUmask) {
  mode_t old = ::umask(0);
  auto p2 = dir_ / "other.json";
  wallet::create_keystore(p2, key_, "pw", kFast);
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat(p2.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(KeystoreTest, RefusesGroupOrWorldAccess) {
  for (mode_t mode : {0640, 0604, 0660, 0620}) {
    ASSERT_EQ(::chmod(path_.c_str(), mode), 0);
    EXPECT_EQ(open_error(path_, "correct horse"), Kind::Permissions) << std::oct << mode;
  }
  ASSERT_EQ(::chmod(path_.c_str(), 0400), 0);
  EXPECT_NO_THROW(wallet::open_keystore(path_, "correct horse"));
  // The address needs no secret, so it can be read whatever the mode.
  ASSERT_EQ(::chmod(path_.c_str(), 0644), 0);
  EXPECT_EQ(wallet::keystore_address(path_), key_.address());
}

TEST_F(KeystoreTest, RefusesOverwrite) {
  std::string before = slurp(path_);
  try {
    wallet::create_keystore(path_, tron::PrivateKey::generate(), "pw", kFast);
    FAIL() << "overwrote an existing keystore";
  } catch (const KeystoreError& e) {
    EXPECT_EQ(e.kind(), Kind::Exists);
    EXPECT_NE(std::string(e.what()).find("exists"), std::string::npos);
  }
  EXPECT_EQ(slurp(path_), before);
  // No temp file is left behind.
  int files = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(KeystoreTest, RefusesEmptyPassword) {
  EXPECT_THROW(wallet::create_keystore(dir_ / "e.json", key_, "", kFast), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "e.json"));
}

TEST_F(KeystoreTest, WrongPassword) {
  try {
    wallet::open_keystore(path_, "correct horsf");
    FAIL();
  } catch (const KeystoreError& e) {
    EXPECT_EQ(e.kind(), Kind::WrongPassword);
    EXPECT_NE(std::string(e.what()).find("wrong password"), std::string::npos);
  }
  EXPECT_EQ(open_error(path_, ""), Kind::WrongPassword);
}

TEST_F(KeystoreTest, Truncated) {
  std::string full = slurp(path_);
  for (std::size_t len :
       {std::size_t{0}, std::size_t{1}, full.size() / 3, full.size() / 2, full.size() - 3}) {
    spit(path_, full.substr(0, len));
    try {
      wallet::open_keystore(path_, "correct horse");
      FAIL() << "opened a keystore cut at " << len;
    } catch (const KeystoreError& e) {
      EXPECT_EQ(e.kind(), Kind::Corrupt) << len;
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
    EXPECT_THROW(wallet::keystore_address(path_), KeystoreError);
  }
}

TEST_F(KeystoreTest, MissingFileIsIo) {
  EXPECT_EQ(open_error(dir_ / "nope.json", "x"), Kind::Io);
}

// Flip one field; with the checksum left as it was the edit is caught before any password
// work, and with the checksum recomputed (a deliberate tamperer) authentication catches it.
struct Edit {
  const char* name;
  void (*apply)(json&);
  Kind with_recomputed_checksum;
};

std::string flip_hex(std::string h) {
  h[0] = h[0] == '0' ? '1' : '0';
  return h;
}

const Edit kEdits[] = {
    {"version", [](json& d) { d["version"] = 2; }, Kind::Corrupt},
    {"address", [](json& d) { d["address"] = tron::PrivateKey::generate().address().to_base58(); },
     Kind::Tampered},
    // A different KDF input yields a different check value: indistinguishable from a wrong
    // password once the checksum is forged.
    {"kdf.n", [](json& d) { d["kdf"]["n"] = 2048; }, Kind::WrongPassword},
    {"kdf.r", [](json& d) { d["kdf"]["r"] = 4; }, Kind::WrongPassword},
    {"kdf.p", [](json& d) { d["kdf"]["p"] = 2; }, Kind::WrongPassword},
    {"kdf.salt", [](json& d) { d["kdf"]["salt"] = flip_hex(d["kdf"]["salt"]); },
     Kind::WrongPassword},
    {"cipher.iv", [](json& d) { d["cipher"]["iv"] = flip_hex(d["cipher"]["iv"]); }, Kind::Tampered},
    {"check", [](json& d) { d["check"] = flip_hex(d["check"]); }, Kind::WrongPassword},
    {"ciphertext", [](json& d) { d["ciphertext"] = flip_hex(d["ciphertext"]); }, Kind::Tampered},
    {"tag", [](json& d) { d["tag"] = flip_hex(d["tag"]); }, Kind::Tampered},
};

TEST_F(KeystoreTest, EachFieldTampered) {
  const json original = doc();
  for (const Edit& edit : kEdits) {
    SCOPED_TRACE(edit.name);
    json d = original;
    edit.apply(d);
    write(d);
    try {
      wallet::open_keystore(path_, "correct horse");
      ADD_FAILURE() << "opened";
    } catch (const KeystoreError& e) {
      EXPECT_EQ(e.kind(), Kind::Tampered);
      EXPECT_NE(std::string(e.what()).find("modified"), std::string::npos) << e.what();
    }
    d["checksum"] = recompute_checksum(d);
    write(d);
    EXPECT_EQ(open_error(path_, "correct horse"), edit.with_recomputed_checksum);
  }
  write(original);
  EXPECT_NO_THROW(wallet::open_keystore(path_, "correct horse"));
}

TEST_F(KeystoreTest, ChecksumTampered) {
  json d = doc();
  d["checksum"] = flip_hex(d["checksum"]);
  write(d);
  EXPECT_EQ(open_error(path_, "correct horse"), Kind::Tampered);
  EXPECT_THROW(wallet::keystore_address(path_), KeystoreError);
}

TEST_F(KeystoreTest, HostileParametersRefusedWithoutAllocating) {
  json d = doc();
  d["kdf"]["n"] = 1ull << 40;
  d["checksum"] = recompute_checksum(d);
  write(d);
  EXPECT_EQ(open_error(path_, "correct horse"), Kind::Corrupt);
}

TEST_F(KeystoreTest, ByteFlipAnywhereIsDetected) {
  std::string full = slurp(path_);
  int checked = 0;
  for (std::size_t i = 0; i < full.size(); i += 7) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    spit(path_, bad);
    try {
      wallet::open_keystore(path_, "correct horse");
      // A flip inside whitespace leaves an equal document; that is no tampering.
      EXPECT_EQ(json::parse(bad, nullptr, false), json::parse(full)) << i;
    } catch (const KeystoreError& e) {
      EXPECT_TRUE(e.kind() == Kind::Tampered || e.kind() == Kind::Corrupt) << i << e.what();
      ++checked;
    }
  }
  EXPECT_GT(checked, 20);
}

std::chrono::milliseconds cpu_time() {
  timespec t{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::seconds(t.tv_sec) +
                                                               std::chrono::nanoseconds(t.tv_nsec));
}

TEST(KeystoreDefault, StrongSettingRoundTrip) {
  test_support::TempDir dir;
  tron::PrivateKey key = tron::PrivateKey::generate();
  auto w0 = std::chrono::steady_clock::now();
  auto c0 = cpu_time();
  wallet::create_keystore(dir / "k.json", key, "pw");
  auto c1 = cpu_time();
  EXPECT_EQ(wallet::open_keystore(dir / "k.json", "pw").secret(), key.secret());
  auto c2 = cpu_time();
  auto w2 = std::chrono::steady_clock::now();
  EXPECT_EQ(json::parse(slurp(dir / "k.json"))["kdf"]["n"], 1 << 17);
  // Printed, not asserted: timing depends on the machine, its load and sanitizers.
  std::cout << "scrypt N=2^17 r=8 p=1 CPU time: create " << (c1 - c0).count() << " ms, open "
            << (c2 - c1).count() << " ms (wall clock for both "
            << std::chrono::duration_cast<std::chrono::milliseconds>(w2 - w0).count() << " ms)\n";
}

}  // namespace
