// torrent-get `peers` entries: the transport shown the Transmission way.
#include <gtest/gtest.h>

#include "node/daemon/rpc_fields.hpp"

namespace {

using bttnode::daemon::peer_fields;

p2p::PeerStats downloading_from() {
  p2p::PeerStats p;
  p.endpoint = "[::1]:51413";
  p.peer_choking = false;
  p.am_interested = true;
  return p;
}

TEST(RpcPeerFields, PlainTcpHasNeitherFlag) {
  auto j = peer_fields(downloading_from());
  EXPECT_EQ(j["address"], "::1");
  EXPECT_EQ(j["port"], 51413);
  EXPECT_EQ(j["flagStr"], "D");
  EXPECT_EQ(j["isUTP"], false);
  EXPECT_EQ(j["isEncrypted"], false);
}

TEST(RpcPeerFields, UtpAndEncryptionAreFlagged) {
  auto p = downloading_from();
  p.utp = true;
  p.encrypted = true;
  p.incoming = true;
  auto j = peer_fields(p);
  EXPECT_EQ(j["flagStr"], "TDEI");
  EXPECT_EQ(j["isUTP"], true);
  EXPECT_EQ(j["isEncrypted"], true);
  EXPECT_EQ(j["isIncoming"], true);
}

TEST(RpcPeerFields, EncryptedTcpShowsOnlyE) {
  auto p = downloading_from();
  p.encrypted = true;
  auto j = peer_fields(p);
  EXPECT_EQ(j["flagStr"], "DE");
  EXPECT_EQ(j["isUTP"], false);
}

}  // namespace
