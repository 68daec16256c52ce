#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <random>
#include <vector>

#include "p2p/transport/utp_connection.hpp"
#include "p2p/transport/utp_packet.hpp"

namespace {

namespace utp = p2p::utp;
using Bytes = std::vector<std::uint8_t>;

TEST(UtpPacket, HeaderRoundTripsWithSack) {
  utp::Header h;
  h.type = utp::Type::state;
  h.conn_id = 0xbeef;
  h.timestamp = 0x01020304;
  h.timestamp_diff = 0xa0b0c0d0;
  h.wnd = 123456;
  h.seq = 65535;
  h.ack = 7;
  std::uint8_t mask[5] = {0x81, 0, 0, 0, 0x01};
  std::uint8_t buf[64];
  std::size_t n = utp::write_header(h, mask, buf);
  EXPECT_EQ(n, 20u + 2 + 8);  // rounded up to a multiple of 4
  auto p = utp::parse({buf, n});
  ASSERT_TRUE(p);
  EXPECT_EQ(p->h.type, utp::Type::state);
  EXPECT_EQ(p->h.conn_id, 0xbeef);
  EXPECT_EQ(p->h.timestamp, 0x01020304u);
  EXPECT_EQ(p->h.timestamp_diff, 0xa0b0c0d0u);
  EXPECT_EQ(p->h.wnd, 123456u);
  EXPECT_EQ(p->h.seq, 65535);
  EXPECT_EQ(p->h.ack, 7);
  EXPECT_TRUE(p->sacked(0));
  EXPECT_FALSE(p->sacked(1));
  EXPECT_TRUE(p->sacked(7));
  EXPECT_TRUE(p->sacked(32));
  EXPECT_FALSE(p->sacked(33));
  EXPECT_FALSE(p->sacked(300));
  EXPECT_TRUE(p->payload.empty());
}

TEST(UtpPacket, RefusesMalformed) {
  utp::Header h;
  std::uint8_t buf[64];
  std::size_t n = utp::write_header(h, {}, buf);
  EXPECT_TRUE(utp::parse({buf, n}));
  EXPECT_FALSE(utp::parse({buf, n - 1}));  // short
  Bytes v(buf, buf + n);
  v[0] = 0x02;  // version 2
  EXPECT_FALSE(utp::parse(v));
  v[0] = 0x51;  // type 5
  EXPECT_FALSE(utp::parse(v));
  v[0] = 0x01;
  v[1] = 1;  // a sack extension with no bytes after the header
  EXPECT_FALSE(utp::parse(v));
  v.push_back(0);
  v.push_back(200);  // longer than the datagram
  EXPECT_FALSE(utp::parse(v));
  v.back() = 0;  // empty sack
  EXPECT_FALSE(utp::parse(v));
  v.back() = 2;
  v.push_back(0xff);
  v.push_back(0xff);
  v.push_back('x');
  auto p = utp::parse(v);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->sack_len, 2u);
  ASSERT_EQ(p->payload.size(), 1u);
  EXPECT_EQ(p->payload[0], 'x');
  // An unknown extension is skipped; a chain that runs past the end is refused.
  Bytes u(buf, buf + n);
  u[1] = 9;
  u.insert(u.end(), {2, 1, 0xaa});
  EXPECT_FALSE(utp::parse(u));
  u[n] = 0;
  EXPECT_TRUE(utp::parse(u));
}

TEST(UtpPacket, SequenceNumbersWrap) {
  EXPECT_TRUE(utp::seq_less(65535, 0));
  EXPECT_TRUE(utp::seq_less(65000, 100));
  EXPECT_FALSE(utp::seq_less(100, 65000));
  EXPECT_FALSE(utp::seq_less(5, 5));
}

// Two connections over a simulated link in virtual time: a fixed one-way delay, an optional
// bottleneck (bytes per second, so a queue builds), random loss, duplication and reordering.
struct Link {
  std::uint64_t delay_us = 5000;
  double rate = 0;  // bytes/s, 0: unlimited
  double loss = 0, dup = 0, reorder = 0;
  std::mt19937 rng{7};
  struct Flight {
    std::uint64_t at;
    int to;
    Bytes data;
  };
  std::multimap<std::uint64_t, Flight> air;
  std::uint64_t busy_until[2] = {0, 0};
  std::uint64_t max_queue_us = 0;
  std::uint64_t now = 1000000;
  std::uint64_t sent_bytes[2] = {0, 0};

  double roll() { return std::uniform_real_distribution<double>(0, 1)(rng); }
  void send(int to, std::span<const std::uint8_t> d) {
    sent_bytes[to] += d.size();
    if (roll() < loss) return;
    std::uint64_t depart = now;
    if (rate > 0) {
      std::uint64_t start = std::max(now, busy_until[to]);
      max_queue_us = std::max(max_queue_us, start - now);
      busy_until[to] = start + std::uint64_t(double(d.size()) * 1e6 / rate);
      depart = busy_until[to];
    }
    std::uint64_t at = depart + delay_us;
    if (roll() < reorder) at += std::uniform_int_distribution<std::uint64_t>(0, 3 * delay_us)(rng);
    air.emplace(at, Flight{at, to, Bytes(d.begin(), d.end())});
    if (roll() < dup) air.emplace(at + 100, Flight{at + 100, to, Bytes(d.begin(), d.end())});
  }
};

struct Pair {
  Link link;
  utp::Config cfg;
  std::unique_ptr<utp::Connection> c[2];
  Bytes got[2];
  std::uint64_t next_tick = 0;

  explicit Pair(utp::Config config = {}) : cfg(config) {}
  void make(std::uint16_t first_seq_a = 1, std::uint16_t first_seq_b = 30000) {
    c[0] = std::make_unique<utp::Connection>(cfg, [this](auto d) { link.send(1, d); });
    c[0]->connect(1000, first_seq_a, link.now);
    accept_seq = first_seq_b;
  }
  std::uint16_t accept_seq = 0;
  void deliver(const Link::Flight& f) {
    auto p = utp::parse(f.data);
    ASSERT_TRUE(p);
    if (f.to == 1 && !c[1]) {
      if (p->h.type != utp::Type::syn) return;
      c[1] = std::make_unique<utp::Connection>(cfg, [this](auto d) { link.send(0, d); });
      c[1]->accept(*p, accept_seq, link.now);
      return;
    }
    if (!c[f.to]) return;
    std::uint16_t want =
        f.to == 1 && p->h.type == utp::Type::syn ? c[1]->recv_id() - 1 : c[f.to]->recv_id();
    EXPECT_EQ(p->h.conn_id, want);
    c[f.to]->on_packet(*p, link.now);
  }
  // Runs until done() or the virtual deadline; readers drain both sides as they go.
  template <class Done>
  bool run(Done done, std::uint64_t limit_us = 120000000) {
    std::uint64_t end = link.now + limit_us;
    while (link.now < end) {
      if (done()) return true;
      std::uint64_t t = next_tick;
      if (!link.air.empty()) t = std::min(t, link.air.begin()->first);
      link.now = std::max(link.now, t);
      if (!link.air.empty() && link.air.begin()->first <= link.now) {
        auto f = std::move(link.air.begin()->second);
        link.air.erase(link.air.begin());
        deliver(f);
        // A batch ends when nothing else arrives at this instant.
        if (link.air.empty() || link.air.begin()->first > link.now)
          for (auto& x : c)
            if (x) x->flush_ack(link.now);
      }
      if (link.now >= next_tick) {
        for (auto& x : c)
          if (x) x->tick(link.now);
        next_tick = link.now + 10000;
      }
      for (int i = 0; i < 2; ++i) {
        if (!c[i]) continue;
        std::uint8_t buf[65536];
        while (std::size_t n = c[i]->read(buf, link.now)) got[i].insert(got[i].end(), buf, buf + n);
      }
      if (pump) pump();
    }
    return done();
  }
  std::function<void()> pump;
};

Bytes pattern(std::size_t n) {
  Bytes b(n);
  std::uint32_t x = 12345;
  for (auto& v : b) {
    x = x * 1103515245 + 12345;
    v = std::uint8_t(x >> 16);
  }
  return b;
}

// Sends `data` from side 0 to side 1 (and `back` the other way), then both close; checks
// every byte arrived in order and both ends saw the FIN.
void transfer(Pair& p, const Bytes& data, const Bytes& back = {}) {
  std::size_t sent[2] = {0, 0};
  const Bytes* src[2] = {&data, &back};
  p.pump = [&] {
    for (int i = 0; i < 2; ++i) {
      auto& c = p.c[i];
      if (!c || c->state() != utp::State::connected) continue;
      if (sent[i] < src[i]->size())
        sent[i] += c->write({src[i]->data() + sent[i], src[i]->size() - sent[i]}, p.link.now);
      if (sent[i] == src[i]->size()) c->shutdown(p.link.now);
    }
  };
  bool ok = p.run([&] {
    return p.c[0] && p.c[1] && p.c[0]->eof() && p.c[1]->eof() && p.c[0]->finished() &&
           p.c[1]->finished();
  });
  ASSERT_TRUE(ok) << "got " << p.got[1].size() << " of " << data.size() << ", back "
                  << p.got[0].size() << " of " << back.size();
  EXPECT_EQ(p.c[0]->error(), utp::Error::none);
  EXPECT_EQ(p.c[1]->error(), utp::Error::none);
  EXPECT_TRUE(p.got[1] == data);
  EXPECT_TRUE(p.got[0] == back);
}

TEST(UtpConnection, TransfersBothWaysOnACleanLink) {
  Pair p;
  p.make();
  transfer(p, pattern(3 << 20), pattern(100000));
  EXPECT_EQ(p.c[0]->retransmits(), 0u);
  EXPECT_GT(p.c[0]->rtt_us(), 9000u);  // the 10 ms round trip
  EXPECT_LT(p.c[0]->rtt_us(), 20000u);
  EXPECT_EQ(p.c[0]->send_id(), 1001);
  EXPECT_EQ(p.c[1]->recv_id(), 1001);
  EXPECT_EQ(p.c[1]->send_id(), 1000);
}

TEST(UtpConnection, SequenceNumbersWrapDuringATransfer) {
  Pair p;
  p.make(65000, 65530);
  transfer(p, pattern(4 << 20), pattern(300000));  // ~3000 packets: past 65535 both ways
}

TEST(UtpConnection, RecoversFromLoss) {
  Pair p;
  p.link.loss = 0.05;
  p.make();
  transfer(p, pattern(1 << 20), pattern(50000));
  EXPECT_GT(p.c[0]->retransmits(), 0u);
}

TEST(UtpConnection, RecoversFromReorderingAndDuplicates) {
  Pair p;
  p.link.reorder = 0.2;
  p.link.dup = 0.1;
  p.make();
  transfer(p, pattern(1 << 20), pattern(50000));
}

TEST(UtpConnection, SurvivesHeavyLossWithWrap) {
  Pair p;
  p.link.loss = 0.2;
  p.link.reorder = 0.1;
  p.link.dup = 0.05;
  p.make(65500, 65535);
  transfer(p, pattern(300000), pattern(30000));
}

TEST(UtpConnection, ThreeDuplicateAcksResendBeforeTheTimeout) {
  Pair p;
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  // Drop exactly the first data packet: the rest arrive, acks (with selective acks) come
  // back and the hole is filled well before the 1 s timeout.
  Bytes data = pattern(20 * 1380);
  p.link.loss = 0;
  std::uint64_t start = p.link.now;
  std::size_t sent = 0;
  p.link.rng.seed(1);
  bool first = true;
  p.pump = [&] {
    if (sent < data.size()) {
      if (first) {
        p.link.loss = 1.0;  // the next datagram is lost
        sent += p.c[0]->write({data.data(), 1380}, p.link.now);
        p.link.loss = 0;
        first = false;
      }
      sent += p.c[0]->write({data.data() + sent, data.size() - sent}, p.link.now);
    }
  };
  ASSERT_TRUE(p.run([&] { return p.got[1].size() == data.size(); }, 5000000));
  EXPECT_TRUE(p.got[1] == data);
  EXPECT_LT(p.link.now - start, 200000u);  // far under the RTO
  EXPECT_GE(p.c[0]->retransmits(), 1u);
}

TEST(UtpConnection, SynWithoutAnswerTimesOutWithBackoff) {
  Pair p;
  p.link.loss = 1.0;
  p.make();
  std::uint64_t start = p.link.now;
  ASSERT_TRUE(p.run([&] { return p.c[0]->state() == utp::State::closed; }));
  EXPECT_EQ(p.c[0]->error(), utp::Error::timed_out);
  // 1 s, then 2 s, then 4 s: three SYNs, given up after about 7 s.
  EXPECT_GE(p.link.now - start, 7000000u);
  EXPECT_LT(p.link.now - start, 7100000u);
  EXPECT_EQ(p.c[0]->packets_sent(), 3u);
}

TEST(UtpConnection, ResetAnswerRefusesTheConnection) {
  Pair p;
  p.make();
  utp::Header h;
  h.type = utp::Type::reset;
  h.conn_id = 1000;
  std::uint8_t buf[64];
  auto pk = utp::parse({buf, utp::write_header(h, {}, buf)});
  p.c[0]->on_packet(*pk, p.link.now);
  EXPECT_EQ(p.c[0]->state(), utp::State::closed);
  EXPECT_EQ(p.c[0]->error(), utp::Error::refused);
}

TEST(UtpConnection, DeadPeerTimesOutAfterBackedOffRetries) {
  Pair p;
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  p.c[1].reset();  // the peer vanishes
  Bytes data = pattern(10000);
  p.c[0]->write(data, p.link.now);
  ASSERT_TRUE(p.run([&] { return p.c[0]->state() == utp::State::closed; }, 300000000));
  EXPECT_EQ(p.c[0]->error(), utp::Error::timed_out);
}

TEST(UtpConnection, SilentPeerIsClosedAfterTheIdleTimeout) {
  Pair p;
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  std::uint64_t start = p.link.now;
  p.link.loss = 1.0;  // nothing more arrives, not even our keep-alives
  ASSERT_TRUE(p.run([&] { return p.c[0]->state() == utp::State::closed; }, 120000000));
  EXPECT_EQ(p.c[0]->error(), utp::Error::idle_timeout);
  EXPECT_GE(p.link.now - start, 60000000u - p.link.delay_us);
  EXPECT_LT(p.link.now - start, 60100000u);
}

TEST(UtpConnection, IdlePairStaysOpenPastTheIdleTimeout) {
  Pair p;
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  std::uint64_t sent = p.c[0]->packets_sent();
  p.run([] { return false; }, 200000000);
  EXPECT_EQ(p.c[0]->state(), utp::State::connected);
  EXPECT_EQ(p.c[1]->state(), utp::State::connected);
  // A keep-alive about every 25 s of silence.
  EXPECT_GE(p.c[0]->packets_sent() - sent, 7u);
  EXPECT_LE(p.c[0]->packets_sent() - sent, 9u);
  // And the pair still carries data.
  transfer(p, pattern(5000), pattern(3000));
}

TEST(UtpConnection, WithoutKeepAlivesAnIdlePairIsCut) {
  utp::Config cfg;
  cfg.keepalive_us = 0;
  Pair p(cfg);
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  ASSERT_TRUE(p.run([&] { return p.c[0]->state() == utp::State::closed; }, 120000000));
  EXPECT_EQ(p.c[0]->error(), utp::Error::idle_timeout);
}

TEST(UtpConnection, ReceiveWindowBoundsBufferedBytes) {
  utp::Config cfg;
  cfg.recv_buffer = 64 * 1024;
  Pair p(cfg);
  p.make();
  ASSERT_TRUE(p.run([&] { return p.c[1] && p.c[0]->state() == utp::State::connected; }));
  Bytes data = pattern(1 << 20);
  std::size_t sent = 0;
  p.pump = [&] {
    if (sent < data.size())
      sent += p.c[0]->write({data.data() + sent, data.size() - sent}, p.link.now);
  };
  // Nobody reads side 1: run the link a while by hand (run() would read).
  p.pump();
  for (int i = 0; i < 20000 && (!p.link.air.empty()); ++i) {
    auto it = p.link.air.begin();
    p.link.now = std::max(p.link.now, it->first);
    auto f = std::move(it->second);
    p.link.air.erase(it);
    if (f.to == 1)
      p.c[1]->on_packet(*utp::parse(f.data), p.link.now);
    else
      p.c[0]->on_packet(*utp::parse(f.data), p.link.now);
    p.c[1]->flush_ack(p.link.now);
    p.pump();
  }
  EXPECT_LE(p.c[1]->readable(), cfg.recv_buffer + cfg.max_payload);
  EXPECT_GE(p.c[1]->readable(), cfg.recv_buffer - 2 * cfg.max_payload);
  EXPECT_EQ(p.c[0]->state(), utp::State::connected);
  // Reading reopens the window and the rest flows.
  ASSERT_TRUE(p.run([&] { return p.got[1].size() == data.size(); }, 10000000));
  EXPECT_TRUE(p.got[1] == data);
}

TEST(UtpConnection, LedbatKeepsTheBottleneckQueueNearTarget) {
  utp::Config cfg;
  cfg.send_buffer = 4 << 20;
  Pair p(cfg);
  p.link.rate = 2e6;  // 2 MB/s bottleneck, 5 ms each way
  p.make();
  Bytes data = pattern(20 << 20);
  std::size_t sent = 0;
  std::uint64_t max_queue_late = 0;
  std::uint64_t start = p.link.now;
  p.pump = [&] {
    if (p.c[0]->state() == utp::State::connected && sent < data.size())
      sent += p.c[0]->write({data.data() + sent, data.size() - sent}, p.link.now);
    if (p.link.now - start > 5000000) {
      std::uint64_t q = p.link.busy_until[1] > p.link.now ? p.link.busy_until[1] - p.link.now : 0;
      max_queue_late = std::max(max_queue_late, q);
    }
  };
  ASSERT_TRUE(p.run([&] { return p.link.now - start > 10000000; }, 11000000));
  // Near the bottleneck rate, with the queue held around the 100 ms target.
  double rate = double(p.got[1].size()) / 10.0;
  EXPECT_GT(rate, 1.6e6);
  EXPECT_LT(max_queue_late, 200000u);
  EXPECT_GT(max_queue_late, 20000u);
  EXPECT_GE(p.c[0]->cwnd(), cfg.max_payload);
}

}  // namespace
