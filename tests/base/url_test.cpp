#include "base/url.hpp"

#include <gtest/gtest.h>

namespace {

TEST(Url, SplitsEveryPart) {
  auto u = base::Url::parse("HTTP://User:Pw@Tracker.Example:8080/a/b%20c?x=1&y=2#top");
  EXPECT_EQ(u.scheme, "http");
  EXPECT_TRUE(u.has_userinfo);
  EXPECT_EQ(u.userinfo, "User:Pw");
  EXPECT_EQ(u.host, "tracker.example");
  EXPECT_EQ(u.port, 8080);
  EXPECT_TRUE(u.port_given);
  EXPECT_EQ(u.path, "/a/b%20c");
  EXPECT_TRUE(u.has_query);
  EXPECT_EQ(u.query, "x=1&y=2");
  EXPECT_TRUE(u.has_fragment);
  EXPECT_EQ(u.fragment, "top");
  EXPECT_EQ(u.target(), "/a/b%20c?x=1&y=2");
  EXPECT_EQ(u.authority(), "tracker.example:8080");
  EXPECT_EQ(u.origin(), "http://tracker.example:8080");
  EXPECT_FALSE(u.host_is_ip());
}

TEST(Url, DefaultsPortsAndTarget) {
  auto u = base::Url::parse("https://host");
  EXPECT_EQ(u.port, 443);
  EXPECT_FALSE(u.port_given);
  EXPECT_EQ(u.target(), "/");
  EXPECT_EQ(u.authority(), "host");
  auto q = base::Url::parse("http://host?info=1");
  EXPECT_EQ(q.path, "");
  EXPECT_EQ(q.target(), "/?info=1");
  auto udp = base::Url::parse("udp://tracker.example/announce");
  EXPECT_EQ(udp.port, 0);
  EXPECT_EQ(base::Url::parse("http://h:80/").authority(), "h");
}

TEST(Url, Ipv6HostsInBrackets) {
  auto u = base::Url::parse("udp://[2001:DB8::1]:6969/announce");
  EXPECT_EQ(u.host, "2001:db8::1");
  EXPECT_TRUE(u.host_is_ipv6());
  EXPECT_TRUE(u.host_is_ip());
  EXPECT_EQ(u.port, 6969);
  EXPECT_EQ(u.host_text(), "[2001:db8::1]");
  EXPECT_EQ(u.origin(), "udp://[2001:db8::1]:6969");
  EXPECT_EQ(base::Url::parse("http://[::1]/").authority(), "[::1]");
  EXPECT_TRUE(base::Url::parse("http://10.0.0.1:1").host_is_ip());
}

TEST(Url, RefusesWithTheReason) {
  struct Case {
    const char* text;
    const char* why;
  };
  for (const Case& c : {Case{"", "expected scheme://host"},
                        Case{"host:80", "expected scheme://host"},
                        Case{"://host", "invalid scheme"},
                        Case{"1http://host", "invalid scheme"},
                        Case{"ht_tp://host", "invalid scheme"},
                        Case{"http://", "missing host"},
                        Case{"http://:80", "missing host"},
                        Case{"http://u@", "missing host"},
                        Case{"http://host:", "empty port"},
                        Case{"http://host:0", "port out of range"},
                        Case{"http://host:65536", "port out of range"},
                        Case{"http://host:123456", "port out of range"},
                        Case{"http://host:8x", "port is not a number"},
                        Case{"http://[::1", "unclosed [ in IPv6 host"},
                        Case{"http://[zz]:80", "not an IPv6 address inside [ ]"},
                        Case{"http://[1.2.3.4]", "not an IPv6 address inside [ ]"},
                        Case{"http://[::1]x", "unexpected text after ]"},
                        Case{"http://ho%st/", "invalid character in host"},
                        Case{"http://h:1:2/", "port is not a number"},
                        Case{"http://ho st/", "spaces and control characters are not allowed"},
                        Case{"http://host/\n", "spaces and control characters are not allowed"}}) {
    try {
      base::Url::parse(c.text);
      ADD_FAILURE() << "accepted " << c.text;
    } catch (const base::UrlError& e) {
      EXPECT_EQ(e.why(), c.why) << c.text;
      EXPECT_NE(std::string(e.what()).find(c.text), std::string::npos);
    }
  }
}

TEST(Url, ResolvesRedirectLocations) {
  auto from = base::Url::parse("http://t.example:8000/announce?a=1");
  auto same = from.resolve("/other?b=2");
  EXPECT_EQ(same.host, "t.example");
  EXPECT_EQ(same.port, 8000);
  EXPECT_EQ(same.target(), "/other?b=2");
  auto other = from.resolve("https://x.example/y");
  EXPECT_EQ(other.scheme, "https");
  EXPECT_EQ(other.host, "x.example");
  EXPECT_EQ(other.port, 443);
  EXPECT_THROW(from.resolve("relative/path"), base::UrlError);
  EXPECT_THROW(from.resolve("//evil.example/"), base::UrlError);
  EXPECT_THROW(from.resolve(""), base::UrlError);
}

}  // namespace
