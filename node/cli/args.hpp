#pragma once
// A small command-line reader: positionals plus "--name value" and "--flag" options.
// Repeated options keep every value in order.
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
  // flags: options that take no value (e.g. "wait", "private").
  Args(int argc, char** argv, int first, const std::set<std::string>& flags);

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
