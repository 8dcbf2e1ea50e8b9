#include "store/open_store.h"

#include "store/postgres_change_feed.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"

namespace credgate::store {

namespace {

constexpr std::string_view kSqliteScheme = "sqlite:";

Error UnknownUrl(std::string_view store_url) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "unsupported store URL '" + RedactStoreUrl(store_url) +
                       "'; use sqlite:///absolute/path.db, sqlite:relative/path.db or "
                       "postgresql://user:password@host:port/database");
}

// Returns the file path of a sqlite: URL.
Result<std::string> SqlitePath(std::string_view store_url) {
  std::string_view rest = store_url.substr(kSqliteScheme.size());
  if (rest.starts_with("//")) {
    // sqlite:///path has an empty authority; sqlite://host/path is not a local file.
    rest.remove_prefix(2);
    if (!rest.starts_with("/")) return UnknownUrl(store_url);
  }
  if (rest.empty()) return UnknownUrl(store_url);
  return std::string(rest);
}

}  // namespace

bool IsPostgresUrl(std::string_view store_url) {
  return store_url.starts_with("postgresql://") || store_url.starts_with("postgres://");
}

std::string RedactStoreUrl(std::string_view store_url) {
  if (IsPostgresUrl(store_url)) return RedactPostgresUrl(store_url);
  if (store_url.starts_with(kSqliteScheme)) return std::string(store_url);
  return "(unrecognised store URL)";
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view store_url,
                                         const StoreOpenOptions& options) {
  if (IsPostgresUrl(store_url)) {
    auto store = PostgresStore::Open({.url = std::string(store_url),
                                      .pool_size = options.postgres_pool_size,
                                      .acquire_timeout = options.timeout});
    if (!store.ok()) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  if (store_url.starts_with(kSqliteScheme)) {
    auto path = SqlitePath(store_url);
    if (!path.ok()) return path.error();
    auto store = SqliteStore::Open({.path = *path, .busy_timeout = options.timeout});
    if (!store.ok()) return store.error();
    return std::unique_ptr<Store>(std::move(*store));
  }
  return UnknownUrl(store_url);
}

Result<std::unique_ptr<ChangeFeed>> OpenChangeFeed(std::string_view store_url) {
  if (IsPostgresUrl(store_url)) {
    return std::unique_ptr<ChangeFeed>(std::make_unique<PostgresChangeFeed>(
        PostgresChangeFeedOptions{.url = std::string(store_url)}));
  }
  if (store_url.starts_with(kSqliteScheme)) {
    auto path = SqlitePath(store_url);
    if (!path.ok()) return path.error();
    return std::unique_ptr<ChangeFeed>();
  }
  return UnknownUrl(store_url);
}

}  // namespace credgate::store
