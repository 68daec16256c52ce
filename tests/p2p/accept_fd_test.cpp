// Out of file descriptors: the accept loop backs off instead of spinning, turns waiting
// peers away cleanly, and accepts again once descriptors are free. Runs in a child process
// with a low RLIMIT_NOFILE so the test process itself is not starved.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "p2p/session/session.hpp"

namespace {

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

int connect_to(std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the other end closed the socket within `ms`.
bool sees_eof(int fd, int ms) {
  pollfd pf{fd, POLLIN, 0};
  if (::poll(&pf, 1, ms) <= 0) return false;
  char c;
  return ::recv(fd, &c, 1, 0) == 0 || errno == ECONNRESET;
}

struct Report {
  std::uint16_t port = 0;
  double cpu_share = 1;
  std::uint64_t turned_away = 0;
  std::uint64_t accepted_after = 0;
};

// The child: a session listening with only a few descriptors to spare, then none.
[[noreturn]] void child(int to_parent, int from_parent) {
  rlimit rl{64, 64};
  setrlimit(RLIMIT_NOFILE, &rl);
  boost::asio::io_context io;
  p2p::SessionSettings s;
  s.listen_ipv6 = false;
  p2p::Session session(io, s);
  session.listen();
  Report r;
  r.port = session.listen_port();
  std::vector<int> hoard;
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY);
    if (fd < 0) break;
    hoard.push_back(fd);
  }
  if (::write(to_parent, &r, sizeof r) != sizeof r) _exit(2);
  char go;
  if (::read(from_parent, &go, 1) != 1) _exit(3);  // the parent's peers are waiting
  double c0 = cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  io.run_for(std::chrono::milliseconds(1500));
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_share = (cpu_seconds() - c0) / wall;
  r.turned_away = session.turned_away();
  for (int fd : hoard) ::close(fd);
  if (::write(to_parent, &r, sizeof r) != sizeof r) _exit(4);
  if (::read(from_parent, &go, 1) != 1) _exit(5);  // a new peer is waiting
  io.run_for(std::chrono::milliseconds(2500));     // the back-off is at most a second
  r.accepted_after = session.accepted();
  r.turned_away = session.turned_away();
  if (::write(to_parent, &r, sizeof r) != sizeof r) _exit(6);
  _exit(0);
}

}  // namespace

TEST(AcceptDescriptors, BacksOffWhenOutOfDescriptorsAndResumes) {
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizers' runtime opens a pipe to check memory before it reads it; with every
  // descriptor taken it takes good memory for bad and reports false errors.
  GTEST_SKIP() << "takes every descriptor, which the sanitizer runtime needs itself";
#endif
  int up[2], down[2];
  ASSERT_EQ(pipe(up), 0);
  ASSERT_EQ(pipe(down), 0);
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(up[0]);
    ::close(down[1]);
    child(up[1], down[0]);
  }
  ::close(up[1]);
  ::close(down[0]);
  Report r;
  ASSERT_EQ(::read(up[0], &r, sizeof r), ssize_t(sizeof r));
  std::vector<int> peers;
  for (int i = 0; i < 3; ++i) peers.push_back(connect_to(r.port));
  for (int fd : peers) ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(down[1], "g", 1), 1);
  ASSERT_EQ(::read(up[0], &r, sizeof r), ssize_t(sizeof r));
  // Before the back-off the loop retried at once forever: about 95% of a core.
  EXPECT_LT(r.cpu_share, 0.2) << "CPU share while out of descriptors";
  EXPECT_GE(r.turned_away, 1u);
  // The waiting peers were closed cleanly, not left hanging in the listen queue.
  int eofs = 0;
  for (int fd : peers) eofs += sees_eof(fd, 500) ? 1 : 0;
  EXPECT_GE(eofs, 1);
  int late = connect_to(r.port);
  ASSERT_GE(late, 0);
  ASSERT_EQ(::write(down[1], "g", 1), 1);
  ASSERT_EQ(::read(up[0], &r, sizeof r), ssize_t(sizeof r));
  EXPECT_GE(r.accepted_after, 1u) << "turned away " << r.turned_away;
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (int fd : peers) ::close(fd);
  ::close(late);
  ::close(up[0]);
  ::close(down[1]);
}

TEST(AcceptDescriptors, GlobalConnectionLimitTurnsPeersAway) {
  boost::asio::io_context io;
  p2p::SessionSettings s;
  s.listen_ipv6 = false;
  s.max_connections = 2;
  p2p::Session session(io, s);
  session.listen();
  std::vector<int> fds;
  for (int i = 0; i < 5; ++i) fds.push_back(connect_to(session.listen_port()));
  io.run_for(std::chrono::milliseconds(300));
  EXPECT_EQ(session.accepted(), 2u);
  EXPECT_EQ(session.turned_away(), 3u);
  EXPECT_EQ(session.num_connections(), 2);
  for (int fd : fds) ::close(fd);
}
