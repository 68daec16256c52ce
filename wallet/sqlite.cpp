#include "wallet/sqlite.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wallet {

namespace {

// The ledger names counterparties, txids and signed transactions: for its owner only, like
// the keystore. A new file is made 0600 before SQLite opens it (SQLite gives its -wal and
// -shm files the database's mode); files an older version made 0644 are tightened.
void make_private(const std::string& path) {
  if (path.empty() || path == ":memory:" || path.rfind("file:", 0) == 0) return;
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw DbError(SQLITE_CANTOPEN, "cannot open database " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && (st.st_mode & 077) != 0 && ::fchmod(fd, 0600) != 0) {
    int saved = errno;
    ::close(fd);
    throw DbError(SQLITE_PERM,
                  "cannot make database " + path + " private (chmod 600): " + std::strerror(saved));
  }
  ::close(fd);
  for (const char* suffix : {"-wal", "-shm", "-journal"}) {
    std::string side = path + suffix;
    if (::stat(side.c_str(), &st) == 0 && (st.st_mode & 077) != 0) ::chmod(side.c_str(), 0600);
  }
}

// SQLite's text, and a plain word when the disk is full: SQLite reports ENOSPC as
// SQLITE_FULL on writes but as a generic I/O error when its shared-memory file cannot grow.
std::string describe(sqlite3* db, int rc, const std::string& text) {
  bool full = (rc & 0xff) == SQLITE_FULL || (db != nullptr && sqlite3_system_errno(db) == ENOSPC);
  return full ? text + " (no space left on the disk that holds the database)" : text;
}

}  // namespace

bool DbError::constraint() const {
  return (code & 0xff) == SQLITE_CONSTRAINT;
}

Db::Db(const std::string& path, int busy_timeout_ms) {
  make_private(path);
  int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close(db_);
    db_ = nullptr;
    throw DbError(rc, "cannot open database " + path + ": " + describe(db_, rc, msg));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms);
  try {
    exec("PRAGMA journal_mode=WAL");
    // FULL in WAL mode syncs the log on every commit: a committed step survives power loss.
    exec("PRAGMA synchronous=FULL");
    exec("PRAGMA foreign_keys=ON");
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

Db::~Db() {
  sqlite3_close_v2(db_);
}

void Db::raise(int code, std::string_view context) const {
  throw DbError(code, std::string(context) + ": " + describe(db_, code, sqlite3_errmsg(db_)));
}

void Db::exec(std::string_view sql) {
  std::string s(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    throw DbError(rc, "sql failed: " + describe(db_, rc, msg));
  }
}

std::int64_t Db::last_insert_rowid() const {
  return sqlite3_last_insert_rowid(db_);
}
int Db::changes() const {
  return sqlite3_changes(db_);
}

Statement::Statement(Db& db, std::string_view sql) : db_(db) {
  int rc =
      sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &stmt_, nullptr);
  if (rc != SQLITE_OK) db_.raise(rc, "prepare");
}

Statement::~Statement() {
  sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) db_.raise(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
  int rc = sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()),
                             SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.raise(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::vector<std::uint8_t>& blob) {
  int rc =
      sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) db_.raise(rc, "bind");
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& value) {
  return value ? bind(index, std::string_view(*value)) : bind_null(index);
}

Statement& Statement::bind(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Statement& Statement::bind_null(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) db_.raise(rc, "bind");
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  sqlite3_reset(stmt_);
  db_.raise(rc, "step");
}

void Statement::run() {
  while (step()) {
  }
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

std::int64_t Statement::int64(int column) const {
  return sqlite3_column_int64(stmt_, column);
}

std::string Statement::text(int column) const {
  auto p = sqlite3_column_text(stmt_, column);
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
           : std::string();
}

std::optional<std::string> Statement::opt_text(int column) const {
  if (is_null(column)) return std::nullopt;
  return text(column);
}

std::optional<std::int64_t> Statement::opt_int64(int column) const {
  if (is_null(column)) return std::nullopt;
  return int64(column);
}

std::vector<std::uint8_t> Statement::blob(int column) const {
  auto p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, column));
  int n = sqlite3_column_bytes(stmt_, column);
  return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>();
}

DbTransaction::DbTransaction(Db& db, Durability durability) : db_(db), durability_(durability) {
  // The level can change only between transactions, so it is set here and put back after.
  if (durability_ == Durability::ordered) db_.exec("PRAGMA synchronous=NORMAL");
  try {
    db_.exec("BEGIN IMMEDIATE");
  } catch (...) {
    restore_sync();
    throw;
  }
}

DbTransaction::~DbTransaction() {
  if (!done_) {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
    restore_sync();
  }
}

void DbTransaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
  restore_sync();
}

void DbTransaction::restore_sync() {
  if (durability_ != Durability::ordered) return;
  try {
    db_.exec("PRAGMA synchronous=FULL");
  } catch (...) {
    // Only a broken connection refuses a PRAGMA; its next statement reports that.
  }
}

}  // namespace wallet
