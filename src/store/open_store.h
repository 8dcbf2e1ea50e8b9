// Opens the store and the change feed that a store URL names, so that the application selects
// the backend with one flag. The accepted forms:
//
//   sqlite:///var/lib/credgate/credgate.db    SqliteStore on an absolute path.
//   sqlite:credgate.db                        SqliteStore on a path relative to the working
//                                             folder.
//   postgresql://user:password@host:5432/db   PostgresStore. postgres:// is accepted too. Any
//                                             libpq URI parameter may follow, for example
//                                             ?sslmode=verify-full, or
//                                             ?options=-csearch_path%3Dcredgate to keep the
//                                             tables in an existing schema "credgate".
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"
#include "store/change_feed.h"
#include "store/store.h"

namespace credgate::store {

struct StoreOpenOptions {
  // SQLite: how long a call waits for another process's lock. PostgreSQL: how long a call
  // waits for a free pooled connection, and the connect timeout. Either way the call then fails
  // with kUnavailable.
  std::chrono::milliseconds timeout{5000};
  size_t postgres_pool_size = 4;  // PostgreSQL only: the maximum number of open connections.
};

// True for postgresql:// and postgres:// URLs.
bool IsPostgresUrl(std::string_view store_url);

// Returns `store_url` without a password, for logs and messages.
std::string RedactStoreUrl(std::string_view store_url);

// Opens the store, applying schema migrations. Fails with kInvalidArgument for a URL of another
// form, and as SqliteStore::Open or PostgresStore::Open do.
Result<std::unique_ptr<Store>> OpenStore(std::string_view store_url,
                                         const StoreOpenOptions& options = {});

// Returns an unstarted PostgresChangeFeed for a PostgreSQL URL, and nullptr for SQLite, whose
// file only one process uses, so there is nothing to listen to. Fails with kInvalidArgument for
// a URL of another form.
Result<std::unique_ptr<ChangeFeed>> OpenChangeFeed(std::string_view store_url);

}  // namespace credgate::store
