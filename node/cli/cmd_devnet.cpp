// bttnode devnet: the local TRON devnet, a java-tron HTTP API emulator.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "tron/devnet/profile.hpp"
#include "tron/devnet/server.hpp"
#include "tron/devnet/state_file.hpp"

namespace bttnode {

namespace {

long number_option(const Args& args, const char* name, long fallback, long min, long max) {
  auto v = args.get(name);
  if (!v) return fallback;
  long n = 0;
  try {
    std::size_t used = 0;
    n = std::stol(*v, &used);
    if (used != v->size()) throw std::invalid_argument(*v);
  } catch (const std::exception&) {
    throw UsageError(std::string("--") + name + " wants a number");
  }
  if (n < min || n > max) {
    throw UsageError(std::string("--") + name + " must be " + std::to_string(min) + ".." +
                     std::to_string(max));
  }
  return n;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::pair<std::string, unsigned short> split_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) throw UsageError("--listen wants HOST:PORT");
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = listen.substr(colon + 1);
  if (port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    throw UsageError("--listen: bad port '" + port_text + "'");
  }
  return {host, static_cast<unsigned short>(std::stoi(port_text))};
}

}  // namespace

int cmd_devnet(const Args& args) {
  if (!args.positionals().empty()) throw UsageError("unexpected argument " + args.positionals()[0]);
  auto [host, port] = split_listen(args.require("listen"));
  const std::string genesis_path = args.require("genesis");
  tron::devnet::Profile profile;
  try {
    profile = tron::devnet::profile_named(args.get("profile").value_or("devnet"));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--profile: ") + e.what());
  }
  const long block_ms = number_option(args, "block-ms", profile.block_ms, 10, 600'000);
  const long solid_lag = number_option(args, "solid-lag", profile.solid_lag, 0, 10'000);
  const std::string state_path = args.get("state").value_or("");

  tron::devnet::Genesis genesis = tron::devnet::Genesis::load(genesis_path);
  if (profile.params) genesis.params = *profile.params;
  std::optional<tron::devnet::Chain> chain;
  if (!state_path.empty()) {
    if (auto text = tron::devnet::read_file_if_exists(state_path)) {
      auto j = nlohmann::json::parse(*text, nullptr, false);
      if (j.is_discarded()) throw std::runtime_error("state file " + state_path + " is not JSON");
      chain.emplace(tron::devnet::Chain::from_state_json(genesis, j));
      std::cout << "devnet: resumed " << state_path << " at block " << chain->head_number() << "\n";
    }
  }
  if (!chain) chain.emplace(std::move(genesis));
  chain->set_solid_lag(solid_lag);

  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto service = std::make_shared<tron::devnet::Service>(std::move(*chain), now_ms);
  tron::devnet::ServerOptions options;
  options.host = host;
  options.port = port;
  options.block_interval = std::chrono::milliseconds(block_ms);
  options.state_path = state_path;
  // On a live chain the head is never the genesis block, and clients such as tronweb read the
  // head's number, which java-tron's JSON leaves out when it is 0: start serving at block 1.
  if (service->head_number() == 0) service->seal();
  tron::devnet::Server server(service, options);
  server.start();
  std::cout << "devnet: profile " << profile.name << ", a block every " << block_ms
            << " ms, the solidified block " << solid_lag << " behind the head\n";
  const bool v6 = host.find(':') != std::string::npos;
  std::cout << "devnet listening on http://" << (v6 ? "[" + host + "]" : host) << ":"
            << server.port() << std::endl;

  int sig = 0;
  sigwait(&signals, &sig);
  std::cout << "devnet: stopping" << std::endl;
  server.stop();
  std::cout << "devnet: stopped at block " << service->head_number()
            << (state_path.empty() ? "" : ", state saved to " + state_path) << std::endl;
  return 0;
}

}  // namespace bttnode
