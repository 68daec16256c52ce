// The seeding limits: the session's (Global), the torrent's own (Single) or none (Unlimited),
// for the ratio and for the time seeding without upload.
#include "node/daemon/limits.hpp"

#include <gtest/gtest.h>

namespace bttnode::daemon {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

TEST(DaemonLimits, RatioFromTheSessionTheTorrentOrNone) {
  DaemonConfig session;
  TorrentOptions o;                                                   // Global
  EXPECT_FALSE(reached_limit(o, session, 10'000, 1000, seconds(0)));  // the session has none
  session.ratio_limit = 2.0;
  EXPECT_FALSE(reached_limit(o, session, 1999, 1000, seconds(0)));
  EXPECT_EQ(reached_limit(o, session, 2000, 1000, seconds(0)), "ratio limit");
  o.ratio_mode = LimitMode::Single;
  o.ratio_limit = 0.5;
  EXPECT_EQ(reached_limit(o, session, 500, 1000, seconds(0)), "ratio limit");
  EXPECT_FALSE(reached_limit(o, session, 499, 1000, seconds(0)));
  o.ratio_mode = LimitMode::Unlimited;
  EXPECT_FALSE(reached_limit(o, session, 1'000'000, 1000, seconds(0)));
  // A torrent of no size (metadata not here) never reaches a ratio.
  o.ratio_mode = LimitMode::Global;
  EXPECT_FALSE(reached_limit(o, session, 5, 0, seconds(0)));
}

TEST(DaemonLimits, IdleFromTheSessionTheTorrentOrNone) {
  DaemonConfig session;
  TorrentOptions o;
  o.ratio_mode = LimitMode::Unlimited;
  EXPECT_FALSE(reached_limit(o, session, 0, 1000, minutes(500)));
  session.idle_seeding_limit = minutes(30);
  EXPECT_FALSE(reached_limit(o, session, 0, 1000, minutes(29)));
  EXPECT_EQ(reached_limit(o, session, 0, 1000, minutes(30)), "idle seeding limit");
  o.idle_mode = LimitMode::Single;
  o.idle_limit = minutes(5);
  EXPECT_EQ(reached_limit(o, session, 0, 1000, minutes(5)), "idle seeding limit");
  EXPECT_FALSE(reached_limit(o, session, 0, 1000, seconds(299)));
  o.idle_mode = LimitMode::Unlimited;
  EXPECT_FALSE(reached_limit(o, session, 0, 1000, minutes(10'000)));
}

}  // namespace
}  // namespace bttnode::daemon
