// The bttnode program's command line: --help of every command, --version, a suggestion for a
// mistyped option or command, and --config's checks. Runs the built binary.
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "../test_files.hpp"

namespace {

using test_support::TempDir;

struct Result {
  int code = -1;
  std::string out, err;
};

class CliTest : public ::testing::Test {
 protected:
  Result run(const std::string& args) {
    const auto out = dir_ / "stdout";
    const auto err = dir_ / "stderr";
    std::string cmd = "cd '" + dir_.path().string() + "' && '" BTTNODE_BINARY "' " + args +
                      " </dev/null >'" + out.string() + "' 2>'" + err.string() + "'";
    int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = test_support::read_file(out);
    r.err = test_support::read_file(err);
    return r;
  }
  TempDir dir_{"bttnode-cli"};
};

TEST_F(CliTest, EveryCommandHasHelp) {
  for (const char* cmd : {"create-torrent", "seed", "download", "wallet", "wallet create",
                          "wallet import", "wallet address", "wallet balance", "wallet fee",
                          "wallet send", "tx", "tx build", "tx sign", "tx broadcast", "message",
                          "message sign", "message verify", "devnet", "earnings"}) {
    Result r = run(std::string(cmd) + " --help");
    EXPECT_EQ(r.code, 0) << cmd << ": " << r.err;
    EXPECT_NE(r.out.find("Usage:"), std::string::npos) << cmd << ": " << r.out;
    EXPECT_NE(r.out.find(std::string(cmd).substr(std::string(cmd).rfind(' ') + 1)),
              std::string::npos)
        << cmd;
  }
  Result d = run("download --help");
  EXPECT_NE(d.out.find("--max-price"), std::string::npos);
  EXPECT_NE(d.out.find("--config"), std::string::npos);
  // Flags from the settings table carry its help and default.
  EXPECT_NE(d.out.find("download limit, bytes/s (0: none) (default 0)"), std::string::npos)
      << d.out;
  Result top = run("--help");
  EXPECT_EQ(top.code, 0);
  EXPECT_NE(top.out.find("earnings"), std::string::npos);
}

TEST_F(CliTest, Version) {
  Result r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "bttnode 0.1.0\n");
}

TEST_F(CliTest, LogLevelsAreCheckedAndSetPerCategory) {
  std::ofstream(dir_ / "f.bin") << "some bytes";
  Result bad = run("--log loud create-torrent f.bin -o f.torrent");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown level 'loud'"), std::string::npos) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_ / "f.torrent"));
  Result good = run("--log info,peer=debug create-torrent f.bin -o f.torrent");
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ / "f.torrent"));
}

TEST_F(CliTest, TyposGetSuggestions) {
  Result r = run("download x.torrent --out d --max-prise 3");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("unknown option --max-prise; did you mean --max-price?"), std::string::npos)
      << r.err;
  Result eq = run("seed x.torrent --data . --max-up-rat=1M");
  EXPECT_NE(eq.err.find("did you mean --max-up-rate?"), std::string::npos) << eq.err;
  Result c = run("donwload x");
  EXPECT_EQ(c.code, 2);
  EXPECT_NE(c.err.find("did you mean download?"), std::string::npos) << c.err;
  Result w = run("wallet sned");
  EXPECT_NE(w.err.find("did you mean send?"), std::string::npos) << w.err;
  Result far = run("seed x.torrent --data . --colour red");
  EXPECT_NE(far.err.find("unknown option --colour"), std::string::npos);
  EXPECT_EQ(far.err.find("did you mean"), std::string::npos) << far.err;
}

TEST_F(CliTest, ConfigFileIsCheckedAgainstTheTable) {
  test_support::write_file(dir_ / "bad.json", R"({"max_upload_rate": "1M", "max_perrs": 3})");
  Result bad = run("seed x.torrent --data . --config bad.json");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unknown setting: max_perrs"), std::string::npos) << bad.err;
  test_support::write_file(dir_ / "type.json", R"({"max_connections": "many"})");
  Result type = run("download x.torrent --out d --config type.json");
  EXPECT_EQ(type.code, 2);
  EXPECT_NE(type.err.find("max-connections: want a whole number"), std::string::npos) << type.err;
  // Flags win over the file; --dump-config shows the result.
  test_support::write_file(dir_ / "ok.json", R"({"max_upload_rate": "1M", "listen_port": 7001})");
  Result ok = run("seed x.torrent --data . --config ok.json --port 7002 --dump-config");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("\"max_upload_rate\": 1048576"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("\"listen_port\": 7002"), std::string::npos) << ok.out;
  Result range = run("seed x.torrent --data . --port 70000");
  EXPECT_EQ(range.code, 2);
  EXPECT_NE(range.err.find("out of bounds"), std::string::npos) << range.err;
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("seed").code, 2);
  EXPECT_EQ(run("seed a.torrent b.torrent --data .").code, 2);
  EXPECT_EQ(run("wallet").code, 2);
}

}  // namespace
