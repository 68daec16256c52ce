#pragma once
// The named settings of btt_pay (base/settings.hpp): the seller's and buyer's tunables and the
// verifier's. Terms that need a token to read (price, max price, minimum settlement, budget)
// are options of the command line, not settings.
#include "base/settings.hpp"
#include "node/pay/buyer.hpp"
#include "node/pay/seller.hpp"
#include "node/pay/verifier.hpp"

namespace bttnode::pay {

const base::SettingsTable<SellerSettings>& seller_settings_table();
const base::SettingsTable<BuyerSettings>& buyer_settings_table();
const base::SettingsTable<VerifierOptions>& verifier_settings_table();

}  // namespace bttnode::pay
