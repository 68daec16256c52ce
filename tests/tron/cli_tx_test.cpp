// The built bttnode program: tx build, tx sign, message sign, message verify.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tron/transaction.hpp"

namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const char* kKeyOne = "0000000000000000000000000000000000000000000000000000000000000001";
const char* kBlockId = "0000000003546431212a13dbe72ac5c09a684deb83257258a6fcdc1115835077";
const char* kPassword = "correct horse battery staple";

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Result {
  int code = -1;
  std::string out;
  std::string err;
  std::vector<std::string> lines() const {
    std::vector<std::string> v;
    std::istringstream s(out);
    for (std::string line; std::getline(s, line);) v.push_back(line);
    return v;
  }
};

class CliTx : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "bttnode-cli-tx-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = new fs::path(pattern);
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }

  // Runs bttnode with `args`, `input` on stdin and BTTNODE_PASSWORD set.
  static Result run(const std::vector<std::string>& args, const std::string& input = "") {
    static int counter = 0;
    const fs::path base = *dir_ / ("run" + std::to_string(counter++));
    { std::ofstream(base.string() + ".in", std::ios::binary) << input; }
    std::string command = "BTTNODE_PASSWORD=" + quote(kPassword) + " " + quote(BTTNODE_BINARY);
    for (const auto& a : args) command += " " + quote(a);
    command += " < " + quote(base.string() + ".in") + " > " + quote(base.string() + ".out") +
               " 2> " + quote(base.string() + ".err");
    int status = std::system(command.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = read_file(base.string() + ".out");
    r.err = read_file(base.string() + ".err");
    return r;
  }

  // A keystore holding `key_hex`, imported through the wallet command.
  static fs::path keystore(const std::string& key_hex) {
    const fs::path path = *dir_ / ("key-" + key_hex.substr(56) + ".json");
    if (!fs::exists(path)) {
      Result r = run({"wallet", "import", "--keystore", path.string()}, key_hex + "\n");
      EXPECT_EQ(r.code, 0) << r.err;
    }
    return path;
  }

  static std::vector<std::string> build_args(const std::string& token, const std::string& from,
                                             const std::string& to, const std::string& amount) {
    return {"tx",        "build",         "--token",     token,        "--from",
            from,        "--to",          to,            "--amount",   amount,
            "--ref-block", kBlockId,      "--timestamp", "1751554232807", "--expiration",
            "1751554292807"};
  }

  static fs::path* dir_;
};

fs::path* CliTx::dir_ = nullptr;

TEST_F(CliTx, BuildPrintsJavaTronJsonMatchingTheVectors) {
  // The TRX vector of tron-vectors.json.
  Result trx = run({"tx", "build", "--token", "trx", "--from", "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1",
                    "--to", "413c9b65b212316904572826240224750eccce29a2", "--amount", "1",
                    "--ref-block", kBlockId, "--timestamp", "1751466432131", "--expiration",
                    "1751466492131"});
  ASSERT_EQ(trx.code, 0) << trx.err;
  ASSERT_EQ(trx.lines().size(), 1u) << "one line of JSON";
  json j = json::parse(trx.out);
  EXPECT_EQ(j["txID"], "c93cdd6b4d9f5b3c617060ea0a9c7b6080d9855f599cc987f69105a5e3e9c9b4");
  EXPECT_EQ(j["raw_data_hex"],
            "0a0264312208212a13dbe72ac5c040e381a7dcfc325a65080112610a2d747970652e676f6f676c65617069"
            "732e636f6d2f70726f746f636f6c2e5472616e73666572436f6e747261637412300a154194a15629b2b2bb"
            "d3a5453e6d6696b2875278633b1215413c9b65b212316904572826240224750eccce29a218017083ada3dc"
            "fc32");
  EXPECT_EQ(j["visible"], false);
  EXPECT_EQ(j["raw_data"]["contract"][0]["type"], "TransferContract");
  EXPECT_FALSE(j.contains("signature"));

  // The TRC-20 vector.
  Result trc20 = run({"tx", "build", "--token", "trc20:4154e24764f19b0450d49d4b66270da289666cf82a",
                      "--from", "4194a15629b2b2bbd3a5453e6d6696b2875278633b", "--to",
                      "413c9b65b212316904572826240224750eccce29a2", "--amount", "1",
                      "--ref-block", kBlockId, "--timestamp", "1751554232807", "--expiration",
                      "1751554292807", "--fee-limit", "50000000"});
  ASSERT_EQ(trc20.code, 0) << trc20.err;
  EXPECT_EQ(json::parse(trc20.out)["txID"],
            "cc0928c7734c9c9cc8e8e9636c3ad47308197f4b42fce6b93eb6fa4b3247b58f");

  Result visible = run({"tx", "build", "--token", "trc10:1002000", "--from",
                        "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1", "--to",
                        "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC", "--amount", "5", "--ref-block",
                        kBlockId, "--timestamp", "1", "--expiration", "2", "--visible"});
  ASSERT_EQ(visible.code, 0) << visible.err;
  json v = json::parse(visible.out);
  EXPECT_EQ(v["visible"], true);
  EXPECT_EQ(v["raw_data"]["contract"][0]["parameter"]["value"]["asset_name"], "1002000");
  EXPECT_EQ(v["raw_data"]["contract"][0]["parameter"]["value"]["to_address"],
            "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC");
}

TEST_F(CliTx, BuildRefusesBadInput) {
  const std::string from = "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1";
  const std::string to = "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC";
  std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {build_args("btt", from, to, "1"), "bad token"},
      {build_args("trc10:abc", from, to, "1"), "bad token"},
      {build_args("trx", "Tnope", to, "1"), "--from"},
      {build_args("trx", from, "41abc", "1"), "--to"},
      {build_args("trx", from, to, "0"), "greater than 0"},
      {build_args("trx", from, to, "-1"), "--amount"},
      {build_args("trx", from, to, "1.5"), "--amount"},
      {build_args("trx", from, to, "9223372036854775808"), "64-bit"},
      {build_args("trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", from, to,
                  "115792089237316195423570985008687907853269984665640564039457584007913129639936"),
       "too large"},
  };
  auto with = [&](std::vector<std::string> args, const std::string& name, const std::string& value) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i) {
      if (args[i] == "--" + name) {
        args[i + 1] = value;
        return args;
      }
    }
    args.push_back("--" + name);
    args.push_back(value);
    return args;
  };
  auto base = build_args("trx", from, to, "1");
  cases.push_back({with(base, "ref-block", "0011"), "--ref-block"});
  cases.push_back({with(base, "ref-block", std::string(64, 'g')), "--ref-block"});
  cases.push_back({with(base, "timestamp", "soon"), "--timestamp"});
  cases.push_back({with(base, "expiration", "1751554232807"), "--expiration"});
  cases.push_back({with(base, "fee-limit", "1000"), "trc20"});
  cases.push_back({with(base, "colour", "blue"), "unknown option"});
  cases.push_back({{"tx", "build", "--token", "trx"}, "missing"});
  for (const auto& [args, needle] : cases) {
    Result r = run(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    SCOPED_TRACE(shown + ": " + r.err);
    EXPECT_EQ(r.code, 2);
    EXPECT_TRUE(r.out.empty());
    EXPECT_NE(r.err.find(needle), std::string::npos);
  }
}

TEST_F(CliTx, SignsABatchFromStdin) {
  const fs::path ks = keystore(kKeyOne);
  const auto key = tron::PrivateKey::from_hex(kKeyOne);
  const std::string from = key.address().to_base58();
  const std::string to = "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1";
  std::string input;
  std::vector<json> unsigned_txs;
  for (const std::string token : {"trx", "trc10:1002000", "trc20:TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"}) {
    auto args = build_args(token, from, to, "1234567");
    if (token == "trx") args.push_back("--visible");
    Result built = run(args);
    ASSERT_EQ(built.code, 0) << built.err;
    unsigned_txs.push_back(json::parse(built.out));
    input += built.out + "\n";  // a blank line between entries is skipped
  }
  Result r = run({"tx", "sign", "--keystore", ks.string()}, input);
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = r.lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    json signed_json = json::parse(lines[i]);
    EXPECT_EQ(signed_json["txID"], unsigned_txs[i]["txID"]);
    EXPECT_EQ(signed_json["raw_data_hex"], unsigned_txs[i]["raw_data_hex"]);
    EXPECT_EQ(signed_json["visible"], unsigned_txs[i]["visible"]);
    ASSERT_EQ(signed_json["signature"].size(), 1u);
    auto tx = tron::Transaction::from_json(signed_json);
    auto signers = tx.signers();
    ASSERT_EQ(signers.size(), 1u);
    EXPECT_EQ(signers[0], key.address());
  }
}

TEST_F(CliTx, SignRefusesInconsistentOrBrokenInput) {
  const fs::path ks = keystore(kKeyOne);
  const auto key = tron::PrivateKey::from_hex(kKeyOne);
  Result built = run(build_args("trx", key.address().to_base58(),
                                "TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1", "5"));
  ASSERT_EQ(built.code, 0) << built.err;
  json tampered = json::parse(built.out);
  tampered["raw_data"]["contract"][0]["parameter"]["value"]["amount"] = 5000000;
  Result r = run({"tx", "sign", "--keystore", ks.string()}, tampered.dump() + "\n");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("does not match"), std::string::npos) << r.err;

  Result garbage = run({"tx", "sign", "--keystore", ks.string()}, built.out + "{not json\n");
  EXPECT_EQ(garbage.code, 1);
  EXPECT_EQ(garbage.lines().size(), 1u) << "the good first line is signed";
  EXPECT_NE(garbage.err.find("line 2"), std::string::npos) << garbage.err;

  Result no_keystore = run({"tx", "sign", "--keystore", (*dir_ / "missing.json").string()},
                           built.out);
  EXPECT_NE(no_keystore.code, 0);
  EXPECT_TRUE(no_keystore.out.empty());
}

TEST_F(CliTx, MessageSignMatchesTronwebAndVerifyChecksIt) {
  const fs::path ks = keystore(kKeyOne);
  const std::string address = tron::PrivateKey::from_hex(kKeyOne).address().to_base58();
  // tron-vectors.json tip191_messages[0], as tronweb's signMessageV2 prints it.
  const std::string expected =
      "0x0dc0b53d525e0103a6013061cf18e60cf158809149f2b8994a545af65a7004cb1eeaff560e801ab51b28df5d"
      "42549aa024c2aa7e9d34de1e01294b9afb5e6c7e1c";
  Result sign = run({"message", "sign", "--keystore", ks.string(), "--message", "hello world"});
  ASSERT_EQ(sign.code, 0) << sign.err;
  EXPECT_EQ(sign.out, expected + "\n");

  auto verify = [&](const std::string& addr, const std::string& sig, const std::string& msg) {
    return run({"message", "verify", "--address", addr, "--signature", sig, "--message", msg});
  };
  EXPECT_EQ(verify(address, expected, "hello world").code, 0);
  EXPECT_EQ(verify(address, expected.substr(2), "hello world").code, 0);
  EXPECT_EQ(verify(tron::PrivateKey::from_hex(kKeyOne).address().to_hex(), expected, "hello world")
                .code,
            0);
  Result wrong_message = verify(address, expected, "hello world!");
  EXPECT_EQ(wrong_message.code, 1);
  EXPECT_NE(wrong_message.err.find("invalid"), std::string::npos);
  EXPECT_EQ(verify("TPX6HK2NRN4XKRX1JAhbC827bm7gMmy5w1", expected, "hello world").code, 1);
  EXPECT_EQ(verify(address, expected.substr(0, 100), "hello world").code, 1);
  EXPECT_EQ(verify(address, "0xzz", "hello world").code, 1);
  EXPECT_EQ(verify(address, "0x" + std::string(130, '0'), "hello world").code, 1);
  EXPECT_NE(verify("nope", expected, "hello world").code, 0);
  // A message with spaces, quotes and non-ASCII text goes through argv unchanged.
  const std::string text = "pay 5 BTT to \"seeder\" — ok? 中文 😀";
  Result sign2 = run({"message", "sign", "--keystore", ks.string(), "--message", text});
  ASSERT_EQ(sign2.code, 0) << sign2.err;
  std::string sig2 = sign2.out.substr(0, sign2.out.size() - 1);
  EXPECT_EQ(verify(address, sig2, text).code, 0);
  EXPECT_EQ(verify(address, sig2, text + " ").code, 1);
}

}  // namespace
