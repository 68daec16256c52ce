#include "node/pay/upload_cap.hpp"

#include <algorithm>

namespace bttnode::pay {

std::int64_t UploadCap::next(std::int64_t current, bool buying, bool downloading) {
  if (!applied_ || current != *applied_) user_ = current;
  capped_ = cap_kib_ > 0 && buying && downloading;
  std::int64_t limit = user_;
  if (capped_) {
    const std::int64_t cap = cap_kib_ * 1024;
    limit = user_ > 0 ? std::min(user_, cap) : cap;
  }
  applied_ = limit;
  return limit;
}

}  // namespace bttnode::pay
