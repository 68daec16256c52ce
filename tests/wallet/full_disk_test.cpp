// The ledger on a full disk: a payment that cannot record its next step stops there with a
// clear error. Nothing is broadcast that the ledger has not stored signed, and after space is
// freed the ledger is intact and the debt is paid exactly once.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/test_files.hpp"
#include "tests/wallet/fake_chain.hpp"
#include "wallet/payment_executor.hpp"

namespace {

using wallet::Ledger;
using wallet::Payment;
using wallet::PaymentExecutor;
using wallet::PaymentState;
using wallet_test::FakeChain;

constexpr std::size_t kFsSize = 1 << 20;
constexpr std::size_t kPage = 4096;

class SmallDisk {
 public:
  explicit SmallDisk(const std::filesystem::path& where) : path_(where) {
    std::filesystem::create_directories(path_);
    std::string options = "size=" + std::to_string(kFsSize) + ",mode=0700";
    mounted_ = ::mount("tmpfs", path_.c_str(), "tmpfs", 0, options.c_str()) == 0;
    error_ = std::strerror(errno);
  }
  ~SmallDisk() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }

  // Fills the file system, then gives back `slack` bytes.
  void fill_leaving(std::size_t slack) {
    int fd = ::open((path_ / "filler").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0);
    std::vector<char> block(kPage, 'x');
    off_t size = 0;
    while (::write(fd, block.data(), block.size()) == static_cast<ssize_t>(block.size())) {
      size += kPage;
    }
    ASSERT_EQ(errno, ENOSPC);
    ASSERT_EQ(::ftruncate(fd, size > static_cast<off_t>(slack) ? size - slack : 0), 0);
    ::close(fd);
  }
  void free_space() { std::filesystem::remove(path_ / "filler"); }

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string error_;
};

wallet::PaymentRequest request() {
  wallet::PaymentRequest r;
  r.debt_key = "disk:0";
  r.token = tron::Token::parse("trx");
  tron::Address::Raw raw{};
  raw[0] = 0x41;
  raw[20] = 0x99;
  r.to = tron::Address(raw);
  r.amount = 1234;
  return r;
}

TEST(FullDisk, LedgerRefusesToSignRatherThanLoseAStep) {
  test_support::TempDir dir;
  tron::PrivateKey key = tron::PrivateKey::generate();
  int failed_before_signing = 0, failed_after_signing = 0, succeeded = 0;
  // From no space at all up to enough for every step, one page more each time, so that the
  // disk fills at each step in turn.
  for (std::size_t slack = 0; slack <= 40 * kPage; slack += kPage) {
    SCOPED_TRACE("free bytes " + std::to_string(slack));
    auto mount_point = dir / ("disk-" + std::to_string(slack));
    SmallDisk disk(mount_point);
    if (!disk.mounted()) GTEST_SKIP() << "cannot mount a tmpfs: " << disk.error();
    const std::string ledger_path = (mount_point / "ledger.db").string();
    FakeChain chain((dir / ("chain-" + std::to_string(slack) + ".db")).string());
    { Ledger created(ledger_path); }  // the schema exists; the disk fills after
    disk.fill_leaving(slack);

    wallet::PaymentRequest r = request();
    r.from = key.address();
    wallet::ExecutorOptions o;
    o.sleep = [&chain](std::chrono::milliseconds) { chain.advance_time(3000); };
    std::string error;
    {
      try {
        Ledger ledger(ledger_path);
        PaymentExecutor ex(ledger, chain, key, {}, o);
        Payment p = ex.submit(r);
        EXPECT_EQ(p.state, PaymentState::Broadcast) << p.error.value_or("");
        ++succeeded;
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    disk.free_space();
    Ledger ledger(ledger_path);
    auto attempts = ledger.attempts(r.debt_key);
    if (!error.empty()) {
      EXPECT_NE(error.find("no space left on the disk"), std::string::npos) << error;
      // Whatever reached the chain is in the ledger, signed: nothing was broadcast unrecorded.
      if (chain.known() > 0) {
        ASSERT_EQ(attempts.size(), 1u) << error;
        ASSERT_TRUE(attempts[0].txid.has_value()) << error;
        EXPECT_FALSE(attempts[0].signed_tx.empty());
        EXPECT_EQ(chain.broadcasts(*attempts[0].txid), 1);
        ++failed_after_signing;
      } else {
        EXPECT_EQ(chain.known(), 0);
        ++failed_before_signing;
      }
    }
    {
      wallet::Db raw(ledger_path);
      wallet::Statement check(raw, "PRAGMA integrity_check");
      ASSERT_TRUE(check.step());
      EXPECT_EQ(check.text(0), "ok");
    }
    // With space again, recovery and the same request pay the debt exactly once.
    PaymentExecutor ex(ledger, chain, key, {}, o);
    ex.recover();
    Payment p = ex.submit(r);
    p = ex.wait(p.id, std::chrono::minutes(5));
    EXPECT_EQ(p.state, PaymentState::Confirmed) << p.error.value_or("");
    EXPECT_EQ(chain.landed(), 1);
    EXPECT_EQ(chain.landed_to(r.to), 1234);
  }
  std::cout << "full disk: " << failed_before_signing << " refused before signing, "
            << failed_after_signing << " stopped after the signed step was stored, " << succeeded
            << " completed\n";
  EXPECT_GT(failed_before_signing, 0);
  EXPECT_GT(succeeded, 0);
}

}  // namespace
