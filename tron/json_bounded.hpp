#pragma once
// JSON from outside (a full node's answers, files, peers) parsed with bounds on size and
// nesting. nlohmann's printing, copying and comparing recurse once per level, so an answer
// nested a million levels deep would overflow the stack after parsing; the depth is checked
// by a flat scan of the text before the parser builds anything.
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tron {

struct JsonLimitError : std::invalid_argument {
  enum class Kind { TooLarge, TooDeep, Invalid };
  Kind kind;
  JsonLimitError(Kind kind, const std::string& message)
      : std::invalid_argument(message), kind(kind) {}
};

constexpr int kDefaultJsonDepth = 64;

// The deepest nesting of arrays and objects in `text` (0 for a scalar), scanning strings
// correctly; stops and returns a value above `stop_at` as soon as the nesting passes it.
int json_depth(std::string_view text, int stop_at);

// Parses `text` as one JSON value. Throws JsonLimitError: TooLarge when it is longer than
// max_bytes, TooDeep when arrays/objects nest deeper than max_depth, Invalid when it is not
// JSON (the message names the byte offset).
nlohmann::json parse_json_bounded(std::string_view text, std::size_t max_bytes,
                                  int max_depth = kDefaultJsonDepth);

}  // namespace tron
