#include "node/pay/upload_cap.hpp"

#include <gtest/gtest.h>

#include "node/pay/settings_table.hpp"

namespace bttnode::pay {
namespace {

TEST(UploadCap, HeldWhileBuyingAndDownloading) {
  UploadCap cap(64);
  EXPECT_EQ(cap.next(0, true, true), 64 * 1024);
  EXPECT_TRUE(cap.capped());
  EXPECT_EQ(cap.next(64 * 1024, true, true), 64 * 1024);
}

TEST(UploadCap, LiftedWhenFinishedOrNotBuying) {
  UploadCap cap(64);
  EXPECT_EQ(cap.next(0, true, true), 64 * 1024);
  EXPECT_EQ(cap.next(64 * 1024, true, false), 0);  // complete: seeds unlimited
  EXPECT_FALSE(cap.capped());
  UploadCap stopped(64);
  EXPECT_EQ(stopped.next(0, true, true), 64 * 1024);
  EXPECT_EQ(stopped.next(64 * 1024, false, true), 0);  // budget reached or no seller
  EXPECT_EQ(UploadCap(64).next(0, false, true), 0);    // never bought: untouched
}

TEST(UploadCap, KeepsTheUsersLimit) {
  UploadCap cap(64);
  // A user limit above the cap comes back afterwards.
  EXPECT_EQ(cap.next(500'000, true, true), 64 * 1024);
  EXPECT_EQ(cap.user_limit(), 500'000);
  EXPECT_EQ(cap.next(64 * 1024, false, true), 500'000);
  // One below the cap holds.
  UploadCap low(64);
  EXPECT_EQ(low.next(10'000, true, true), 10'000);
  EXPECT_EQ(low.next(10'000, true, false), 10'000);
}

TEST(UploadCap, ALimitSetWhileCappedIsTheUsers) {
  UploadCap cap(64);
  EXPECT_EQ(cap.next(0, true, true), 64 * 1024);
  // The user sets a limit while the cap holds: it is held to the cap, then is theirs.
  EXPECT_EQ(cap.next(1'000'000, true, true), 64 * 1024);
  EXPECT_EQ(cap.next(64 * 1024, true, false), 1'000'000);
  // Set again (to none) after the cap was lifted: kept.
  EXPECT_EQ(cap.next(0, false, false), 0);
}

TEST(UploadCap, ZeroKeepsTheOldBehaviour) {
  UploadCap off(0);
  EXPECT_EQ(off.next(0, true, true), 0);
  EXPECT_FALSE(off.capped());
  EXPECT_EQ(off.next(300, true, true), 300);
}

TEST(UploadCap, IsABuySetting) {
  BuyerSettings s;
  EXPECT_EQ(s.upload_while_buying, 64);
  buyer_settings_table().set(s, "upload-while-buying", "0");
  EXPECT_EQ(s.upload_while_buying, 0);
  EXPECT_THROW(buyer_settings_table().set(s, "upload-while-buying", "-1"), base::SettingsError);
}

}  // namespace
}  // namespace bttnode::pay
