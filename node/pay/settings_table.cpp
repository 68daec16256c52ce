#include "node/pay/settings_table.hpp"

namespace bttnode::pay {

namespace {

using T = base::SettingType;
constexpr double kDay = 24.0 * 3600 * 1000;  // ms

base::SettingsTable<SellerSettings> make_seller() {
  using S = SellerSettings;
  base::SettingsTable<S> t;
  t.add(
      {"credit", "credit", T::Bytes,
       "first credit: unpaid bytes a payer with no record may run ahead (default: 4 pieces "
       "if larger)",
       false, 1, 1 << 30},
      [](S & s) -> auto& { return s.credit; });
  t.add(
      {"max-credit", "max_credit", T::Bytes,
       "the largest credit a payer's record can earn (at least --credit)", false, 1,
       double(std::int64_t(1) << 40)},
      [](S & s) -> auto& { return s.max_credit; });
  t.add(
      {"confirmations", "confirmations", T::Int64, "blocks over a settlement before it counts",
       false, 1, 100},
      [](S & s) -> auto& { return s.confirmations; });
  t.add(
      {"settle-latency", "settle_latency", T::Duration,
       "expected time from a settlement to its final credit", false, 100, kDay},
      [](S & s) -> auto& { return s.settle_latency; });
  t.add(
      {"ban-tolerance", "ban_tolerance", T::Double,
       "unpaid beyond credit x (1 + this) is banned at once", false, 0, 100},
      [](S & s) -> auto& { return s.ban_tolerance; });
  t.add(
      {"settle-grace", "settle_grace", T::Duration,
       "over its credit this long with nothing to verify: banned", false, 1000, kDay},
      [](S & s) -> auto& { return s.settle_grace; });
  t.add(
      {"pay-ban-time", "pay_ban_time", T::Duration, "how long a payer that cheats is banned", false,
       0, 30 * kDay},
      [](S & s) -> auto& { return s.ban_time; });
  t.add(
      {"invoice-interval", "invoice_interval", T::Duration, "time between invoices", false, 100,
       3'600'000},
      [](S & s) -> auto& { return s.invoice_interval; });
  t.add(
      {"max-prior-settles", "max_prior_settles", T::Int,
       "settlements of earlier sessions accepted per session", false, 0, 10000},
      [](S & s) -> auto& { return s.max_prior_settles; });
  t.add(
      {"max-verifying", "max_verifying", T::Int,
       "settlements of one peer under verification at once", false, 1, 1000},
      [](S & s) -> auto& { return s.max_verifying; });
  return t;
}

base::SettingsTable<BuyerSettings> make_buyer() {
  using S = BuyerSettings;
  base::SettingsTable<S> t;
  t.add(
      {"pay-retry", "pay_retry", T::Duration, "a payment not sent is tried again after this", false,
       100, 3'600'000},
      [](S & s) -> auto& { return s.pay_retry; });
  t.add(
      {"confirm-wait", "confirm_wait", T::Duration,
       "a third of the time a payment's block is awaited", false, 1000, kDay},
      [](S & s) -> auto& { return s.confirm_wait; });
  t.add(
      {"confirm-poll", "confirm_poll", T::Duration, "how often the node is asked for it", false, 10,
       60'000},
      [](S & s) -> auto& { return s.confirm_poll; });
  t.add(
      {"last-invoice-wait", "last_invoice_wait", T::Duration,
       "at the end, how long a late invoice is awaited", false, 0, 600'000},
      [](S & s) -> auto& { return s.last_invoice_wait; });
  t.add(
      {"upload-while-buying", "upload_while_buying", T::Int64,
       "KiB/s a torrent uploads while its download is paid for (0: not held)", false, 0,
       double(std::int64_t(1) << 30)},
      [](S & s) -> auto& { return s.upload_while_buying; });
  return t;
}

base::SettingsTable<VerifierOptions> make_verifier() {
  using S = VerifierOptions;
  base::SettingsTable<S> t;
  t.add(
      {"unknown-tx-grace", "unknown_tx_grace", T::Duration,
       "a settlement the node does not know yet is awaited this long", false, 0, kDay},
      [](S & s) -> auto& { return s.unknown_grace; });
  return t;
}

}  // namespace

const base::SettingsTable<SellerSettings>& seller_settings_table() {
  static const auto table = make_seller();
  return table;
}
const base::SettingsTable<BuyerSettings>& buyer_settings_table() {
  static const auto table = make_buyer();
  return table;
}
const base::SettingsTable<VerifierOptions>& verifier_settings_table() {
  static const auto table = make_verifier();
  return table;
}

}  // namespace bttnode::pay
