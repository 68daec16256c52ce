#include "wallet/keystore.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include <crypto++/scrypt.h>
#include <crypto++/secblock.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <nlohmann/json.hpp>

#include "tron/hashes.hpp"
#include "tron/hex.hpp"
#include "tron/json_bounded.hpp"

namespace wallet {

namespace {

using json = nlohmann::json;
using Kind = KeystoreError::Kind;

constexpr int kVersion = 1;
constexpr std::size_t kSaltSize = 32;
constexpr std::size_t kIvSize = 12;
constexpr std::size_t kTagSize = 16;
constexpr std::size_t kKeySize = 32;
constexpr std::size_t kMaxFileSize = 64 * 1024;
constexpr int kMaxDepth = 8;
// Parameters read from a file are bounded before anything is derived, so a hostile file costs
// at most a few seconds and 256 MiB before "wrong password": the default asks for 128 MiB.
constexpr std::uint64_t kMaxScryptN = 1ull << 20;
constexpr std::uint32_t kMaxScryptR = 16;
constexpr std::uint32_t kMaxScryptP = 4;
constexpr std::uint64_t kMaxScryptMemory = 256ull << 20;

[[noreturn]] void fail(Kind kind, const std::filesystem::path& path, const std::string& what) {
  throw KeystoreError(kind, "keystore " + path.string() + ": " + what);
}

std::string errno_text() {
  return std::strerror(errno);
}

tron::Bytes random_bytes(std::size_t n) {
  tron::Bytes out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw std::runtime_error("the system random source failed");
  }
  return out;
}

void check_params(const ScryptParams& p, const std::filesystem::path& path) {
  bool pow2 = p.n >= 2 && (p.n & (p.n - 1)) == 0;
  std::string given =
      "n=" + std::to_string(p.n) + " r=" + std::to_string(p.r) + " p=" + std::to_string(p.p);
  if (!pow2 || p.r < 1 || p.p < 1) fail(Kind::Corrupt, path, "invalid scrypt parameters " + given);
  if (p.n > kMaxScryptN || p.r > kMaxScryptR || p.p > kMaxScryptP) {
    fail(Kind::Corrupt, path,
         "scrypt parameters " + given + " are over the limits n <= 2^20, r <= 16, p <= 4");
  }
  // Both are below 2^24 here, so the product cannot overflow.
  std::uint64_t memory = 128ull * p.r * p.n;
  if (memory > kMaxScryptMemory) {
    fail(Kind::Corrupt, path,
         "scrypt parameters " + given + " need " + std::to_string(memory >> 20) +
             " MiB, over the limit of 256 MiB");
  }
}

// 64 bytes: AES key | check-value secret.
CryptoPP::SecByteBlock derive(std::string_view password, const tron::Bytes& salt,
                              const ScryptParams& params) {
  CryptoPP::SecByteBlock out(64);
  CryptoPP::Scrypt scrypt;
  scrypt.DeriveKey(out.data(), out.size(), reinterpret_cast<const CryptoPP::byte*>(password.data()),
                   password.size(), salt.data(), salt.size(), params.n, params.r, params.p);
  return out;
}

tron::Hash32 check_value(const CryptoPP::SecByteBlock& derived) {
  return tron::sha256(std::span<const std::uint8_t>(derived.data() + kKeySize, kKeySize));
}

json header_of(const json& file) {
  return json{{"version", file.at("version")},
              {"address", file.at("address")},
              {"kdf", file.at("kdf")},
              {"cipher", file.at("cipher")}};
}

// SHA-256 of the canonical dump (nlohmann sorts keys) of every field except the checksum.
std::string checksum_of(json file) {
  file.erase("checksum");
  return tron::to_hex(tron::sha256(tron::as_bytes(file.dump())));
}

struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(ctx); }
};

// AES-256-GCM. Returns false when the tag does not authenticate.
bool gcm(bool encrypt, const std::uint8_t* key, const tron::Bytes& iv, const std::string& aad,
         const std::uint8_t* in, std::size_t len, std::uint8_t* out, std::uint8_t* tag) {
  CipherCtx c;
  if (!c.ctx) throw std::runtime_error("out of memory");
  int n = 0;
  auto ok = [&](int r) {
    if (r != 1) throw std::runtime_error("AES-GCM setup failed");
  };
  ok(EVP_CipherInit_ex(c.ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr, encrypt ? 1 : 0));
  ok(EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(iv.size()), nullptr));
  ok(EVP_CipherInit_ex(c.ctx, nullptr, nullptr, key, iv.data(), encrypt ? 1 : 0));
  ok(EVP_CipherUpdate(c.ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                      static_cast<int>(aad.size())));
  ok(EVP_CipherUpdate(c.ctx, out, &n, in, static_cast<int>(len)));
  if (encrypt) {
    ok(EVP_CipherFinal_ex(c.ctx, out + n, &n));
    ok(EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_GET_TAG, kTagSize, tag));
    return true;
  }
  ok(EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, kTagSize, tag));
  return EVP_CipherFinal_ex(c.ctx, out + n, &n) == 1;
}

std::string read_file(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(Kind::Io, path, "cannot open: " + errno_text());
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(Kind::Io, path, "not a regular file");
  }
  if (st.st_size > static_cast<off_t>(kMaxFileSize)) {
    ::close(fd);
    fail(Kind::Corrupt, path, "file is too large to be a keystore");
  }
  std::string data;
  char buf[4096];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      ::close(fd);
      fail(Kind::Io, path, "read failed: " + errno_text());
    }
    if (r == 0) break;
    data.append(buf, static_cast<std::size_t>(r));
    if (data.size() > kMaxFileSize) {
      ::close(fd);
      fail(Kind::Corrupt, path, "file is too large to be a keystore");
    }
  }
  ::close(fd);
  return data;
}

tron::Bytes hex_field(const json& obj, const char* name, std::size_t size,
                      const std::filesystem::path& path) {
  try {
    tron::Bytes b = tron::from_hex(obj.at(name).get<std::string>());
    if (b.size() != size) throw std::invalid_argument("size");
    return b;
  } catch (const std::exception&) {
    fail(Kind::Corrupt, path,
         std::string("field '") + name + "' must be " + std::to_string(size) + " bytes of hex");
  }
}

// Parsed and checksum-verified file; field shapes are checked here, secrets not touched.
struct Parsed {
  json doc;
  tron::Address address;
  ScryptParams params;
  tron::Bytes salt, iv, check, ciphertext, tag;
};

Parsed parse(const std::filesystem::path& path) {
  std::string text = read_file(path);
  if (text.empty()) fail(Kind::Corrupt, path, "file is empty (truncated)");
  Parsed p;
  // A keystore nests two levels; the bound keeps a hostile file from nesting a million.
  if (tron::json_depth(text, kMaxDepth) > kMaxDepth) {
    fail(Kind::Corrupt, path, "not a keystore (JSON nests too deep)");
  }
  try {
    p.doc = json::parse(text);
  } catch (const json::parse_error& e) {
    // Byte position at the end of the text means the JSON stopped early.
    bool at_end = e.byte >= text.size();
    fail(Kind::Corrupt, path, at_end ? "file is truncated (JSON ends early)" : "not valid JSON");
  } catch (const json::exception&) {
    // E.g. out_of_range for a number such as 1e999: valid JSON grammar, but no keystore.
    fail(Kind::Corrupt, path, "not valid JSON (a number out of range)");
  }
  if (!p.doc.is_object()) fail(Kind::Corrupt, path, "not a keystore object");
  for (const char* f :
       {"version", "address", "kdf", "cipher", "check", "ciphertext", "tag", "checksum"}) {
    if (!p.doc.contains(f)) fail(Kind::Corrupt, path, std::string("missing field '") + f + "'");
  }
  if (!p.doc["checksum"].is_string()) fail(Kind::Corrupt, path, "field 'checksum' not text");
  if (checksum_of(p.doc) != p.doc["checksum"].get<std::string>()) {
    fail(Kind::Tampered, path, "checksum mismatch: the file was modified or damaged");
  }
  try {
    if (p.doc["version"].get<int>() != kVersion) {
      fail(Kind::Corrupt, path, "unsupported version " + p.doc["version"].dump());
    }
    auto addr = tron::Address::parse(p.doc["address"].get<std::string>());
    if (!addr) fail(Kind::Corrupt, path, "field 'address' is not a TRON address");
    p.address = *addr;
    const json& kdf = p.doc["kdf"];
    if (kdf.at("name").get<std::string>() != "scrypt") {
      fail(Kind::Corrupt, path, "unsupported kdf " + kdf.at("name").dump());
    }
    p.params.n = kdf.at("n").get<std::uint64_t>();
    p.params.r = kdf.at("r").get<std::uint32_t>();
    p.params.p = kdf.at("p").get<std::uint32_t>();
    if (p.doc["cipher"].at("name").get<std::string>() != "aes-256-gcm") {
      fail(Kind::Corrupt, path, "unsupported cipher " + p.doc["cipher"].at("name").dump());
    }
  } catch (const json::exception&) {
    fail(Kind::Corrupt, path, "malformed header fields");
  }
  check_params(p.params, path);
  p.salt = hex_field(p.doc["kdf"], "salt", kSaltSize, path);
  p.iv = hex_field(p.doc["cipher"], "iv", kIvSize, path);
  p.check = hex_field(p.doc, "check", 32, path);
  p.ciphertext = hex_field(p.doc, "ciphertext", kKeySize, path);
  p.tag = hex_field(p.doc, "tag", kTagSize, path);
  return p;
}

void fsync_dir(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) fail(Kind::Io, dir, "cannot open folder to sync: " + errno_text());
  int r = ::fsync(fd);
  ::close(fd);
  if (r != 0) fail(Kind::Io, dir, "folder sync failed: " + errno_text());
}

// Temp file (O_EXCL, 0600) -> fsync -> rename without replacing -> fsync folder.
void write_new_file(const std::filesystem::path& path, const std::string& data) {
  std::filesystem::path dir = path.parent_path();
  if (dir.empty()) dir = ".";
  std::filesystem::path tmp =
      dir / ("." + path.filename().string() + ".tmp-" + tron::to_hex(random_bytes(6)));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    fail(Kind::Io, path, "cannot create temp file in " + dir.string() + ": " + errno_text());
  auto abandon = [&](const std::string& what) {
    int saved = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    errno = saved;
    fail(Kind::Io, path, what + ": " + errno_text());
  };
  if (::fchmod(fd, 0600) != 0) abandon("chmod failed");
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) abandon("write failed");
    done += static_cast<std::size_t>(w);
  }
  if (::fsync(fd) != 0) abandon("fsync failed");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    fail(Kind::Io, path, "close failed: " + errno_text());
  }
  int r = ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
    // File systems without RENAME_NOREPLACE: link() also refuses to replace.
    r = ::link(tmp.c_str(), path.c_str());
    if (r == 0) ::unlink(tmp.c_str());
  }
  if (r != 0) {
    int saved = errno;
    ::unlink(tmp.c_str());
    if (saved == EEXIST) fail(Kind::Exists, path, "file exists; refusing to overwrite it");
    errno = saved;
    fail(Kind::Io, path, "rename failed: " + errno_text());
  }
  fsync_dir(dir);
}

}  // namespace

const char* to_string(KeystoreError::Kind kind) {
  switch (kind) {
    case Kind::WrongPassword:
      return "wrong password";
    case Kind::Tampered:
      return "tampered";
    case Kind::Corrupt:
      return "corrupt";
    case Kind::Io:
      return "i/o error";
    case Kind::Exists:
      return "exists";
    case Kind::Permissions:
      return "unsafe permissions";
  }
  return "unknown";
}

void create_keystore(const std::filesystem::path& path, const tron::PrivateKey& key,
                     std::string_view password) {
  create_keystore(path, key, password, ScryptParams{});
}

void create_keystore(const std::filesystem::path& path, const tron::PrivateKey& key,
                     std::string_view password, const ScryptParams& params) {
  if (password.empty()) throw std::invalid_argument("an empty password is not allowed");
  check_params(params, path);
  std::error_code ec;
  if (std::filesystem::symlink_status(path, ec).type() != std::filesystem::file_type::not_found) {
    fail(Kind::Exists, path, "file exists; refusing to overwrite it");
  }
  tron::Bytes salt = random_bytes(kSaltSize);
  tron::Bytes iv = random_bytes(kIvSize);
  CryptoPP::SecByteBlock derived = derive(password, salt, params);

  json doc = {{"version", kVersion},
              {"address", key.address().to_base58()},
              {"kdf",
               {{"name", "scrypt"},
                {"n", params.n},
                {"r", params.r},
                {"p", params.p},
                {"salt", tron::to_hex(salt)}}},
              {"cipher", {{"name", "aes-256-gcm"}, {"iv", tron::to_hex(iv)}}}};
  tron::Bytes ciphertext(kKeySize);
  tron::Bytes tag(kTagSize);
  gcm(true, derived.data(), iv, header_of(doc).dump(), key.secret().data(), kKeySize,
      ciphertext.data(), tag.data());
  doc["check"] = tron::to_hex(check_value(derived));
  doc["ciphertext"] = tron::to_hex(ciphertext);
  doc["tag"] = tron::to_hex(tag);
  doc["checksum"] = checksum_of(doc);
  write_new_file(path, doc.dump(2) + "\n");
}

tron::PrivateKey open_keystore(const std::filesystem::path& path, std::string_view password) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(Kind::Io, path, "cannot open: " + errno_text());
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", static_cast<unsigned>(st.st_mode & 0777));
    fail(Kind::Permissions, path,
         std::string("mode ") + mode +
             " lets other users read or change it; run chmod 600 on the file");
  }
  Parsed p = parse(path);
  CryptoPP::SecByteBlock derived = derive(password, p.salt, p.params);
  tron::Hash32 check = check_value(derived);
  if (CRYPTO_memcmp(check.data(), p.check.data(), check.size()) != 0) {
    fail(Kind::WrongPassword, path, "wrong password");
  }
  CryptoPP::SecByteBlock secret(kKeySize);
  if (!gcm(false, derived.data(), p.iv, header_of(p.doc).dump(), p.ciphertext.data(), kKeySize,
           secret.data(), p.tag.data())) {
    fail(Kind::Tampered, path,
         "authentication failed although the password is right: the file was tampered with");
  }
  std::optional<tron::PrivateKey> key;
  try {
    key = tron::PrivateKey::from_bytes(std::span<const std::uint8_t>(secret.data(), kKeySize));
  } catch (const std::invalid_argument&) {
    fail(Kind::Tampered, path, "decrypted secret is not a valid key");
  }
  if (key->address() != p.address) {
    fail(Kind::Tampered, path, "the key does not match the stored address");
  }
  return *key;
}

tron::Address keystore_address(const std::filesystem::path& path) {
  return parse(path).address;
}

tron::Address verified_keystore_address(const std::filesystem::path& path,
                                        std::string_view password) {
  // open_keystore authenticates the stored address (GCM associated data) and checks that it
  // is the address of the decrypted key.
  return open_keystore(path, password).address();
}

}  // namespace wallet
