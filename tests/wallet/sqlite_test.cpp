#include "wallet/sqlite.hpp"

#include <gtest/gtest.h>

#include "tests/test_files.hpp"

namespace {

using wallet::Db;
using wallet::DbTransaction;
using wallet::Durability;
using wallet::Statement;

constexpr std::int64_t kNormal = 1;
constexpr std::int64_t kFull = 2;

std::int64_t sync_level(Db& db) {
  Statement s(db, "PRAGMA synchronous");
  EXPECT_TRUE(s.step());
  return s.int64(0);
}

std::int64_t rows(Db& db) {
  Statement s(db, "SELECT COUNT(*) FROM t");
  EXPECT_TRUE(s.step());
  return s.int64(0);
}

class SqliteTest : public ::testing::Test {
 protected:
  SqliteTest() {
    Db db(path());
    db.exec("CREATE TABLE t(x INTEGER)");
  }
  std::string path() const { return (dir_ / "t.db").string(); }
  test_support::TempDir dir_;
};

TEST_F(SqliteTest, CommitsAreSyncedByDefault) {
  Db db(path());
  EXPECT_EQ(sync_level(db), kFull);
  DbTransaction tx(db);
  EXPECT_EQ(sync_level(db), kFull);
  db.exec("INSERT INTO t VALUES(1)");
  tx.commit();
  EXPECT_EQ(sync_level(db), kFull);
}

TEST_F(SqliteTest, AnOrderedCommitLeavesTheConnectionSyncedAgain) {
  {
    Db db(path());
    {
      DbTransaction tx(db, Durability::ordered);
      EXPECT_EQ(sync_level(db), kNormal);
      db.exec("INSERT INTO t VALUES(1)");
      tx.commit();
    }
    EXPECT_EQ(sync_level(db), kFull);
    {
      DbTransaction tx(db, Durability::ordered);
      db.exec("INSERT INTO t VALUES(2)");
      // Not committed: rolled back, and the level is put back all the same.
    }
    EXPECT_EQ(sync_level(db), kFull);
    DbTransaction tx(db);
    EXPECT_EQ(sync_level(db), kFull);
    tx.commit();
  }
  // What an ordered commit wrote is there for the next process.
  Db again(path());
  EXPECT_EQ(rows(again), 1);
}

}  // namespace
