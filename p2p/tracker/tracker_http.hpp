#pragma once
// Pure parts of the HTTP tracker protocol (no sockets): building the announce URL and
// parsing the bencoded reply. Fuzzed.
#include <stdexcept>
#include <string>
#include <string_view>

#include "p2p/tracker/tracker.hpp"

namespace p2p {

class TrackerResponseError : public std::runtime_error {
 public:
  TrackerResponseError(const std::string& what, bool failure_reason)
      : std::runtime_error(what), failure_reason_(failure_reason) {}
  bool is_failure_reason() const { return failure_reason_; }  // tracker said "failure reason"

 private:
  bool failure_reason_;
};

// Percent-encodes bytes for a query string (unreserved characters kept as they are).
std::string url_encode(std::string_view bytes);

// The full GET target: base announce URL plus info_hash, peer_id, port, uploaded, downloaded,
// left, compact=1, event, numwant, key, trackerid. Keeps an existing query of the base URL.
std::string build_http_announce_url(const std::string& announce_url, const AnnounceRequest& req,
                                    const std::string& tracker_id);

// Parses a tracker's bencoded body. Throws TrackerResponseError on "failure reason" or a
// malformed body. Accepts compact (BEP 23) and dictionary peers, and peers6.
AnnounceResponse parse_http_announce_response(std::string_view body);

// The GET target of a scrape for one torrent: the scrape URL plus info_hash.
std::string build_http_scrape_url(const std::string& scrape_url, const InfoHash& info_hash);

// The counts for `info_hash` in a scrape reply (BEP 48). Throws TrackerResponseError on
// "failure reason", a malformed body, or a reply without that torrent.
ScrapeInfo parse_http_scrape_response(std::string_view body, const InfoHash& info_hash);

}  // namespace p2p
