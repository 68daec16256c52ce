// A burst of incoming connections must not overflow the listen queue: the kernel drops SYNs
// beyond it, and such peers wait a second or more to retry.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <vector>

#include "p2p/session/session.hpp"

namespace {

TEST(SessionListen, ABurstOfPeersIsQueuedWhileTheSessionIsBusy) {
  boost::asio::io_context io;
  p2p::SessionSettings settings;
  settings.listen_port = 0;
  settings.listen_ipv6 = false;
  p2p::Session session(io, settings);
  session.listen();
  // io is never run: the session accepts nothing, as when it is busy, so every connection
  // below must wait in the kernel's queue.
  constexpr int kBurst = 300;  // more than the 128 many programs ask for
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(session.listen_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::vector<int> fds;
  for (int i = 0; i < kBurst; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd, 0);
    fds.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);  // EINPROGRESS
  }
  // A queued connection is established at once; a dropped SYN would take a second to retry.
  int established = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(800);
  for (int fd : fds) {
    pollfd p{fd, POLLOUT, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (::poll(&p, 1, int(std::max<std::int64_t>(0, left.count()))) == 1 && (p.revents & POLLOUT)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) ++established;
    }
  }
  for (int fd : fds) ::close(fd);
  EXPECT_EQ(established, kBurst);
}

}  // namespace
