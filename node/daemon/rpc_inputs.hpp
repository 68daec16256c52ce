#pragma once
// What torrent-add is handed besides a path: base64 metainfo and .torrent URLs.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bttnode::daemon {

// Standard base64 (RFC 4648), padding optional, whitespace and line breaks skipped (some
// clients wrap it). nullopt for any other character.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

// GETs a .torrent over http(s), following up to 5 redirects, within `timeout` for each
// request and `limit` bytes. Throws RpcError saying why it failed.
std::string fetch_torrent(const std::string& url, std::chrono::milliseconds timeout,
                          std::uint64_t limit);

}  // namespace bttnode::daemon
