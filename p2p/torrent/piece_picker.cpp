#include "p2p/torrent/piece_picker.hpp"

#include <algorithm>
#include <stdexcept>

namespace p2p {

PiecePicker::PiecePicker(std::int32_t num_pieces, std::int32_t piece_length, ByteCount total_size,
                         std::uint64_t seed)
    : num_pieces_(num_pieces),
      piece_length_(piece_length),
      total_size_(total_size),
      have_(std::size_t(num_pieces), false),
      avail_(std::size_t(num_pieces), 0),
      rng_(seed) {
  if (num_pieces <= 0 || piece_length <= 0) throw std::invalid_argument("empty piece layout");
}

std::int32_t PiecePicker::piece_size(PieceIndex p) const {
  if (p.get() + 1 < num_pieces_) return piece_length_;
  return std::int32_t(total_size_ - ByteCount(piece_length_) * (num_pieces_ - 1));
}

std::int32_t PiecePicker::blocks_in_piece(PieceIndex p) const {
  return (piece_size(p) + kBlockSize - 1) / kBlockSize;
}

void PiecePicker::set_have(PieceIndex p) {
  if (have_[p.get()]) return;
  have_[p.get()] = true;
  ++num_have_;
  partial_.erase(p.get());
}

ByteCount PiecePicker::bytes_left() const {
  ByteCount left = 0;
  for (int i = 0; i < num_pieces_; ++i) {
    if (!have_[i]) left += piece_size(PieceIndex(i));
  }
  return left;
}

void PiecePicker::inc_availability(PieceIndex p) {
  ++avail_[p.get()];
}
void PiecePicker::dec_availability(PieceIndex p) {
  if (avail_[p.get()] > 0) --avail_[p.get()];
}
void PiecePicker::inc_availability_all(const std::vector<bool>& bits) {
  for (int i = 0; i < num_pieces_ && i < int(bits.size()); ++i) {
    if (bits[i]) ++avail_[i];
  }
}
void PiecePicker::dec_availability_all(const std::vector<bool>& bits) {
  for (int i = 0; i < num_pieces_ && i < int(bits.size()); ++i) {
    if (bits[i] && avail_[i] > 0) --avail_[i];
  }
}

BlockRef PiecePicker::block_ref(PieceIndex p, int block) const {
  std::int32_t off = block * kBlockSize;
  return BlockRef{p, off, std::min(kBlockSize, piece_size(p) - off)};
}

PiecePicker::Partial& PiecePicker::start_piece(PieceIndex p) {
  Partial& part = partial_[p.get()];
  if (part.state.empty()) {
    part.state.assign(std::size_t(blocks_in_piece(p)), BlockState::none);
    part.requesters.assign(part.state.size(), 0);
  }
  return part;
}

bool PiecePicker::pick_from_partial(PieceIndex p, Partial& part, int& budget,
                                    std::vector<BlockRef>& out, bool endgame,
                                    const std::vector<BlockRef>& exclude) {
  bool any = false;
  for (std::size_t b = 0; b < part.state.size() && budget > 0; ++b) {
    bool take = false;
    if (part.state[b] == BlockState::none) {
      take = true;
    } else if (endgame && part.state[b] == BlockState::requested && part.requesters[b] < 3) {
      BlockRef ref = block_ref(p, int(b));
      take = std::find(exclude.begin(), exclude.end(), ref) == exclude.end();
    }
    if (!take) continue;
    part.state[b] = BlockState::requested;
    if (part.requesters[b] < 255) ++part.requesters[b];
    out.push_back(block_ref(p, int(b)));
    --budget;
    any = true;
  }
  return any;
}

std::vector<BlockRef> PiecePicker::pick(const std::vector<bool>& peer_has, int max_blocks,
                                        const std::vector<BlockRef>& exclude) {
  std::vector<BlockRef> out;
  if (max_blocks <= 0) return out;
  auto peer_has_piece = [&](int i) { return i < int(peer_has.size()) && peer_has[i]; };
  int budget = max_blocks;

  // 1. Finish pieces already started.
  for (auto& [idx, part] : partial_) {
    if (budget <= 0) break;
    if (!peer_has_piece(idx)) continue;
    pick_from_partial(PieceIndex(idx), part, budget, out, false, exclude);
  }
  if (budget <= 0) return out;

  // 2. Start new pieces: random while we have few, then rarest first (random among equals).
  std::vector<std::pair<std::uint64_t, int>> candidates;
  for (int i = 0; i < num_pieces_; ++i) {
    if (have_[i] || !peer_has_piece(i) || partial_.count(i)) continue;
    std::uint64_t key = rng_() >> 32;
    if (num_have_ >= kRandomFirstPieces) key |= std::uint64_t(std::uint32_t(avail_[i])) << 32;
    candidates.emplace_back(key, i);
  }
  if (!candidates.empty()) {
    // Each new piece supplies blocks_in_piece blocks; sort only as many as needed.
    std::size_t want = std::min<std::size_t>(candidates.size(), std::size_t(budget));
    std::partial_sort(candidates.begin(), candidates.begin() + std::ptrdiff_t(want),
                      candidates.end());
    for (std::size_t k = 0; k < want && budget > 0; ++k) {
      PieceIndex p(candidates[k].second);
      pick_from_partial(p, start_piece(p), budget, out, false, exclude);
    }
    if (budget <= 0) return out;
  }

  // 3. Endgame: every missing piece is started and every block requested.
  bool all_requested = true;
  for (int i = 0; i < num_pieces_ && all_requested; ++i) {
    if (!have_[i] && !partial_.count(i)) all_requested = false;
  }
  if (all_requested) {
    for (auto& [idx, part] : partial_) {
      for (auto s : part.state) {
        if (s == BlockState::none) all_requested = false;
      }
    }
  }
  endgame_ = all_requested;
  if (endgame_ && out.empty()) {
    for (auto& [idx, part] : partial_) {
      if (budget <= 0) break;
      if (!peer_has_piece(idx)) continue;
      pick_from_partial(PieceIndex(idx), part, budget, out, true, exclude);
    }
  }
  return out;
}

void PiecePicker::abort_request(const BlockRef& b) {
  auto it = partial_.find(b.piece.get());
  if (it == partial_.end()) return;
  std::size_t i = std::size_t(b.offset / kBlockSize);
  if (i >= it->second.state.size()) return;
  auto& part = it->second;
  if (part.state[i] != BlockState::requested) return;
  if (part.requesters[i] > 0) --part.requesters[i];
  if (part.requesters[i] == 0) part.state[i] = BlockState::none;
}

bool PiecePicker::mark_received(const BlockRef& b) {
  if (have_[b.piece.get()]) return false;
  // Only a block somebody was asked for is taken: unasked data is never part of a piece.
  auto it = partial_.find(b.piece.get());
  if (it == partial_.end()) return false;
  auto& part = it->second;
  std::size_t i = std::size_t(b.offset / kBlockSize);
  if (i >= part.state.size()) return false;
  if (part.state[i] != BlockState::requested) return false;
  part.state[i] = BlockState::received;
  part.requesters[i] = 0;
  ++part.received;
  return true;
}

bool PiecePicker::piece_complete(PieceIndex p) const {
  auto it = partial_.find(p.get());
  return it != partial_.end() && it->second.received == int(it->second.state.size());
}

void PiecePicker::piece_passed(PieceIndex p) {
  set_have(p);
}

void PiecePicker::piece_failed(PieceIndex p) {
  auto it = partial_.find(p.get());
  if (it == partial_.end()) return;
  std::fill(it->second.state.begin(), it->second.state.end(), BlockState::none);
  std::fill(it->second.requesters.begin(), it->second.requesters.end(), 0);
  it->second.received = 0;
  endgame_ = false;
}

int PiecePicker::requesters(const BlockRef& b) const {
  auto it = partial_.find(b.piece.get());
  if (it == partial_.end()) return 0;
  std::size_t i = std::size_t(b.offset / kBlockSize);
  if (i >= it->second.state.size()) return 0;
  return it->second.requesters[i];
}

}  // namespace p2p
