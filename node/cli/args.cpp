#include "node/cli/args.hpp"

namespace bttnode {

Args Args::from_words(const std::vector<std::string>& words, const std::set<std::string>& flags) {
  Args a;
  for (std::size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.size() > 2 && w.starts_with("--")) {
      std::string name = w.substr(2);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        a.options_.emplace(name.substr(0, eq), name.substr(eq + 1));
      } else if (flags.count(name) || i + 1 >= words.size()) {
        a.options_.emplace(name, "");
      } else {
        a.options_.emplace(name, words[++i]);
      }
    } else {
      a.positionals_.push_back(w);
    }
  }
  return a;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = options_.find(name);
  if (it == options_.end()) return std::nullopt;
  return it->second;
}

std::string Args::require(const std::string& name) const {
  auto value = get(name);
  if (!value) throw UsageError("missing --" + name);
  return *value;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto [begin, end] = options_.equal_range(name);
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

void Args::allow_only(const std::set<std::string>& known) const {
  for (const auto& [name, value] : options_) {
    if (!known.count(name)) throw UsageError("unknown option --" + name);
  }
}

}  // namespace bttnode
