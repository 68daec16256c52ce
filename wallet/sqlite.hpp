#pragma once
// A thin RAII layer over SQLite: a connection, prepared statements with typed binds, and a
// transaction guard that rolls back unless committed. Errors throw wallet::DbError.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace wallet {

struct DbError : std::runtime_error {
  int code;
  DbError(int code, const std::string& message) : std::runtime_error(message), code(code) {}
  bool constraint() const;  // a UNIQUE/CHECK constraint refused the write
};

class Db;

class Statement {
 public:
  Statement(Db& db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Binds are 1-based, as in SQL.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view value);
  Statement& bind(int index, const std::vector<std::uint8_t>& blob);
  Statement& bind(int index, const std::optional<std::string>& value);
  Statement& bind(int index, const std::optional<std::int64_t>& value);
  Statement& bind_null(int index);

  bool step();  // true while a row is available
  void run();   // steps to completion
  void reset();

  bool is_null(int column) const;
  std::int64_t int64(int column) const;
  std::string text(int column) const;
  std::optional<std::string> opt_text(int column) const;
  std::optional<std::int64_t> opt_int64(int column) const;
  std::vector<std::uint8_t> blob(int column) const;

 private:
  Db& db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Db {
 public:
  // Opens (creating if needed) with WAL, synchronous=FULL, foreign keys and a busy timeout.
  explicit Db(const std::string& path, int busy_timeout_ms = 10'000);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(std::string_view sql);
  std::int64_t last_insert_rowid() const;
  int changes() const;
  sqlite3* handle() { return db_; }
  [[noreturn]] void raise(int code, std::string_view context) const;

 private:
  sqlite3* db_ = nullptr;
};

// How far a commit must have reached before COMMIT returns.
enum class Durability {
  // Synced to disk: it survives a power loss (synchronous=FULL, the connection's default).
  synced,
  // Written to the log but not synced: it survives the process being killed, and a power loss
  // can take only it and other unsynced commits after the last synced one, never an earlier
  // step. For steps the next synced commit, or the chain itself, makes good again.
  ordered,
};

// BEGIN IMMEDIATE ... COMMIT; rolls back when destroyed uncommitted.
class DbTransaction {
 public:
  explicit DbTransaction(Db& db, Durability durability = Durability::synced);
  ~DbTransaction();
  void commit();

 private:
  void restore_sync();

  Db& db_;
  Durability durability_;
  bool done_ = false;
};

}  // namespace wallet
