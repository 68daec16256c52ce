#include "node/daemon/limits.hpp"

namespace bttnode::daemon {

std::optional<std::string> reached_limit(const TorrentOptions& o, const DaemonConfig& session,
                                         std::int64_t uploaded_ever, std::int64_t total_size,
                                         std::chrono::seconds idle_for) {
  std::optional<double> ratio;
  if (o.ratio_mode == LimitMode::Global) ratio = session.ratio_limit;
  if (o.ratio_mode == LimitMode::Single) ratio = o.ratio_limit;
  if (ratio && total_size > 0 && double(uploaded_ever) >= *ratio * double(total_size)) {
    return "ratio limit";
  }
  std::optional<std::chrono::minutes> idle;
  if (o.idle_mode == LimitMode::Global) idle = session.idle_seeding_limit;
  if (o.idle_mode == LimitMode::Single) idle = o.idle_limit;
  if (idle && idle_for >= *idle) return "idle seeding limit";
  return std::nullopt;
}

}  // namespace bttnode::daemon
