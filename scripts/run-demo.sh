#!/usr/bin/env bash
# The local demo, on one machine with no outside network: starts the embedded TRON devnet,
# sets up two wallets, pays in TRX, TRC-10 BTT and TRC-20 BTT, signs and checks a TIP-191
# message, then has one bttnode seed a torrent to another. Usage: run-demo.sh [BTTNODE]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-build/node/bttnode}")
genesis=configs/devnet-genesis.json
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A password for the demo's throw-away keystores only.
export BTTNODE_PASSWORD=bttnode-demo-only

step() { printf '\n== %s\n' "$*"; }
genesis_field() { python3 -c "import json,sys; g=json.load(open('$genesis')); print(eval(sys.argv[1]))" "$1"; }

wait_for_line() {  # FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}

step "Starting the devnet (blocks every second)"
"$bin" devnet --listen 127.0.0.1:0 --genesis "$genesis" --block-ms 1000 \
  --state "$work/chain.json" >"$work/devnet.log" 2>&1 &
pids+=($!)
wait_for_line "$work/devnet.log" "devnet listening on" 20
node_url=$(sed -n 's/.*devnet listening on \(http[^ ]*\).*/\1/p' "$work/devnet.log" | head -1)
echo "full node API: $node_url"

step "Wallets"
# The downloader's wallet holds a funded genesis test key, handed over on stdin, never argv.
genesis_field "[a for a in g['accounts'] if a['name']=='alice'][0]['private_key']" |
  "$bin" wallet import --keystore "$work/downloader.json" >/dev/null
"$bin" wallet create --keystore "$work/seeder.json" >/dev/null
payer=$("$bin" wallet address --keystore "$work/downloader.json")
seeder=$("$bin" wallet address --keystore "$work/seeder.json")
trc20=$(genesis_field "g['trc20']['contract_address']")
echo "downloader: $payer"
echo "seeder:     $seeder"
echo "TRC-20 BTT: $trc20"

step "Balances before"
for who in downloader seeder; do
  echo "-- $who"
  "$bin" wallet balance --keystore "$work/$who.json" --node "$node_url"
done

step "Payments from the downloader to the seeder (each waits for its block)"
send() {
  local token=$1 amount=$2 txid
  txid=$("$bin" wallet send --keystore "$work/downloader.json" --node "$node_url" \
    --to "$seeder" --amount "$amount" --token "$token" --wait | head -1)
  printf '%-52s %28s  txid %s\n' "$token" "$amount" "$txid"
}
send trx 5000000
send trc10:1002000 25000000
send "trc20:$trc20" 25000000000000000000

step "Balances after"
for who in downloader seeder; do
  echo "-- $who"
  "$bin" wallet balance --keystore "$work/$who.json" --node "$node_url"
done

step "A TIP-191 message signed by the downloader and checked"
message="bttnode demo $(date -u +%FT%TZ)"
sig=$("$bin" message sign --keystore "$work/downloader.json" --message "$message")
echo "signature: $sig"
"$bin" message verify --address "$payer" --signature "$sig" --message "$message" &&
  echo "verified: signed by $payer"

step "BitTorrent: one bttnode seeds, another downloads"
mkdir -p "$work/seed/album" "$work/leech"
head -c $((6 * 1024 * 1024 + 12345)) /dev/urandom >"$work/seed/album/track1.bin"
head -c $((3 * 1024 * 1024 + 777)) /dev/urandom >"$work/seed/album/track2.bin"
"$bin" create-torrent "$work/seed/album" -o "$work/album.torrent" --comment "bttnode demo"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" seed "$work/album.torrent" --data "$work/seed" --port "$port" >"$work/seed.log" 2>&1 &
pids+=($!)
wait_for_line "$work/seed.log" "^seeding" 60
start=$(date +%s%N)
"$bin" download "$work/album.torrent" --out "$work/leech" --peer "127.0.0.1:$port"
end=$(date +%s%N)
diff -r "$work/seed/album" "$work/leech/album" && echo "files identical"
echo "downloaded $(du -sh "$work/leech/album" | cut -f1) in $(((end - start) / 1000000)) ms"

step "Done"
