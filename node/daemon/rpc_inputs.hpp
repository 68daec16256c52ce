#pragma once
// What torrent-add is handed besides a path: base64 metainfo and .torrent URLs.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "base/http_client.hpp"

namespace bttnode::daemon {

// Standard base64 (RFC 4648), padding optional, whitespace and line breaks skipped (some
// clients wrap it). nullopt for any other character.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

// GETs a .torrent over http(s) on `io`, following up to 5 redirects, within `timeout` for all
// of it and `limit` bytes, then calls `done` on `io`: with the body, or with the reason it
// failed ("cannot fetch URL: ..."). Dropping the last handle abandons it (done is not called).
class TorrentFetch : public std::enable_shared_from_this<TorrentFetch> {
 public:
  using Done = std::function<void(std::optional<std::string> error, std::string body)>;
  static std::shared_ptr<TorrentFetch> start(boost::asio::io_context& io, const std::string& url,
                                             std::chrono::milliseconds timeout, std::uint64_t limit,
                                             Done done);
  TorrentFetch(boost::asio::io_context& io, std::string url, std::chrono::milliseconds timeout,
               std::uint64_t limit, Done done);
  ~TorrentFetch();
  TorrentFetch(const TorrentFetch&) = delete;
  TorrentFetch& operator=(const TorrentFetch&) = delete;

 private:
  void get(const std::string& url, int hop);
  void finish(std::optional<std::string> error, std::string body = {});

  boost::asio::io_context& io_;
  std::string url_;  // as asked, for the messages
  std::chrono::steady_clock::time_point deadline_;
  std::uint64_t limit_;
  Done done_;
  std::unique_ptr<base::http::Client> client_;
};

}  // namespace bttnode::daemon
