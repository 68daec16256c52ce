#include "node/cli/password.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include <openssl/crypto.h>

#include "wallet/password_file.hpp"

namespace bttnode {

namespace {

using tron::SecretString;
using tron::wipe;

void wipe(std::string& s) {
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
  s.clear();
}

class Terminal {
 public:
  Terminal() {
    fd_ = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd_ < 0) {
      throw std::runtime_error(
          "no password available: set BTTNODE_PASSWORD, pass --password-file FILE, or run "
          "on a terminal");
    }
  }
  ~Terminal() { ::close(fd_); }

  SecretString ask(std::string_view prompt) {
    write(prompt);
    termios saved{};
    bool restore = ::tcgetattr(fd_, &saved) == 0;
    if (restore) {
      termios quiet = saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      quiet.c_lflag |= ECHONL;
      ::tcsetattr(fd_, TCSAFLUSH, &quiet);
    }
    SecretString line;
    line.reserve(256);  // one locked buffer for any usual password, no reallocation
    char c = 0;
    bool got_newline = false;
    for (;;) {
      ssize_t r = ::read(fd_, &c, 1);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      if (c == '\n') {
        got_newline = true;
        break;
      }
      line.push_back(c);
    }
    tron::secure::wipe(&c, 1);
    if (restore) ::tcsetattr(fd_, TCSAFLUSH, &saved);
    if (!got_newline && line.empty()) {
      throw std::runtime_error("no password entered");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

 private:
  void write(std::string_view text) {
    while (!text.empty()) {
      ssize_t w = ::write(fd_, text.data(), text.size());
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(w));
    }
  }
  int fd_ = -1;
};

}  // namespace

SecretString read_secret_password(const Args& args, bool confirm_new) {
  SecretString password;
  password.reserve(256);
  if (auto file = args.get("password-file")) {
    std::string text = wallet::read_password_file(*file);
    password.assign(text.begin(), text.end());
    wipe(text);
  } else if (const char* env = std::getenv("BTTNODE_PASSWORD")) {
    password = env;
  } else {
    Terminal tty;
    password = tty.ask(confirm_new ? "New keystore password: " : "Keystore password: ");
    if (confirm_new && !password.empty()) {
      SecretString again = tty.ask("Repeat the password: ");
      bool same = again == password;
      wipe(again);
      if (!same) {
        wipe(password);
        throw std::runtime_error("the two passwords differ");
      }
    }
  }
  if (confirm_new && password.empty()) {
    throw std::runtime_error("an empty password is not allowed for a new keystore");
  }
  return password;
}

std::optional<SecretString> given_password(const Args& args) {
  if (!args.has("password-file") && std::getenv("BTTNODE_PASSWORD") == nullptr) {
    return std::nullopt;
  }
  return read_secret_password(args, false);
}

}  // namespace bttnode
