#pragma once
// The options a command was given, as the command line parser (node/cli/cli.cpp, CLI11) read
// them: positionals plus named options, repeated ones keeping every value in order.
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace bttnode {

// A usage error: printed with the command's usage, exit code 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Args {
 public:
  Args() = default;
  Args(std::vector<std::string> positionals, std::multimap<std::string, std::string> options)
      : positionals_(std::move(positionals)), options_(std::move(options)) {}
  // For tests: "--name value", "--name=value" and the flags named in `flags`.
  static Args from_words(const std::vector<std::string>& words,
                         const std::set<std::string>& flags = {});

  const std::vector<std::string>& positionals() const { return positionals_; }
  bool has(const std::string& name) const { return options_.count(name) > 0; }
  std::optional<std::string> get(const std::string& name) const;
  std::string require(const std::string& name) const;  // throws UsageError if missing
  std::vector<std::string> all(const std::string& name) const;
  // Throws UsageError naming the first option not in `known`.
  void allow_only(const std::set<std::string>& known) const;

 private:
  std::vector<std::string> positionals_;
  std::multimap<std::string, std::string> options_;
};

}  // namespace bttnode
