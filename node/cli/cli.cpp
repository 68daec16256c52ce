#include "node/cli/cli.hpp"

#include <algorithm>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string_view>

#include <CLI/CLI.hpp>

#include "base/log.hpp"
#include "base/settings.hpp"
#include "node/cli/args.hpp"
#include "node/cli/commands.hpp"
#include "node/runtime/settings.hpp"

namespace bttnode {

namespace {

// Every command and its options, written once: CLI11 makes the usage and --help of each from
// these, and checks that no option is unknown.
enum class Kind { Value, Flag, Many, Setting };
struct Opt {
  Opt(const char* name, Kind kind, const char* help = "", const char* value = "")
      : name(name), kind(kind), help(help), value(value) {}
  const char* name;  // long name, or "-o" for a short one
  Kind kind;
  const char* help;
  const char* value;  // placeholder in the usage
};
struct Command {
  Command(const char* name, const char* summary, int (*run)(const Args&), std::vector<Opt> opts,
          const char* positional = nullptr, bool positional_required = false,
          const char* notes = "", std::vector<Command> subs = {})
      : name(name),
        summary(summary),
        run(run),
        opts(std::move(opts)),
        positional(positional),
        positional_required(positional_required),
        notes(notes),
        subs(std::move(subs)) {}
  const char* name;
  const char* summary;
  int (*run)(const Args&);
  std::vector<Opt> opts;
  const char* positional;  // its name in the usage; nullptr: none
  bool positional_required;
  const char* notes;
  std::vector<Command> subs;
};

const Opt kKeystore{"keystore", Kind::Value, "the encrypted key file", "FILE"};
const Opt kPasswordFile{"password-file", Kind::Value,
                        "read the password from FILE (else BTTNODE_PASSWORD, else the terminal)",
                        "FILE"};
const Opt kNetwork{"network", Kind::Value, "mainnet, nile or devnet: the node and token presets",
                   "NAME"};
const Opt kNode{"node", Kind::Value, "the TRON full node's HTTP API", "URL"};
const Opt kApiKey{"api-key", Kind::Value, "TRON-PRO-API-KEY (else BTTNODE_API_KEY)", "KEY"};
const Opt kGenesis{"genesis", Kind::Value,
                   "the devnet genesis whose TRC-20 is btt (else configs/devnet-genesis.json)",
                   "FILE"};
const Opt kToken{"token", Kind::Value, "btt, bttold, trx, trc10:ID or trc20:ADDR", "T"};
const Opt kLedger{"ledger", Kind::Value, "the payment ledger (default KEYSTORE.ledger.db)", "DB"};
const Opt kConfig{"config", Kind::Value, "settings from a JSON file (keys as --dump-config shows)",
                  "FILE"};
const Opt kDumpConfig{"dump-config", Kind::Flag,
                      "print the settings as JSON (defaults, --config, flags) and exit"};

constexpr const char* kAmounts =
    "Amounts: base units (1000) or whole tokens with a unit: 0.5btt, 0.001trx, 2bttold, "
    "1.5token (decimals from the node), 1000sun.\n"
    "Sizes and rates: bytes, or with k, M, G (powers of 1024); durations: 250ms, 30s, 5m, 2h.";

std::vector<Command> commands() {
  std::vector<Opt> network = {kNetwork, kNode, kApiKey, kGenesis};
  auto with = [](std::vector<Opt> a, const std::vector<Opt>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  return {
      {"wallet",
       "create, import, show and use a TRON wallet",
       nullptr,
       {},
       nullptr,
       false,
       "",
       {
           {"create",
            "make a new key, store it encrypted, print its address",
            cmd_wallet,
            {kKeystore, kPasswordFile}},
           {"import",
            "read a hex private key on stdin, store it encrypted, print its address",
            cmd_wallet,
            {kKeystore, kPasswordFile}},
           {"address",
            "print the base58 address (no password needed)",
            cmd_wallet,
            {kKeystore, kPasswordFile}},
           {"balance", "print TRX, BTT, BTTOLD, bandwidth and energy", cmd_wallet,
            with({kKeystore, {"trc20", Kind::Value, "also this TRC-20 contract", "ADDR"}},
                 network)},
           {"fee", "what a transfer would burn in TRX (bandwidth, energy, account creation)",
            cmd_wallet,
            with({kKeystore,
                  {"to", Kind::Value, "the receiver", "ADDR"},
                  {"amount", Kind::Value, "the amount", "A"},
                  kToken,
                  {"fee-limit", Kind::Value, "energy fee limit of a TRC-20 transfer", "SUN"}},
                 network),
            nullptr, false, kAmounts},
           {"send", "send tokens; prints the txid", cmd_wallet,
            with({kKeystore,
                  {"to", Kind::Value, "the receiver", "ADDR"},
                  {"amount", Kind::Value, "the amount", "A"},
                  kToken,
                  {"wait", Kind::Flag, "wait until it is in a block and print the fee burned"},
                  {"timeout", Kind::Value, "how long --wait waits", "SEC"},
                  {"fee-limit", Kind::Value, "energy fee limit of a TRC-20 transfer", "SUN"},
                  kLedger,
                  {"payment-id", Kind::Value, "re-running with the same id never pays twice", "ID"},
                  {"max-amount", Kind::Value, "refuse to send more than this", "A"},
                  kPasswordFile},
                 network),
            nullptr, false,
            "Every payment goes through the ledger: after a crash the next send re-broadcasts "
            "unfinished payments, never paying a debt twice.\n"},
       }},
      {"tx",
       "build, sign and broadcast TRON transactions",
       nullptr,
       {},
       nullptr,
       false,
       "",
       {
           {"build",
            "print an unsigned transaction as java-tron's JSON, one line (offline)",
            cmd_tx,
            {kToken,
             {"from", Kind::Value, "the sender", "ADDR"},
             {"to", Kind::Value, "the receiver", "ADDR"},
             {"amount", Kind::Value, "base units", "N"},
             {"ref-block", Kind::Value, "the reference block id (64 hex digits)", "BLOCKID"},
             {"timestamp", Kind::Value, "milliseconds since 1970", "MS"},
             {"expiration", Kind::Value, "milliseconds since 1970", "MS"},
             {"fee-limit", Kind::Value, "energy fee limit of a TRC-20 transfer", "SUN"},
             {"visible", Kind::Flag, "addresses in base58"}}},
           {"sign",
            "sign each transaction JSON line on stdin, print each signed",
            cmd_tx,
            {kKeystore, kPasswordFile}},
           {"broadcast",
            "send one signed transaction (JSON on stdin), print its txid",
            cmd_tx_broadcast,
            {kNode,
             kApiKey,
             {"ca-file", Kind::Value, "trust a private node's CA besides the system store",
              "PEM"}}},
       }},
      {"message",
       "sign and verify TIP-191 messages",
       nullptr,
       {},
       nullptr,
       false,
       "",
       {
           {"sign",
            "print the signature as 0x-prefixed hex (65 bytes, v = 27/28)",
            cmd_message,
            {kKeystore, {"message", Kind::Value, "the text", "TEXT"}, kPasswordFile}},
           {"verify",
            "exit 0 if the signature is ADDR's over TEXT, 1 if not",
            cmd_message,
            {{"address", Kind::Value, "the signer", "ADDR"},
             {"signature", Kind::Value, "0x-prefixed hex", "HEX"},
             {"message", Kind::Value, "the text", "TEXT"}}},
       }},
      {"devnet",
       "run the local TRON devnet (java-tron HTTP API)",
       cmd_devnet,
       {{"listen", Kind::Value, "where to listen (PORT 0: a free port, printed)", "HOST:PORT"},
        {"genesis", Kind::Value, "the genesis file", "FILE"},
        {"profile", Kind::Value,
         "devnet (default: the genesis' parameters, each block solid at once) or mainnet "
         "(mainnet's parameters, solid 19 blocks behind)",
         "NAME"},
        {"block-ms", Kind::Value, "block interval, overriding the profile's", "N"},
        {"solid-lag", Kind::Value, "solid lag in blocks, overriding the profile's", "N"},
        {"state", Kind::Value, "keep the chain across restarts in FILE", "FILE"}}},
      {"create-torrent",
       "make a .torrent file from a file or folder",
       cmd_create_torrent,
       {{"-o", Kind::Value, "the .torrent to write", "OUT"},
        {"-t", Kind::Many, "a tracker URL (repeatable: one tier each)", "URL"},
        {"piece-length", Kind::Value, "piece size, e.g. 256K or 1M", "N"},
        {"private", Kind::Flag, "mark the torrent private (BEP 27)"},
        {"comment", Kind::Value, "a comment", "TEXT"}},
       "PATH",
       true},
      {"seed",
       "seed a torrent",
       cmd_seed,
       {{"data", Kind::Value, "the folder that holds the torrent's data", "DIR"},
        kConfig,
        kDumpConfig,
        {"port", Kind::Setting},
        {"max-up-rate", Kind::Setting},
        {"encryption", Kind::Setting},
        {"no-utp", Kind::Flag, "TCP only: no uTP dials, incoming uTP refused"},
        {"dht-bootstrap", Kind::Many, "a DHT node to start from (repeatable; default: the public routers)",
         "HOST:PORT"},
        {"no-dht", Kind::Flag, "do not use the DHT"},
        {"no-lsd", Kind::Flag, "no local service discovery (BEP 14)"},
        kKeystore,
        kPasswordFile,
        kNetwork,
        kNode,
        kApiKey,
        kGenesis,
        kToken,
        {"price", Kind::Value, "price per MiB", "N"},
        {"credit", Kind::Setting},
        {"max-credit", Kind::Setting},
        {"min-settle", Kind::Value, "the smallest settlement (default: the price of one MiB)", "N"},
        {"confirmations", Kind::Setting},
        kLedger},
       "TORRENT",
       true,
       kAmounts},
      {"download",
       "download a torrent or magnet link",
       cmd_download,
       {{"out", Kind::Value, "the folder to save into", "DIR"},
        kConfig,
        kDumpConfig,
        {"port", Kind::Setting},
        {"peer", Kind::Many, "connect to this peer too (repeatable)", "HOST:PORT"},
        {"seed-after", Kind::Flag, "keep seeding when complete"},
        {"max-down-rate", Kind::Setting},
        {"max-up-rate", Kind::Setting},
        {"encryption", Kind::Setting},
        {"no-utp", Kind::Flag, "TCP only: no uTP dials, incoming uTP refused"},
        {"dht-bootstrap", Kind::Many, "a DHT node to start from (repeatable; default: the public routers)",
         "HOST:PORT"},
        {"no-dht", Kind::Flag, "do not use the DHT"},
        {"no-lsd", Kind::Flag, "no local service discovery (BEP 14)"},
        kKeystore,
        kPasswordFile,
        kNetwork,
        kNode,
        kApiKey,
        kGenesis,
        kToken,
        {"max-price", Kind::Value, "the most to pay per MiB", "N"},
        {"budget", Kind::Value, "the most to pay in all", "N"},
        {"fee-cap", Kind::Value, "at most this many TRX of fees per GiB bought", "TRX"},
        {"over-fee-cap", Kind::Value,
         "a seeder whose terms break the fee cap: download free from it, or stop", "free|stop"},
        {"upload-while-buying", Kind::Setting},
        kLedger},
       "TORRENT|MAGNET",
       true,
       kAmounts},
      {"earnings",
       "show what the wallet earned, spent and has pending",
       cmd_earnings,
       {kKeystore,
        {"ledger", Kind::Value,
         "the payment ledger (default KEYSTORE.ledger.db; alone it works too)", "DB"},
        {"json", Kind::Flag, "one JSON object; amounts as decimal strings, fees as fees_sun"},
        {"token", Kind::Value, "only this token", "T"},
        {"network", Kind::Value, "whose btt --token btt means (default mainnet)", "NAME"},
        kGenesis},
       nullptr,
       false,
       "Credits, confirmed payments, fees burned and pending payments, per token, torrent and "
       "peer, with the txids. No password is asked: the ledger holds no secret."},
      {"run",
       "run the seedbox daemon: many torrents, kept across restarts, driven over the "
       "Transmission RPC",
       cmd_run,
       {{"config", Kind::Value,
         "the daemon's JSON config (keys as --dump-config shows; unknown keys are an error)",
         "FILE"},
        {"dump-config", Kind::Flag, "print the whole configuration as JSON and exit"}},
       nullptr,
       false,
       "Without --config: downloads and state under $XDG_DATA_HOME/bttnode (else "
       "~/.local/share/bttnode), the RPC on 127.0.0.1:9091 with a password made once and kept "
       "in the state folder (printed at start).\n"
       "peer_port 0 and rpc_port 0 mean any free port; the ports taken are printed.\n"
       "SIGTERM or SIGINT: settles what is owed, writes the state, announces stopped, exits 0."},
  };
}

// What CLI11 filled in for one command.
struct Parsed {
  const Command* command = nullptr;
  std::vector<std::string> action;  // the path below the top command ("create" of wallet)
  std::vector<std::string> positionals;
  std::vector<std::pair<std::string, std::shared_ptr<std::vector<std::string>>>> values;
  std::vector<std::pair<std::string, CLI::Option*>> flags;
};

std::string option_key(const char* name) {
  std::string_view n = name;
  return std::string(n.starts_with("-") ? n.substr(1) : n);
}

void add_command(CLI::App& parent, const Command& c, std::vector<std::string> path,
                 std::vector<std::unique_ptr<Parsed>>& all) {
  CLI::App* app = parent.add_subcommand(c.name, c.summary);
  if (!c.subs.empty()) {
    app->require_subcommand(1);
    path.push_back("");
    for (const auto& s : c.subs) {
      path.back() = s.name;
      add_command(*app, s, path, all);
    }
    return;
  }
  // Unknown options are reported by run_cli, with a suggestion.
  app->allow_extras();
  auto p = std::make_unique<Parsed>();
  p->command = &c;
  p->action = path;
  if (c.notes && *c.notes) app->footer(c.notes);
  static const NodeSettings defaults;
  for (const auto& o : c.opts) {
    const std::string key = option_key(o.name);
    const std::string flag = o.name[0] == '-' ? std::string(o.name) : "--" + key;
    if (o.kind == Kind::Flag) {
      p->flags.emplace_back(key, app->add_flag(flag, o.help));
      continue;
    }
    auto store = std::make_shared<std::vector<std::string>>();
    std::string help = o.help;
    std::string value = o.value;
    if (o.kind == Kind::Setting) {
      const auto* e = node_settings_table().find(key);
      if (!e) throw std::logic_error("no setting " + key);
      help = e->info.help;
      const std::string d = node_settings_table().text(defaults, *e);
      if (!d.empty()) help += " (default " + d + ")";
      value = base::to_string(e->info.type);
    }
    CLI::Option* opt = app->add_option(flag, *store, help);
    opt->type_name(value)->expected(1)->allow_extra_args(false);
    opt->multi_option_policy(o.kind == Kind::Many ? CLI::MultiOptionPolicy::TakeAll
                                                  : CLI::MultiOptionPolicy::TakeLast);
    p->values.emplace_back(key, store);
  }
  if (c.positional) {
    auto* pos = app->add_option(c.positional, p->positionals);
    if (c.positional_required) pos->required();
    pos->type_name("");
  }
  all.push_back(std::move(p));
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The deepest command the words named.
CLI::App* used_command(CLI::App& app) {
  CLI::App* cur = &app;
  for (;;) {
    auto subs = cur->get_subcommands();
    if (subs.empty()) return cur;
    cur = subs.front();
  }
}

// The name of `names` closest to `word`, if one is close enough to be a typo of it.
std::string closest(const std::string& word, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_d = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& n : names) {
    std::size_t d = edit_distance(word, n);
    if (d < best_d) {
      best_d = d;
      best = n;
    }
  }
  return best;
}

std::vector<std::string> option_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const CLI::Option* o : cmd.get_options()) {
    for (const auto& l : o->get_lnames()) names.push_back("--" + l);
    for (const auto& l : o->get_snames()) names.push_back("-" + l);
  }
  return names;
}

std::string path_of(const CLI::App* cmd) {
  std::string out;
  for (; cmd && cmd->get_parent(); cmd = cmd->get_parent()) out = " " + cmd->get_name() + out;
  return "bttnode" + out;
}

// A word that names no command of `parent`: the error, with the closest command.
std::optional<std::string> unknown_command(CLI::App& parent, const std::string& word) {
  if (word.starts_with("-")) return std::nullopt;
  std::vector<std::string> names;
  for (const CLI::App* s : parent.get_subcommands({})) {
    if (s->get_name() == word) return std::nullopt;
    names.push_back(s->get_name());
  }
  std::string out = path_of(&parent) + ": unknown command '" + word + "'";
  if (auto best = closest(word, names); !best.empty()) out += "; did you mean " + best + "?";
  return out;
}

std::string version_text() {
  return "bttnode 0.1.0";
}

}  // namespace

int run_cli(int argc, char** argv) {
  static const std::vector<Command> cmds = commands();
  CLI::App app("bttnode: a BitTorrent node that pays and is paid in BTT on TRON", "bttnode");
  app.set_version_flag("--version", version_text());
  std::string log_spec;
  app.add_option("--log", log_spec,
                 "log levels to stderr: LEVEL, or LEVEL,CATEGORY=LEVEL,... (trace, debug, info, "
                 "warn, error, off; categories: peer, torrent, tracker, session, ...); default warn")
      ->envname("BTTNODE_LOG");
  app.require_subcommand(1);
  std::vector<std::unique_ptr<Parsed>> parsed;
  for (const auto& c : cmds) add_command(app, c, {}, parsed);
  app.footer("Run 'bttnode COMMAND --help' for the options of a command.");

  if (argc < 2 || std::string_view(argv[1]) == "help") {
    (argc < 2 ? std::cerr : std::cout) << app.help();
    return argc < 2 ? 2 : 0;
  }
  // Commands are checked here so that a typo gets a suggestion.
  {
    CLI::App* level = &app;
    for (int i = 1; i < argc && level->get_subcommands({}).size() > 0; ++i) {
      if (auto why = unknown_command(*level, argv[i])) {
        std::cerr << *why << "\nRun '" << path_of(level) << " --help' for the commands.\n";
        return 2;
      }
      if (std::string_view(argv[i]).starts_with("-")) break;
      level = level->get_subcommand(argv[i]);
      if (level->get_subcommands({}).size() > 0 && i + 1 == argc) {
        std::cerr << level->help();
        return 2;
      }
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    const std::string where = path_of(used_command(app));
    std::cerr << where << ": " << e.what() << "\n";
    std::cerr << "Run '" << where << " --help' for its usage.\n";
    return 2;
  }

  if (!log_spec.empty()) {
    try {
      base::log::configure(log_spec);
    } catch (const std::invalid_argument& e) {
      std::cerr << "bttnode: --log: " << e.what() << "\n";
      return 2;
    }
  }
  // The one leaf command CLI11 matched.
  CLI::App* leaf = used_command(app);
  if (auto extras = leaf->remaining(); !extras.empty()) {
    const std::string where = path_of(leaf);
    std::string bad = extras.front();
    for (const auto& w : extras) {
      if (w.starts_with("-")) {
        bad = w;
        break;
      }
    }
    if (bad.starts_with("-")) {
      std::string flag = bad.substr(0, bad.find('='));
      std::cerr << where << ": unknown option " << flag;
      if (auto best = closest(flag, option_names(*leaf)); !best.empty()) {
        std::cerr << "; did you mean " << best << "?";
      }
    } else {
      std::cerr << where << ": unexpected argument '" << bad << "'";
    }
    std::cerr << "\nRun '" << where << " --help' for its usage.\n";
    return 2;
  }
  std::vector<std::string> path;
  for (CLI::App* a = leaf; a && a != &app; a = a->get_parent())
    path.insert(path.begin(), a->get_name());
  const Parsed* p = nullptr;
  for (const auto& candidate : parsed) {
    std::vector<std::string> full;
    for (const auto& c : cmds) {
      if (&c == candidate->command) full = {c.name};
      for (const auto& s : c.subs) {
        if (&s == candidate->command) full = {c.name, s.name};
      }
    }
    if (full == path) p = candidate.get();
  }
  if (!p) {
    std::cerr << app.help();
    return 2;
  }
  std::multimap<std::string, std::string> options;
  for (const auto& [key, store] : p->values) {
    for (const auto& v : *store) options.emplace(key, v);
  }
  for (const auto& [key, opt] : p->flags) {
    if (opt->count() > 0) options.emplace(key, "");
  }
  std::vector<std::string> positionals = p->action;
  positionals.insert(positionals.end(), p->positionals.begin(), p->positionals.end());
  Args args(std::move(positionals), std::move(options));
  const std::string name = path.empty() ? "" : [&] {
    std::string n;
    for (const auto& s : path) n += (n.empty() ? "" : " ") + s;
    return n;
  }();
  try {
    return p->command->run(args);
  } catch (const UsageError& e) {
    std::cerr << "bttnode " << name << ": " << e.what() << "\n"
              << "Run 'bttnode " << name << " --help' for its usage.\n";
    return 2;
  } catch (const base::SettingsError& e) {
    std::cerr << "bttnode " << name << ": " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "bttnode " << name << ": error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace bttnode
