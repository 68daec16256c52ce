// bttnode message sign | verify: TIP-191 (tronweb signMessageV2) signatures.
#include <iostream>
#include <string>

#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/cli/password.hpp"
#include "tron/tip191.hpp"
#include "wallet/keystore.hpp"

namespace bttnode {

namespace {

int message_sign(const Args& args) {
  args.allow_only({"keystore", "message", "password-file"});
  const std::string keystore = args.require("keystore");
  const std::string message = args.require("message");
  const tron::SecretString password = read_secret_password(args, false);
  const tron::PrivateKey key =
      wallet::open_keystore(keystore, std::string_view(password.data(), password.size()));
  std::cout << tron::sign_message_hex(key, message) << std::endl;
  return 0;
}

int message_verify(const Args& args) {
  args.allow_only({"address", "signature", "message"});
  const std::string address_text = args.require("address");
  const std::string signature = args.require("signature");
  const std::string message = args.require("message");
  auto address = tron::Address::parse(address_text);
  if (!address) throw UsageError("--address is not a TRON address: '" + address_text + "'");

  tron::Bytes sig;
  try {
    sig = tron::from_hex(signature);
  } catch (const std::invalid_argument& e) {
    std::cerr << "bttnode message verify: invalid: the signature is not hex (" << e.what()
              << ")\n";
    return 1;
  }
  if (sig.size() != 65) {
    std::cerr << "bttnode message verify: invalid: a signature is 65 bytes, got " << sig.size()
              << "\n";
    return 1;
  }
  auto signer = tron::recover_message_signer(message, sig);
  if (!signer) {
    std::cerr << "bttnode message verify: invalid: the signature does not recover to any key\n";
    return 1;
  }
  if (*signer != *address) {
    std::cerr << "bttnode message verify: invalid: signed by " << signer->to_base58() << ", not "
              << address->to_base58() << "\n";
    return 1;
  }
  std::cout << "valid: signed by " << address->to_base58() << std::endl;
  return 0;
}

}  // namespace

int cmd_message(const Args& args) {
  const std::string sub = args.positionals().empty() ? "" : args.positionals()[0];
  if (sub == "sign") return message_sign(args);
  if (sub == "verify") return message_verify(args);
  throw UsageError("unknown message command '" + sub + "'");
}

}  // namespace bttnode
