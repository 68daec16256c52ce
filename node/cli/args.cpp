#include "node/cli/args.hpp"

namespace bttnode {

Args::Args(int argc, char** argv, int first, const std::set<std::string>& flags) {
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 2 && arg.starts_with("--")) {
      std::string name = arg.substr(2);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        options_.emplace(name.substr(0, eq), name.substr(eq + 1));
      } else if (flags.count(name)) {
        options_.emplace(name, "");
      } else {
        if (i + 1 >= argc) throw UsageError("option --" + name + " needs a value");
        options_.emplace(name, argv[++i]);
      }
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      // Short options used by create-torrent: -o OUT, -t URL.
      std::string name(1, arg[1]);
      if (i + 1 >= argc) throw UsageError("option " + arg + " needs a value");
      options_.emplace(name, argv[++i]);
    } else {
      positionals_.push_back(arg);
    }
  }
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
