#include "p2p/wire/metadata_exchange.hpp"

#include <algorithm>

#include "p2p/wire/bencode.hpp"
#include "p2p/metainfo/sha1.hpp"

namespace p2p::metadata {

std::optional<Message> parse(std::string_view body) {
  try {
    std::size_t used = 0;
    bencode::Limits lim;
    lim.max_depth = 4;
    lim.max_size = 64 * 1024;
    auto v = bencode::decode_prefix(body, used, lim);
    if (!v.is_dict()) return std::nullopt;
    const auto* type = v.find("msg_type");
    const auto* piece = v.find("piece");
    if (!type || !type->is_int() || !piece || !piece->is_int()) return std::nullopt;
    Message m;
    if (type->as_int() < 0 || type->as_int() > 2) return std::nullopt;
    m.type = static_cast<MsgType>(type->as_int());
    m.piece = piece->as_int();
    if (m.piece < 0 || m.piece > kMaxMetadataSize / kPieceSize) return std::nullopt;
    if (m.type == MsgType::data) {
      const auto* total = v.find("total_size");
      if (!total || !total->is_int()) return std::nullopt;
      m.total_size = total->as_int();
      m.data.assign(body.substr(used));
    } else if (used != body.size()) {
      return std::nullopt;
    }
    return m;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string encode_request(std::int64_t piece) {
  bencode::Dict d;
  d["msg_type"] = bencode::Integer(0);
  d["piece"] = bencode::Integer(piece);
  return bencode::encode(bencode::Value(std::move(d)));
}

std::string encode_reject(std::int64_t piece) {
  bencode::Dict d;
  d["msg_type"] = bencode::Integer(2);
  d["piece"] = bencode::Integer(piece);
  return bencode::encode(bencode::Value(std::move(d)));
}

std::string encode_data(std::int64_t piece, std::int64_t total_size, std::string_view data) {
  bencode::Dict d;
  d["msg_type"] = bencode::Integer(1);
  d["piece"] = bencode::Integer(piece);
  d["total_size"] = bencode::Integer(total_size);
  std::string out = bencode::encode(bencode::Value(std::move(d)));
  out.append(data);
  return out;
}

std::string_view slice(std::string_view info_bytes, std::int64_t piece) {
  if (piece < 0) return {};
  std::size_t begin = std::size_t(piece * kPieceSize);
  if (begin >= info_bytes.size()) return {};
  return info_bytes.substr(begin, std::size_t(kPieceSize));
}

bool Assembler::set_size(std::int64_t size) {
  if (size <= 0 || size > kMaxMetadataSize) return false;
  if (size_ > 0) return size == size_;
  size_ = size;
  buf_.assign(std::size_t(size), '\0');
  std::size_t n = std::size_t((size + kPieceSize - 1) / kPieceSize);
  got_.assign(n, false);
  asked_.assign(n, {});
  return true;
}

std::optional<std::int64_t> Assembler::next_request(std::chrono::steady_clock::time_point now,
                                                    std::chrono::seconds retry) {
  for (std::size_t i = 0; i < got_.size(); ++i) {
    if (got_[i]) continue;
    if (asked_[i] != std::chrono::steady_clock::time_point{} && now - asked_[i] < retry) continue;
    asked_[i] = now;
    return std::int64_t(i);
  }
  return std::nullopt;
}

void Assembler::on_reject(std::int64_t piece) {
  if (piece >= 0 && std::size_t(piece) < asked_.size()) asked_[std::size_t(piece)] = {};
}

bool Assembler::on_data(std::int64_t piece, std::int64_t total_size, std::string_view data) {
  if (size_ == 0 || total_size != size_) return false;
  if (piece < 0 || std::size_t(piece) >= got_.size()) return false;
  std::int64_t begin = piece * kPieceSize;
  std::int64_t expect = std::min(kPieceSize, size_ - begin);
  if (std::int64_t(data.size()) != expect) return false;
  std::copy(data.begin(), data.end(), buf_.begin() + begin);
  got_[std::size_t(piece)] = true;
  return std::all_of(got_.begin(), got_.end(), [](bool b) { return b; });
}

std::optional<std::string> Assembler::finish() {
  if (size_ == 0 || !std::all_of(got_.begin(), got_.end(), [](bool b) { return b; })) {
    return std::nullopt;
  }
  if (sha1(std::string_view(buf_)) == info_hash_) return buf_;
  std::fill(got_.begin(), got_.end(), false);
  std::fill(asked_.begin(), asked_.end(), std::chrono::steady_clock::time_point{});
  return std::nullopt;
}

}  // namespace p2p::metadata
