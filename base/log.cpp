#include "base/log.hpp"

#include <map>
#include <mutex>
#include <stdexcept>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

namespace base::log {
namespace {

struct Registry {
  std::mutex mu;
  spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::level::level_enum default_level = spdlog::level::warn;
  std::map<std::string, spdlog::level::level_enum, std::less<>> levels;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

Registry& registry() {
  static Registry r;
  return r;
}

spdlog::level::level_enum parse_level(std::string_view name) {
  auto level = spdlog::level::from_str(std::string(name));
  // from_str answers "off" for anything it does not know.
  if (level == spdlog::level::off && name != "off")
    throw std::invalid_argument("log: unknown level '" + std::string(name) +
                                "' (trace, debug, info, warn, error, critical, off)");
  return level;
}

}  // namespace

std::shared_ptr<spdlog::logger> get(std::string_view category) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.loggers.find(category); it != r.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(std::string(category), r.sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l [%n] %v");
  auto lv = r.levels.find(category);
  logger->set_level(lv != r.levels.end() ? lv->second : r.default_level);
  r.loggers.emplace(std::string(category), logger);
  return logger;
}

void configure(std::string_view spec) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  auto default_level = r.default_level;
  std::map<std::string, spdlog::level::level_enum, std::less<>> levels;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    auto item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos) {
      default_level = parse_level(item);
    } else {
      if (eq == 0) throw std::invalid_argument("log: a category name is missing before '='");
      levels[std::string(item.substr(0, eq))] = parse_level(item.substr(eq + 1));
    }
  }
  r.default_level = default_level;
  r.levels = std::move(levels);
  for (auto& [name, logger] : r.loggers) {
    auto it = r.levels.find(name);
    logger->set_level(it != r.levels.end() ? it->second : r.default_level);
  }
}

void set_log_file(const std::string& path) {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  for (auto& [name, logger] : r.loggers) {
    logger->sinks().clear();
    logger->sinks().push_back(r.sink);
  }
}

}  // namespace base::log
