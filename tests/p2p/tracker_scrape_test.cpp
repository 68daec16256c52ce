// Scrape URLs (BEP 48) and the scrape replies of HTTP and UDP trackers.
#include <gtest/gtest.h>

#include "p2p/tracker/tracker.hpp"
#include "p2p/tracker/tracker_http.hpp"
#include "p2p/tracker/tracker_udp.hpp"

namespace {

p2p::InfoHash hash_of(std::uint8_t b) {
  p2p::InfoHash h;
  h.fill(b);
  return h;
}

std::string be_str(const std::string& s) {
  return std::to_string(s.size()) + ":" + s;
}

std::string raw(const p2p::InfoHash& h) {
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

}  // namespace

TEST(TrackerScrape, DerivesTheScrapeUrl) {
  using p2p::scrape_url_of;
  EXPECT_EQ(scrape_url_of("http://example.com/announce"), "http://example.com/scrape");
  EXPECT_EQ(scrape_url_of("https://example.com:8443/x/announce"),
            "https://example.com:8443/x/scrape");
  EXPECT_EQ(scrape_url_of("http://example.com/announce.php"), "http://example.com/scrape.php");
  EXPECT_EQ(scrape_url_of("http://example.com/x/announce?passkey=abc/announce"),
            "http://example.com/x/scrape?passkey=abc/announce");
  EXPECT_EQ(scrape_url_of("http://example.com/announce?a=1"), "http://example.com/scrape?a=1");
  EXPECT_EQ(scrape_url_of("udp://tracker.example:1337/announce"),
            "udp://tracker.example:1337/announce");
  // No "announce" at the start of the last segment: no scrape.
  EXPECT_FALSE(scrape_url_of("http://example.com/a"));
  EXPECT_FALSE(scrape_url_of("http://example.com/x/announce/y"));
  EXPECT_FALSE(scrape_url_of("http://example.com/xannounce"));
  EXPECT_FALSE(scrape_url_of("http://announce"));
  EXPECT_FALSE(scrape_url_of("http://example.com"));
  EXPECT_FALSE(scrape_url_of("wss://example.com/announce"));
  EXPECT_FALSE(scrape_url_of(""));
}

TEST(TrackerScrape, BuildsTheHttpTarget) {
  p2p::InfoHash h = hash_of(0x20);
  std::string encoded;
  for (int i = 0; i < 20; ++i) encoded += "%20";
  EXPECT_EQ(p2p::build_http_scrape_url("/scrape", h), "/scrape?info_hash=" + encoded);
  EXPECT_EQ(p2p::build_http_scrape_url("/scrape?k=v", h).substr(0, 21), "/scrape?k=v&info_hash");
}

TEST(TrackerScrape, ParsesHttpReplies) {
  p2p::InfoHash h = hash_of(0x42), other = hash_of(0x43);
  std::string entry = "d8:completei5e10:downloadedi50e10:incompletei10ee";
  std::string body =
      "d5:filesd" + be_str(raw(h)) + entry + be_str(raw(other)) + "d8:completei1ee" + "ee";
  auto info = p2p::parse_http_scrape_response(body, h);
  EXPECT_EQ(info.complete, 5);
  EXPECT_EQ(info.incomplete, 10);
  EXPECT_EQ(info.downloaded, 50);
  auto o = p2p::parse_http_scrape_response(body, other);
  EXPECT_EQ(o.complete, 1);
  EXPECT_EQ(o.incomplete, 0);  // absent counts are zero

  auto fails = [&](const std::string& b, bool failure_reason) {
    try {
      p2p::parse_http_scrape_response(b, h);
      ADD_FAILURE() << "accepted " << b;
    } catch (const p2p::TrackerResponseError& e) {
      EXPECT_EQ(e.is_failure_reason(), failure_reason) << b;
    }
  };
  fails("d14:failure reason6:closede", true);
  fails("d5:filesdee", false);                                              // not listed
  fails("d5:filesd" + be_str(raw(other)) + entry + "ee", false);            // another torrent
  fails("d5:filesd" + be_str(raw(h)) + "d8:complete3:abcee" + "e", false);  // not an integer
  fails("d5:filesd" + be_str(raw(h)) + "d8:completei-1eeee", false);        // negative
  fails("d5:filesd" + be_str(raw(h)) + "i3eee", false);                     // not a dict
  fails("d5:files4:abcde", false);
  fails("le", false);
  fails("", false);
  fails("d5:filesd" + be_str(raw(h)) + entry, false);  // truncated
  fails(std::string(2000, 'l'), false);                // too deep
}

TEST(TrackerScrape, BuildsAndParsesUdpScrapes) {
  namespace u = p2p::udp_tracker;
  p2p::InfoHash h = hash_of(0x07);
  std::string s = u::build_scrape(0x1122334455667788ull, 9, h);
  ASSERT_EQ(s.size(), 36u);
  EXPECT_EQ(s.substr(0, 8), std::string("\x11\x22\x33\x44\x55\x66\x77\x88", 8));
  EXPECT_EQ(s.substr(8, 4), std::string("\0\0\0\x02", 4));
  EXPECT_EQ(s.substr(12, 4), std::string("\0\0\0\x09", 4));
  EXPECT_EQ(s.substr(16), raw(h));

  // seeders 3, completed 70, leechers 4
  auto r = u::parse_reply(std::string("\0\0\0\x02\0\0\0\x09\0\0\0\x03\0\0\0\x46\0\0\0\x04", 20));
  ASSERT_TRUE(r.scrape);
  EXPECT_FALSE(r.malformed);
  EXPECT_EQ(r.transaction_id, 9u);
  EXPECT_EQ(r.scrape->complete, 3);
  EXPECT_EQ(r.scrape->downloaded, 70);
  EXPECT_EQ(r.scrape->incomplete, 4);
  auto short_reply = u::parse_reply(std::string("\0\0\0\x02\0\0\0\x09\0\0\0\x03", 12));
  EXPECT_TRUE(short_reply.malformed);
  EXPECT_FALSE(short_reply.scrape);
}
