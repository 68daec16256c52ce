#pragma once
// The dashboard's static files (web/ in the source tree), compiled into the binary.
#include <cstddef>
#include <string_view>
#include <vector>

namespace bttnode::daemon {

struct WebAsset {
  const char* path;  // relative to web/, e.g. "app.js"
  const unsigned char* data;
  std::size_t size;
  std::string_view bytes() const { return {reinterpret_cast<const char*>(data), size}; }
};

extern const std::vector<WebAsset> kWebAssets;

}  // namespace bttnode::daemon
