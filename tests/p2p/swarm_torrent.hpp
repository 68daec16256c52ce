#pragma once
// A single-file torrent of pseudo-random bytes, written where a seeder finds it
// (dir/src/data.bin), for the tests that run a seeder and a leecher.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "../test_files.hpp"
#include "p2p/metainfo/metainfo.hpp"
#include "p2p/metainfo/sha1.hpp"
#include "p2p/wire/bencode.hpp"

namespace test_support {

inline p2p::Metainfo make_swarm_torrent(const std::filesystem::path& dir, std::size_t size,
                                        std::int64_t piece_len, std::string* content,
                                        unsigned seed = 42) {
  *content = random_bytes(size, seed);
  write_file(dir / "src" / "data.bin", *content);
  std::string pieces;
  for (std::size_t off = 0; off < size; off += std::size_t(piece_len)) {
    auto d = p2p::sha1(std::string_view(*content).substr(off, std::size_t(piece_len)));
    pieces.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  p2p::bencode::Dict info;
  info["length"] = p2p::bencode::Integer(size);
  info["name"] = "data.bin";
  info["piece length"] = p2p::bencode::Integer(piece_len);
  info["pieces"] = pieces;
  p2p::bencode::Dict top;
  top["info"] = p2p::bencode::Value(std::move(info));
  return p2p::parse_metainfo(p2p::bencode::encode(p2p::bencode::Value(std::move(top))));
}

}  // namespace test_support
