#include <gtest/gtest.h>

#include <set>

#include "p2p/torrent/piece_picker.hpp"

using namespace p2p;

namespace {
std::vector<bool> all(int n, bool v = true) { return std::vector<bool>(std::size_t(n), v); }
}  // namespace

TEST(Picker, BlocksCoverShortLastPiece) {
  // 3 pieces of 40000 bytes, last one 5000 bytes.
  PiecePicker pk(3, 40000, 85000, 1);
  EXPECT_EQ(pk.piece_size(PieceIndex(2)), 5000);
  EXPECT_EQ(pk.blocks_in_piece(PieceIndex(0)), 3);
  EXPECT_EQ(pk.blocks_in_piece(PieceIndex(2)), 1);
  auto blocks = pk.pick(all(3), 100);
  ASSERT_EQ(blocks.size(), 7u);
  std::int64_t total = 0;
  for (auto& b : blocks) total += b.length;
  EXPECT_EQ(total, 85000);
  EXPECT_TRUE(pk.pick(all(3), 10, blocks).empty());
  EXPECT_TRUE(pk.in_endgame());
}

TEST(Picker, OnlyPiecesThePeerHas) {
  PiecePicker pk(8, kBlockSize, 8 * kBlockSize, 2);
  std::vector<bool> has = all(8, false);
  has[5] = true;
  auto b = pk.pick(has, 10);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].piece, PieceIndex(5));
  EXPECT_TRUE(pk.pick(has, 10).empty() || pk.in_endgame());
}

TEST(Picker, RarestFirstAfterRandomStart) {
  PiecePicker pk(20, kBlockSize, 20 * kBlockSize, 3);
  for (int i = 0; i < 4; ++i) pk.set_have(PieceIndex(i));  // past the random-first phase
  std::vector<bool> common = all(20);
  for (int k = 0; k < 5; ++k) pk.inc_availability_all(common);
  pk.dec_availability(PieceIndex(13));  // piece 13 is the rarest
  pk.dec_availability(PieceIndex(13));
  pk.dec_availability(PieceIndex(7));
  auto b = pk.pick(common, 2);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].piece, PieceIndex(13));
  EXPECT_EQ(b[1].piece, PieceIndex(7));
}

TEST(Picker, PartialPiecesFinishFirst) {
  PiecePicker pk(10, 4 * kBlockSize, 40 * kBlockSize, 4);
  auto first = pk.pick(all(10), 1);
  ASSERT_EQ(first.size(), 1u);
  auto next = pk.pick(all(10), 3);
  ASSERT_EQ(next.size(), 3u);
  for (auto& b : next) EXPECT_EQ(b.piece, first[0].piece);
}

TEST(Picker, AbortMakesBlockWantedAgain) {
  PiecePicker pk(1, 2 * kBlockSize, 2 * kBlockSize, 5);
  auto b = pk.pick(all(1), 2);
  ASSERT_EQ(b.size(), 2u);
  pk.abort_request(b[1]);
  auto again = pk.pick(all(1), 2);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0], b[1]);
}

TEST(Picker, EndgameDuplicatesButNotOwnRequests) {
  PiecePicker pk(1, 2 * kBlockSize, 2 * kBlockSize, 6);
  auto a = pk.pick(all(1), 10);  // peer A takes everything
  ASSERT_EQ(a.size(), 2u);
  auto b = pk.pick(all(1), 10, a);  // A again: nothing new, its own requests excluded
  EXPECT_TRUE(b.empty());
  EXPECT_TRUE(pk.in_endgame());
  auto c = pk.pick(all(1), 10);  // peer B in endgame gets duplicates
  EXPECT_EQ(c.size(), 2u);
  EXPECT_EQ(pk.requesters(c[0]), 2);
  EXPECT_TRUE(pk.mark_received(c[0]));
  EXPECT_FALSE(pk.mark_received(c[0]));  // the duplicate is refused
  EXPECT_EQ(pk.requesters(c[0]), 0);
}

TEST(Picker, HashFailureRefetches) {
  PiecePicker pk(2, kBlockSize, 2 * kBlockSize, 7);
  auto b = pk.pick(all(2), 2);
  ASSERT_EQ(b.size(), 2u);
  for (auto& x : b) pk.mark_received(x);
  EXPECT_TRUE(pk.piece_complete(b[0].piece));
  pk.piece_failed(b[0].piece);
  EXPECT_FALSE(pk.piece_complete(b[0].piece));
  pk.piece_passed(b[1].piece);
  auto again = pk.pick(all(2), 5);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].piece, b[0].piece);
  pk.mark_received(again[0]);
  pk.piece_passed(again[0].piece);
  EXPECT_TRUE(pk.is_seed());
  EXPECT_EQ(pk.bytes_left(), 0);
}

TEST(Picker, RandomFirstPiecesVary) {
  std::set<int> firsts;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PiecePicker pk(100, kBlockSize, 100 * kBlockSize, seed);
    firsts.insert(pk.pick(all(100), 1)[0].piece.get());
  }
  EXPECT_GT(firsts.size(), 5u);
}
