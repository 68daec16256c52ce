#pragma once
// Which blocks to request next: rarest-first with random tie-breaking, a few random pieces
// first (so a new peer soon has something to trade), partial pieces finished before new ones
// are started, and endgame mode (blocks already requested from one peer may be requested
// from another when nothing else is left). Pure bookkeeping: no sockets, no disk.
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "base/small_rng.hpp"
#include "p2p/wire/core_types.hpp"

namespace p2p {

struct BlockRef {
  PieceIndex piece;
  std::int32_t offset = 0;  // bytes into the piece
  std::int32_t length = 0;
  bool operator==(const BlockRef&) const = default;
  auto operator<=>(const BlockRef&) const = default;
};

class PiecePicker {
 public:
  PiecePicker(std::int32_t num_pieces, std::int32_t piece_length, ByteCount total_size,
              std::uint64_t seed = std::random_device{}());

  std::int32_t num_pieces() const { return num_pieces_; }
  std::int32_t piece_size(PieceIndex p) const;
  std::int32_t blocks_in_piece(PieceIndex p) const;

  // Our own pieces.
  void set_have(PieceIndex p);
  bool have(PieceIndex p) const { return have_[p.get()]; }
  const std::vector<bool>& have_bits() const { return have_; }
  std::int32_t num_have() const { return num_have_; }
  bool is_seed() const { return num_have_ == num_pieces_; }
  ByteCount bytes_left() const;

  // Availability in the swarm.
  void inc_availability(PieceIndex p);
  void dec_availability(PieceIndex p);
  void inc_availability_all(const std::vector<bool>& bits);
  void dec_availability_all(const std::vector<bool>& bits);
  int availability(PieceIndex p) const { return avail_[p.get()]; }

  // Picks up to max_blocks blocks the peer has and nobody was asked for, marking them
  // requested. Pieces already being downloaded come first. In endgame (nothing left that
  // is unrequested) it returns blocks requested from others but not yet received, skipping
  // those in `exclude` (the peer's own outstanding requests).
  std::vector<BlockRef> pick(const std::vector<bool>& peer_has, int max_blocks,
                             const std::vector<BlockRef>& exclude = {});

  // A requested block will not arrive (choke, reject, timeout, disconnect).
  void abort_request(const BlockRef& b);
  // Data arrived. Returns false if the block was not expected (already received).
  bool mark_received(const BlockRef& b);
  // Every block of the piece has been received.
  bool piece_complete(PieceIndex p) const;
  // Hash check results for a complete piece.
  void piece_passed(PieceIndex p);
  void piece_failed(PieceIndex p);  // all its blocks become wanted again

  bool in_endgame() const { return endgame_; }
  bool is_downloading(PieceIndex p) const { return partial_.count(p.get()) > 0; }
  // How many peers were asked for the block (0 if none or received).
  int requesters(const BlockRef& b) const;

  // A piece a peer may want to be told about (for tests).
  std::size_t partial_count() const { return partial_.size(); }

 private:
  enum class BlockState : std::uint8_t { none, requested, received };
  struct Partial {
    std::vector<BlockState> state;
    std::vector<std::uint8_t> requesters;
    int received = 0;
  };
  Partial& start_piece(PieceIndex p);
  BlockRef block_ref(PieceIndex p, int block) const;
  bool pick_from_partial(PieceIndex p, Partial& part, int& budget, std::vector<BlockRef>& out,
                         bool endgame, const std::vector<BlockRef>& exclude);

  std::int32_t num_pieces_;
  std::int32_t piece_length_;
  ByteCount total_size_;
  std::vector<bool> have_;
  std::int32_t num_have_ = 0;
  std::vector<int> avail_;
  std::map<int, Partial> partial_;
  base::SmallRng rng_;
  bool endgame_ = false;
  static constexpr int kRandomFirstPieces = 4;
};

}  // namespace p2p
