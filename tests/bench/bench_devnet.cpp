// How many broadcasts per second the devnet accepts, and the blocks it seals meanwhile:
// in process (the ledger alone) and over HTTP (broadcasthex on keep-alive connections).
// References from the same run: secp256k1 signer recovery (the floor of every broadcast) and
// a read-only request (getnowblock) over the same HTTP path.
#include <atomic>
#include <utility>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tron/devnet/chain.hpp"
#include "tron/devnet/server.hpp"
#include "tron/proto/contract.pb.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using tron::devnet::Chain;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<protocol::Transaction> signed_transfers(const Chain& chain, int n) {
  const auto alice = tron::PrivateKey::from_hex(
      "ad05e25ed0973dc8523e1176cb8b7fc805dbcacf99c0c7ef720147f862b363e7");  // public test key
  const auto bob = tron::PrivateKey::from_hex(
      "3cc377bde8831fceec5641bafddead21836b1e211ba037b864ee61f1c9478ea9");
  const tron::Address from = alice.address();
  const tron::Address to = bob.address();
  std::vector<protocol::Transaction> txs;
  txs.reserve(n);
  for (int i = 0; i < n; ++i) {
    protocol::TransferContract c;
    c.set_owner_address(std::string(from.raw().begin(), from.raw().end()));
    c.set_to_address(std::string(to.raw().begin(), to.raw().end()));
    c.set_amount(i + 1);
    auto tx = chain.make_transaction(protocol::Transaction::Contract::TransferContract, c, wall_ms());
    tron::Signature s = alice.sign_digest(tron::devnet::transaction_id(tx));
    tx.add_signature(std::string(s.begin(), s.end()));
    txs.push_back(std::move(tx));
  }
  return txs;
}

std::string post(beast::tcp_stream& stream, const std::string& target, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, "127.0.0.1");
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return res.body();
}

}  // namespace

int main(int argc, char** argv) {
  const std::string genesis_path =
      argc > 1 ? argv[1] : std::string(BTTNODE_SOURCE_DIR) + "/configs/devnet-genesis.json";
  const int n = argc > 2 ? std::atoi(argv[2]) : 4000;
  std::cout << std::fixed << std::setprecision(0);

  // Reference: signer recovery alone.
  {
    auto key = tron::PrivateKey::generate();
    tron::Hash32 digest = tron::sha256(tron::as_bytes("bench"));
    tron::Signature sig = key.sign_digest(digest);
    auto t = Clock::now();
    int k = 0;
    for (; k < 20000; ++k) (void)tron::recover_signer(digest, sig);
    std::cout << "reference  secp256k1 recover:        " << k / seconds_since(t) << " /s" << std::endl;
  }

  // In process: the ledger alone.
  {
    Chain chain(tron::devnet::Genesis::load(genesis_path));
    chain.seal(wall_ms());
    auto txs = signed_transfers(chain, n);
    auto t = Clock::now();
    int accepted = 0, blocks = 0;
    for (int i = 0; i < n; ++i) {
      if (chain.broadcast(txs[i]).ok()) ++accepted;
      if ((i + 1) % 1000 == 0) {
        chain.seal(wall_ms());
        ++blocks;
      }
    }
    const double s = seconds_since(t);
    std::cout << "in process broadcast accepted:       " << accepted / s << " /s (" << accepted
              << "/" << n << ", " << blocks << " blocks of 1000 sealed)" << std::endl;
  }

  // Over HTTP.
  {
    Chain chain(tron::devnet::Genesis::load(genesis_path));
    chain.seal(wall_ms());
    auto txs = signed_transfers(chain, n);
    std::vector<std::string> bodies;
    for (const auto& tx : txs) {
      bodies.push_back("{\"transaction\":\"" + tron::to_hex(tron::as_bytes(tx.SerializeAsString())) + "\"}");
    }
    auto service = std::make_shared<tron::devnet::Service>(std::move(chain), wall_ms);
    tron::devnet::ServerOptions options;
    options.block_interval = std::chrono::milliseconds(100);
    tron::devnet::Server server(service, options);
    server.start();
    const std::int64_t first_block = service->head_number();
    constexpr int kClients = 4;

    auto run = [&](auto&& body_for) {
      std::atomic<int> ok{0};
      std::vector<std::thread> threads;
      auto t = Clock::now();
      for (int c = 0; c < kClients; ++c) {
        threads.emplace_back([&, c] {
          asio::io_context ioc;
          beast::tcp_stream stream(ioc);
          stream.connect({asio::ip::make_address("127.0.0.1"), server.port()});
          for (int i = c; i < n; i += kClients) {
            auto [target, body, expect] = body_for(i);
            if (post(stream, target, body).find(expect) != std::string::npos) ++ok;
          }
        });
      }
      for (auto& th : threads) th.join();
      return std::pair<int, double>(ok.load(), seconds_since(t));
    };

    auto [reads, read_s] = run([](int) {
      return std::tuple<std::string, std::string, std::string>("/wallet/getnowblock", "", "blockID");
    });
    std::cout << "reference  HTTP getnowblock:          " << reads / read_s << " /s (" << kClients
              << " keep-alive clients)" << std::endl;
    const std::int64_t before = service->head_number();
    auto [accepted, s] = run([&](int i) {
      return std::tuple<std::string, std::string, std::string>("/wallet/broadcasthex", bodies[i],
                                                               "\"result\":true");
    });
    // Let the last block take what is pending.
    while (service->pending_count() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const std::int64_t sealed = service->head_number() - before;
    std::cout << "HTTP       broadcasthex accepted:     " << accepted / s << " /s (" << accepted
              << "/" << n << ")" << std::endl;
    std::cout << "HTTP       blocks sealed:             " << sealed << " in " << std::setprecision(2)
              << s << " s at a 100 ms interval, " << std::setprecision(0)
              << (sealed > 0 ? accepted / static_cast<double>(sealed) : 0) << " tx/block\n";
    (void)first_block;
    server.stop();
  }
  return 0;
}
