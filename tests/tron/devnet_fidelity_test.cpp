// Where the devnet must answer as java-tron does: the actuator checks of createtransaction
// and transferasset with their exact messages, and hostile bodies (deep nesting, huge size).
#include <gtest/gtest.h>

#include "devnet_test_util.hpp"
#include "tron/devnet/service.hpp"

namespace tron::devnet {
namespace {

using namespace testing;
using nlohmann::json;

constexpr std::int64_t kT0 = 1'800'000'000'000;
const std::string kAlice = "TYjaKKV4asba9j5JwoEKe4ZdZWieGrQLs8";
const std::string kBob = "TXFotncHrYd2AcxaWvTHCHZa6A5iBKUxPZ";
const std::string kPrefix = "class org.tron.core.exception.ContractValidateException : ";

struct DevnetFidelity : ::testing::Test {
  std::int64_t now = kT0;
  Service service{Chain(test_genesis()), [this] { return now; }};

  json post(const std::string& path, const json& body) {
    ApiReply r = service.handle("POST", path, body.dump());
    EXPECT_EQ(r.status, 200) << path << " -> " << r.body;
    return json::parse(r.body);
  }
  std::string trx_error(const std::string& from, const std::string& to, const json& amount) {
    json r =
        post("/wallet/createtransaction",
             {{"owner_address", from}, {"to_address", to}, {"amount", amount}, {"visible", true}});
    EXPECT_EQ(r.size(), 1u) << r;  // java-tron prints only the Error
    return r.value("Error", std::string());
  }
  std::string asset_error(const std::string& from, const std::string& to, const json& amount,
                          const std::string& asset = "1002000") {
    json r = post("/wallet/transferasset", {{"owner_address", from},
                                            {"to_address", to},
                                            {"asset_name", asset},
                                            {"amount", amount},
                                            {"visible", true}});
    EXPECT_EQ(r.size(), 1u) << r;
    return r.value("Error", std::string());
  }
};

TEST_F(DevnetFidelity, CreateTransactionRunsTheTransferActuatorChecks) {
  const std::string nobody = fresh_address().to_base58();
  EXPECT_EQ(trx_error(kAlice, kBob, 2'000'000'000'000),
            kPrefix + "Validate TransferContract error, balance is not sufficient.");
  EXPECT_EQ(trx_error(kAlice, kBob, 0), kPrefix + "Amount must be greater than 0.");
  EXPECT_EQ(trx_error(kAlice, kBob, -5), kPrefix + "Amount must be greater than 0.");
  EXPECT_EQ(trx_error(kAlice, kAlice, 1), kPrefix + "Cannot transfer TRX to yourself.");
  EXPECT_EQ(trx_error(nobody, kBob, 1),
            kPrefix + "Validate TransferContract error, no OwnerAccount.");
  // To a new account the owner must also pay the 1 TRX creation fee of the system contract.
  const std::int64_t dave = 100'000'000'000;
  EXPECT_EQ(trx_error("TW2p6ikdzSsHnfRaTWUWQPpA5TC9minARR", fresh_address().to_base58(), dave),
            kPrefix + "Validate TransferContract error, balance is not sufficient.");
  EXPECT_EQ(trx_error(kAlice, "TAFjULxiVgT4qWk6UZwjqwZXTSaGaqnVp4", 1),
            kPrefix + "Cannot transfer TRX to a smartContract.");
  json ok =
      post("/wallet/createtransaction",
           {{"owner_address", kAlice}, {"to_address", kBob}, {"amount", 1}, {"visible", true}});
  EXPECT_TRUE(ok.contains("txID")) << ok;
}

TEST_F(DevnetFidelity, TransferAssetRunsTheTransferAssetActuatorChecks) {
  const std::string nobody = fresh_address().to_base58();
  EXPECT_EQ(asset_error(kAlice, kBob, 0), kPrefix + "Amount must be greater than 0.");
  EXPECT_EQ(asset_error(kAlice, kAlice, 1), kPrefix + "Cannot transfer asset to yourself.");
  EXPECT_EQ(asset_error(nobody, kBob, 1), kPrefix + "No owner account!");
  EXPECT_EQ(asset_error(kAlice, kBob, 1, "1000001"), kPrefix + "No asset!");
  EXPECT_EQ(asset_error(kAlice, kBob, 2'000'000'000'000),
            kPrefix + "assetBalance is not sufficient.");
  json ok = post("/wallet/transferasset", {{"owner_address", kAlice},
                                           {"to_address", kBob},
                                           {"asset_name", "1002000"},
                                           {"amount", 1},
                                           {"visible", true}});
  EXPECT_TRUE(ok.contains("txID")) << ok;
}

TEST_F(DevnetFidelity, DeeplyNestedBodiesAreRefusedAndTheServiceGoesOn) {
  for (const char* open : {"[", "{\"a\":"}) {
    std::string body;
    for (int i = 0; i < 100'000; ++i) body += open;
    ApiReply r = service.handle("POST", "/wallet/getblock", body);
    EXPECT_EQ(r.status, 400) << r.body;
    json j = json::parse(r.body);
    EXPECT_NE(j.value("Error", std::string()).find("nested deeper than"), std::string::npos);
  }
  // Brackets inside strings are data, not nesting.
  std::string quoted = "{\"address\":\"" + std::string(10'000, '[') + "\"}";
  EXPECT_EQ(service.handle("POST", "/wallet/getaccount", quoted).status, 200);
  // A body past 4 MiB is refused before parsing.
  ApiReply big = service.handle("POST", "/wallet/getblock", std::string(5 << 20, ' '));
  EXPECT_EQ(big.status, 413);
  json block = post("/wallet/getnowblock", json::object());
  EXPECT_TRUE(block.contains("blockID")) << block;
}

}  // namespace
}  // namespace tron::devnet
