#pragma once
// BEP 9 (ut_metadata): the info dictionary is sent in 16 KiB pieces over extension
// messages. This file holds the message codec and the assembler a magnet download uses;
// no sockets.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "p2p/wire/core_types.hpp"

namespace p2p::metadata {

inline constexpr std::int64_t kPieceSize = 16 * 1024;
inline constexpr std::int64_t kMaxMetadataSize = 32 * 1024 * 1024;

enum class MsgType : int { request = 0, data = 1, reject = 2 };

struct Message {
  MsgType type = MsgType::request;
  std::int64_t piece = 0;
  std::int64_t total_size = 0;  // data messages
  std::string data;             // data messages: the bytes after the dictionary
};

// nullopt on a malformed message.
std::optional<Message> parse(std::string_view body);
std::string encode_request(std::int64_t piece);
std::string encode_reject(std::int64_t piece);
std::string encode_data(std::int64_t piece, std::int64_t total_size, std::string_view data);

// The bytes of piece `piece` of the info dictionary, empty if out of range.
std::string_view slice(std::string_view info_bytes, std::int64_t piece);

// Collects metadata pieces from peers and checks them against the info-hash.
class Assembler {
 public:
  explicit Assembler(const InfoHash& ih) : info_hash_(ih) {}
  bool has_size() const { return size_ > 0; }
  // From a peer's "metadata_size"; false when absurd or different from an earlier peer's.
  bool set_size(std::int64_t size);
  // The next piece to ask for (not received, not asked within `retry`), marking it asked.
  std::optional<std::int64_t> next_request(std::chrono::steady_clock::time_point now,
                                           std::chrono::seconds retry = std::chrono::seconds(10));
  void on_reject(std::int64_t piece);
  // Stores a data piece. Returns true when every piece is in.
  bool on_data(std::int64_t piece, std::int64_t total_size, std::string_view data);
  // When complete: the info bytes if their SHA-1 is the info-hash; otherwise resets (the
  // pieces are fetched again) and returns nullopt.
  std::optional<std::string> finish();

 private:
  InfoHash info_hash_;
  std::int64_t size_ = 0;
  std::string buf_;
  std::vector<bool> got_;
  std::vector<std::chrono::steady_clock::time_point> asked_;
};

}  // namespace p2p::metadata
