#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (fuzzer + AddressSanitizer + UBSan) straight from
# the p2p sources and runs each for a short time on its seed corpus.
#
#   tests/fuzz/run.sh [--seconds N] [--work DIR] [TARGET...]
#
# TARGET is one of the *_fuzz.cpp names without the suffix; default: all. Exits non-zero if a
# target fails to build or finds a crash, leak, timeout or sanitizer report (the input that
# did it is kept in the work folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=20
work=${TMPDIR:-/tmp}/bttnode-fuzz
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/*_fuzz.cpp; do targets+=("$(basename "$f" _fuzz.cpp)"); done
fi

cxx=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$cxx" ]; then
  echo "fuzz: clang++ not found (install clang and libclang-rt-14-dev)" >&2
  exit 1
fi

# The p2p sources each target needs (pure code: no sockets, no disk).
sources_for() {
  case "$1" in
    bencode) echo bencode.cpp ;;
    metainfo) echo metainfo.cpp bencode.cpp sha1.cpp ;;
    tracker_http) echo tracker_http.cpp compact_endpoint.cpp bencode.cpp ;;
    tracker_udp) echo tracker_udp.cpp compact_endpoint.cpp ;;
    magnet) echo magnet.cpp hex.cpp tracker_http.cpp compact_endpoint.cpp bencode.cpp ;;
    peer_message)
      echo wire_messages.cpp metadata_exchange.cpp pex.cpp compact_endpoint.cpp bencode.cpp sha1.cpp
      ;;
    extension_handshake) echo extension_handshake.cpp bencode.cpp ;;
    ut_metadata) echo metadata_exchange.cpp bencode.cpp sha1.cpp ;;
    pex) echo pex.cpp compact_endpoint.cpp bencode.cpp ;;
    resume_data) echo resume_data.cpp bencode.cpp hex.cpp storage.cpp metainfo.cpp sha1.cpp ;;
    *) echo "fuzz: unknown target $1" >&2; return 1 ;;
  esac
}

mkdir -p "$work"
status=0
for t in "${targets[@]}"; do
  srcs=("$here/${t}_fuzz.cpp")
  for s in $(sources_for "$t"); do srcs+=("$root/p2p/$s"); done
  bin="$work/${t}_fuzz"
  echo "== fuzz $t: building"
  "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -I"$root" "${srcs[@]}" -lcrypto -o "$bin"
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$here/corpus/$t" ] && seeds=("$here/corpus/$t")
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=("-dict=$here/dict/$t.dict")
  echo "== fuzz $t: running ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$work/$t-" -print_final_stats=1 "${dict[@]}" "$corpus" "${seeds[@]}" >"$work/$t.log" 2>&1; then
    echo "fuzz $t: FAILED, log follows (input kept under $work/$t-*)" >&2
    tail -60 "$work/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$work/$t.log" | tail -2 || true
    grep -cE "^==[0-9]+==ERROR|deadly signal" "$work/$t.log" | sed "s/^/fuzz $t: crashes: /" || true
  fi
done
exit $status
