#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (fuzzer + AddressSanitizer + UBSan) straight from
# the sources and runs each for a short time on its seed corpus (and dictionary, if any).
#
#   tests/fuzz/run.sh [--seconds N] [--work DIR] [--build-only | --run-only] [TARGET...]
#
# TARGET is one of the *_fuzz.cpp names without the suffix; default: all. Exits non-zero if a
# target fails to build or finds a crash, leak, timeout or sanitizer report (the input that
# did it is kept in the work folder). Each source is compiled once per work folder and shared
# by the targets that need it. --build-only builds the targets (afresh) without running them;
# --run-only runs targets built so before into the same work folder.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
seconds=20
work=${TMPDIR:-/tmp}/bttnode-fuzz
targets=()
mode=both
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --build-only) mode=build; shift ;;
    --run-only) mode=run; shift ;;
    -h|--help) sed -n 2,12p "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
if [ ${#targets[@]} -eq 0 ]; then
  for f in "$here"/*_fuzz.cpp; do targets+=("$(basename "$f" _fuzz.cpp)"); done
fi

cxx=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$cxx" ] && [ "$mode" != run ]; then
  echo "fuzz: clang++ not found (install clang and libclang-rt-14-dev)" >&2
  exit 1
fi

# The sources each target needs, relative to the project root. The p2p ones are pure code; the
# tron/wallet/node ones also need the generated protobuf code and the crypto libraries.
sources_for() {
  case "$1" in
    bencode) echo p2p/wire/bencode.cpp ;;
    metainfo) echo p2p/metainfo/metainfo.cpp p2p/wire/bencode.cpp p2p/metainfo/sha1.cpp ;;
    tracker_http) echo p2p/tracker/tracker_http.cpp p2p/wire/compact_endpoint.cpp p2p/wire/bencode.cpp ;;
    tracker_udp) echo p2p/tracker/tracker_udp.cpp p2p/wire/compact_endpoint.cpp ;;
    lsd) echo p2p/lsd/lsd_message.cpp base/hex.cpp ;;
    magnet)
      echo p2p/metainfo/magnet.cpp base/hex.cpp p2p/tracker/tracker_http.cpp p2p/wire/compact_endpoint.cpp p2p/wire/bencode.cpp
      ;;
    peer_message)
      echo p2p/wire/wire_messages.cpp p2p/wire/metadata_exchange.cpp p2p/wire/pex.cpp p2p/wire/compact_endpoint.cpp \
        p2p/wire/bencode.cpp p2p/metainfo/sha1.cpp
      ;;
    extension_handshake) echo p2p/wire/extension_handshake.cpp p2p/wire/bencode.cpp ;;
    peer_protocol)
      echo p2p/peer/peer_protocol.cpp p2p/wire/peer_address.cpp p2p/wire/wire_messages.cpp p2p/wire/extension_handshake.cpp \
        p2p/wire/metadata_exchange.cpp p2p/wire/pex.cpp p2p/wire/compact_endpoint.cpp p2p/wire/bencode.cpp \
        p2p/metainfo/sha1.cpp p2p/torrent/piece_picker.cpp p2p/session/events.cpp
      ;;
    mse_handshake) echo p2p/transport/mse_handshake.cpp p2p/metainfo/sha1.cpp ;;
    utp_packet) echo p2p/transport/utp_packet.cpp p2p/transport/utp_connection.cpp ;;
    ut_metadata) echo p2p/wire/metadata_exchange.cpp p2p/wire/bencode.cpp p2p/metainfo/sha1.cpp ;;
    pex) echo p2p/wire/pex.cpp p2p/wire/compact_endpoint.cpp p2p/wire/bencode.cpp ;;
    krpc)
      echo p2p/dht/krpc.cpp p2p/dht/node_id.cpp p2p/dht/routing_table.cpp p2p/dht/lookup.cpp \
        p2p/wire/compact_endpoint.cpp p2p/wire/bencode.cpp
      ;;
    resume_data)
      echo p2p/storage/resume_data.cpp p2p/wire/bencode.cpp base/hex.cpp p2p/storage/storage.cpp p2p/metainfo/metainfo.cpp \
        p2p/storage/disk_pool.cpp \
        p2p/metainfo/sha1.cpp
      ;;
    fullnode_answers | tx_json) echo TRON ;;
    keystore) echo TRON wallet/keystore.cpp ;;
    pay_message) echo TRON node/pay/protocol.cpp p2p/wire/bencode.cpp ;;
    *) echo "fuzz: unknown target $1" >&2; return 1 ;;
  esac
}

flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
  -fno-omit-frame-pointer -I"$root")

# The tron library without its network code, built once per run into an archive.
tron_lib=""
tron_flags=()
build_tron() {
  [ -n "$tron_lib" ] && return 0
  local gen="$work/gen" objs="$work/tron-objs"

  rm -rf "$gen" "$objs"
  mkdir -p "$gen/tron" "$objs"
  protoc --cpp_out="$gen/tron" -I"$root/tron" "$root"/tron/proto/*.proto
  local srcs=("$gen"/tron/proto/*.pb.cc)
  for f in "$root"/base/*.cpp; do
    case "$(basename "$f")" in http_client.cpp | http_server.cpp) continue ;; esac
    srcs+=("$f")
  done
  for f in "$root"/tron/*.cpp; do
    case "$(basename "$f")" in fullnode_client.cpp) continue ;; esac
    srcs+=("$f")
  done
  echo "== fuzz: building the tron sources (${#srcs[@]} files)"
  for f in "${srcs[@]}"; do
    "$cxx" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" -I"$gen" -I"$gen/tron" \
      -c "$f" -o "$objs/$(basename "$(dirname "$f")")-$(basename "$f").o"
  done
  rm -f "$work/libtron_fuzz.a"
  ar rcs "$work/libtron_fuzz.a" "$objs"/*.o
  tron_lib="$work/libtron_fuzz.a"
  tron_flags=(-I"$gen" -I"$gen/tron")
}

# One object per source, shared by every target of the work folder.
objs_dir="$work/objs"
object_of() {
  local rel=${1#"$root"/}
  local obj="$objs_dir/${rel//\//-}.o"
  if [ ! -f "$obj" ]; then
    "$cxx" "${flags[@]/-fsanitize=fuzzer,/-fsanitize=fuzzer-no-link,}" "${tron_flags[@]}" -c "$1" -o "$obj.tmp"
    mv "$obj.tmp" "$obj"
  fi
  echo "$obj"
}

mkdir -p "$work"
if [ "$mode" = build ]; then
  rm -rf "$objs_dir"
fi
mkdir -p "$objs_dir"
status=0
for t in "${targets[@]}"; do
  bin="$work/${t}_fuzz"
  if [ "$mode" = run ]; then
    if [ ! -x "$bin" ]; then
      echo "fuzz $t: not built (run with --build-only first)" >&2
      status=1
      continue
    fi
  else
    srcs=()
    extra=()
    for s in $(sources_for "$t"); do
      if [ "$s" = TRON ]; then
        build_tron
        continue
      fi
      srcs+=("$(object_of "$root/$s")")
    done
    if [ -n "$tron_lib" ] && sources_for "$t" | grep -q TRON; then
      extra=("${tron_flags[@]}" "$tron_lib" -lprotobuf -lsecp256k1 -lcrypto++ -lssl)
    fi
    echo "== fuzz $t: building"
    "$cxx" "${flags[@]}" "$here/${t}_fuzz.cpp" "${srcs[@]}" "${extra[@]}" -lcrypto -o "$bin"
  fi
  [ "$mode" = build ] && continue
  corpus="$work/corpus-$t"
  mkdir -p "$corpus"
  seeds=()
  [ -d "$here/corpus/$t" ] && seeds=("$here/corpus/$t")
  dict=()
  [ -f "$here/dict/$t.dict" ] && dict=(-dict="$here/dict/$t.dict")
  echo "== fuzz $t: running ${seconds}s"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      "${dict[@]}" -artifact_prefix="$work/$t-" -print_final_stats=1 "$corpus" "${seeds[@]}" \
      >"$work/$t.log" 2>&1; then
    echo "fuzz $t: FAILED, log follows (input kept under $work/$t-*)" >&2
    tail -60 "$work/$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|cov:" "$work/$t.log" |
      tail -3 || true
    grep -cE "^==[0-9]+==ERROR|deadly signal" "$work/$t.log" | sed "s/^/fuzz $t: crashes: /" || true
  fi
done
exit $status
