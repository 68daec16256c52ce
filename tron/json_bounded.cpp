#include "tron/json_bounded.hpp"

namespace tron {

int json_depth(std::string_view text, int stop_at) {
  int depth = 0;
  int deepest = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '[':
      case '{':
        if (++depth > deepest) {
          deepest = depth;
          if (deepest > stop_at) return deepest;
        }
        break;
      case ']':
      case '}':
        // Unbalanced closers are the parser's to report; they never deepen anything.
        if (depth > 0) --depth;
        break;
      default:
        break;
    }
  }
  return deepest;
}

nlohmann::json parse_json_bounded(std::string_view text, std::size_t max_bytes, int max_depth) {
  using Kind = JsonLimitError::Kind;
  if (text.size() > max_bytes) {
    throw JsonLimitError(Kind::TooLarge, "JSON of " + std::to_string(text.size()) +
                                             " bytes is over the limit of " +
                                             std::to_string(max_bytes) + " bytes");
  }
  if (json_depth(text, max_depth) > max_depth) {
    throw JsonLimitError(Kind::TooDeep,
                         "JSON nests deeper than " + std::to_string(max_depth) + " levels");
  }
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // e.what() is nlohmann's "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw JsonLimitError(Kind::Invalid, "not JSON: " + what);
  }
}

}  // namespace tron
