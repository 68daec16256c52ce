#pragma once
// While a torrent is bought and still downloading, its upload is held to a small rate: what
// the payer got first would otherwise go on to the free peers faster than the seller's limit
// lets it go to them, and they would finish almost as soon. The user's own limit for the
// torrent is kept and comes back once the cap is lifted.
#include <cstdint>
#include <optional>

namespace bttnode::pay {

class UploadCap {
 public:
  // `cap_kib`: KiB/s while buying; 0 or less: not held (0 is "no limit", as for the engine's
  // rate limits).
  explicit UploadCap(std::int64_t cap_kib) : cap_kib_(cap_kib) {}

  // The torrent's upload limit to apply (bytes/s, 0: none), given the limit it has now. A
  // limit other than the one we applied was set by the user: it is theirs from then on.
  std::int64_t next(std::int64_t current, bool buying, bool downloading);

  std::int64_t user_limit() const { return user_; }
  bool capped() const { return capped_; }

 private:
  std::int64_t cap_kib_;
  std::int64_t user_ = 0;
  std::optional<std::int64_t> applied_;
  bool capped_ = false;
};

}  // namespace bttnode::pay
