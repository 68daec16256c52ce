#!/usr/bin/env bash
# The local demo, on one machine with no outside network: a TRON devnet at mainnet's 3 s
# blocks, two wallets, and a swarm where a seeder sells its upload for BTT (the TRC-20 token).
# The seeder's upload is limited, one downloader pays and two download for free, all three
# starting together: the payer is served first and finishes first. Prints who finished when,
# each settlement with its txid, the fees it burned, and the balances of seeder and payer
# before and after. Usage: run-demo.sh [BTTNODE]
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
trap 'exit 130' INT TERM

# A password for the demo's throw-away keystores only.
export BTTNODE_PASSWORD=bttnode-demo-only
export BTTNODE_STATE_DIR="$work/state"

price_btt=1000          # the seeder's price: 1,000 BTT per MiB
up_rate=8M               # the seeder's upload limit, bytes per second
size_mib=48              # the torrent's payload

step() { printf '\n== %s\n' "$*"; }
genesis_field() { python3 -c "import json,sys; g=json.load(open('$genesis')); print(eval(sys.argv[1]))" "$1"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }

wait_for_line() {  # FILE PATTERN SECONDS
  for _ in $(seq 1 $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "demo: timed out waiting for '$2' in $1" >&2
  cat "$1" >&2
  return 1
}


balance() {  # KEYSTORE -> "TRX_SUN BTT_UNITS"
  "$bin" wallet balance --keystore "$1" --node "$node_url" |
    awk -v t="$token:" '$1 == "trx:" { trx = $2 } $1 == t { btt = $2 } END { print trx, btt }'
}

step "A TRON devnet (a block every 3 s, as on mainnet)"
"$bin" devnet --listen 127.0.0.1:0 --genesis "$genesis" --profile mainnet \
  --state "$work/chain.json" >"$work/devnet.log" 2>&1 &
pids+=($!)
wait_for_line "$work/devnet.log" "devnet listening on" 20
node_url=$(sed -n 's/.*devnet listening on \(http[^ ]*\).*/\1/p' "$work/devnet.log" | head -1)
echo "full node API: $node_url"

step "Wallets"
# The payer holds a funded genesis test key, handed over on stdin, never argv. The seeder's
# wallet is new and empty.
genesis_field "[a for a in g['accounts'] if a['name']=='alice'][0]['private_key']" |
  "$bin" wallet import --keystore "$work/payer.json" >/dev/null
"$bin" wallet create --keystore "$work/seeder.json" >/dev/null
payer=$("$bin" wallet address --keystore "$work/payer.json")
seeder=$("$bin" wallet address --keystore "$work/seeder.json")
echo "payer:  $payer"
echo "seeder: $seeder"

step "Plain payments and a TIP-191 signature"
# BTT since its 2022 redenomination is the TRC-20 token; TRC-10 1002000 is BTTOLD.
trc20=$(genesis_field "g['trc20']['contract_address']")
token=trc20:$trc20   # what `--token btt` names on this chain: no address to type below
# 1 TRX opens the seeder's account on chain; 1 BTTOLD shows the TRC-10 kind of token.
for pair in "trx 1000000" "trc10:1002000 1000000"; do
  read -r tok amount <<<"$pair"
  out=$("$bin" wallet send --keystore "$work/payer.json" --node "$node_url" --to "$seeder" \
    --amount "$amount" --token "$tok" --wait 2>/dev/null)
  txid=${out%%$'\n'*}  # the first line
  printf '%-44s %20s  txid %s\n' "$tok" "$amount" "$txid"
done
message="bttnode demo $(date -u +%FT%TZ)"
sig=$("$bin" message sign --keystore "$work/payer.json" --message "$message")
"$bin" message verify --address "$payer" --signature "$sig" --message "$message" >/dev/null
echo "message '$message' signed by the payer: ${sig:0:22}... (verified)"

step "A torrent of $size_mib MiB, seeded at $price_btt BTT per MiB, upload limited to $up_rate/s"
mkdir -p "$work/seed/album"
head -c $((size_mib * 1024 * 1024 / 2)) /dev/urandom >"$work/seed/album/track1.bin"
head -c $((size_mib * 1024 * 1024 / 2)) /dev/urandom >"$work/seed/album/track2.bin"
"$bin" create-torrent "$work/seed/album" -o "$work/album.torrent" --piece-length 256K \
  --comment "bttnode demo" >/dev/null
seed_port=$(free_port)
# Default terms: a first credit of 4 MiB that grows with what the payer has paid, and
# settlements counted as paid as soon as the seeder's node accepts them.
"$bin" seed "$work/album.torrent" --data "$work/seed" --port "$seed_port" \
  --max-up-rate "$up_rate" --keystore "$work/seeder.json" --node "$node_url" --token btt \
  --price "${price_btt}btt" >"$work/seed.log" 2>"$work/seed.err" &
seed_pid=$!
pids+=("$seed_pid")
wait_for_line "$work/seed.log" "^btt_pay: selling" 60
grep "^btt_pay: selling" "$work/seed.log"

read -r payer_trx0 payer_btt0 <<<"$(balance "$work/payer.json")"
read -r seeder_trx0 seeder_btt0 <<<"$(balance "$work/seeder.json")"

step "One paying and two free downloaders start together"
start=$(now_ms)
names=(payer free-1 free-2)
for name in "${names[@]}"; do
  mkdir -p "$work/$name"
  pay=()
  if [[ $name == payer ]]; then
    pay=(--keystore "$work/payer.json" --node "$node_url" --token btt --max-price "${price_btt}btt")
  fi
  "$bin" download "$work/album.torrent" --out "$work/$name" --port "$(free_port)" \
    --peer "127.0.0.1:$seed_port" "${pay[@]}" >"$work/$name.log" 2>"$work/$name.err" &
  pids+=($!)
done
dl_pids=("${pids[@]: -3}")

# Report each completion as it happens; then wait for the payer's final settlement.
declare -A finished=()
deadline=$(($(now_ms) + 150000))
while ((${#finished[@]} < 3)); do
  for i in 0 1 2; do
    name=${names[$i]}
    [[ -n ${finished[$name]:-} ]] && continue
    if grep -q "^complete:" "$work/$name.log" 2>/dev/null; then
      finished[$name]=$(($(now_ms) - start))
      printf '%5d.%d s  %-7s finished\n' $((finished[$name] / 1000)) \
        $((finished[$name] % 1000 / 100)) "$name"
    elif ! kill -0 "${dl_pids[$i]}" 2>/dev/null &&
      ! grep -q "^complete:" "$work/$name.log" 2>/dev/null; then
      echo "demo: $name stopped before completing:" >&2
      cat "$work/$name.err" >&2
      exit 1
    fi
  done
  if (($(now_ms) > deadline)); then
    echo "demo: the downloads did not finish in 150 s" >&2
    exit 1
  fi
  sleep 0.1
done
for i in 0 1 2; do
  wait "${dl_pids[$i]}" || { echo "demo: ${names[$i]} exited with an error:" >&2;
                             cat "$work/${names[$i]}.err" >&2; exit 1; }
done
for name in "${names[@]}"; do
  diff -r "$work/seed/album" "$work/$name/album" >/dev/null ||
    { echo "demo: $name's files differ from the seed" >&2; exit 1; }
done
echo "all three have files identical to the seed"
free_avg=$(((${finished[free-1]} + ${finished[free-2]}) / 2))
awk -v f="$free_avg" -v p="${finished[payer]}" 'BEGIN {
  printf "the payer took %.1f s, the free downloaders %.1f s on average (%.1fx as long)\n",
    p / 1000, f / 1000, f / p }'

step "What the payer paid (each settlement is a TRON transaction)"
grep -E "^(paid|btt_pay: paid|btt_pay: one settlement|btt_pay: .*: paying)" "$work/payer.log" || echo "(no payment lines)"
npaid=$(grep -c "^paid " "$work/payer.log" || true)
# The seeder credits each settlement once its transaction is in a block.
for _ in $(seq 1 150); do
  (($(grep -c "^credited " "$work/seed.log" || true) >= npaid)) && break
  sleep 0.1
done
echo "-- the seeder's side"
grep -E "^credited " "$work/seed.log" || echo "(no credits)"
kill -INT "$seed_pid"
wait "$seed_pid" || true
grep -E "^earned " "$work/seed.log" || true

step "Balances before and after (TRX and BTT in whole tokens)"
read -r payer_trx1 payer_btt1 <<<"$(balance "$work/payer.json")"
read -r seeder_trx1 seeder_btt1 <<<"$(balance "$work/seeder.json")"
row() {  # WHO TOKEN BEFORE AFTER DECIMALS
  python3 - "$@" <<'PY'
import sys
from decimal import Decimal
who, tok, before, after, dec = sys.argv[1:]
unit = Decimal(10) ** int(dec)
b, a = Decimal(before) / unit, Decimal(after) / unit
print("%-7s %-4s %30s %30s %+24s" % (who, tok, b, a, a - b))
PY
}
printf '%-7s %-4s %30s %30s %24s\n' "" "" before after change
row payer TRX "$payer_trx0" "$payer_trx1" 6
row payer BTT "$payer_btt0" "$payer_btt1" 18
row seeder TRX "$seeder_trx0" "$seeder_trx1" 6
row seeder BTT "$seeder_btt0" "$seeder_btt1" 18
echo "(the payer's TRX went to the energy its BTT transfers burned: the settlements' fees)"

step "Done"
