// Handlers for /backends/{id}.
#include <boost/json.hpp>

#include "management/backends.h"
#include "management/handlers.h"
#include "management/routes.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

awaitable<Result<json::value>> Handlers::PutBackend(const ResourcePath& path,
                                                    const json::object& body, int& status) {
  auto resource = ParseBackend(path.first, body);
  if (!resource.ok()) co_return resource.error();
  // Check the URL before the write, as SetBackend does it again in the update.
  runtime::Snapshot scratch;
  CREDGATE_CO_RETURN_IF_ERROR(SetBackend(scratch, *resource, status));

  const std::string key = StoreKey(path);
  auto record_body = BackendRecordBody(key, *resource, *services_.keyring);
  if (!record_body.ok()) co_return record_body.error();
  store::ResourceRecord record{"backend", key, "", std::move(*record_body), 0, 0};
  // A named callable: g++ 12 destroys a lambda's captures twice when the lambda is written
  // inside a co_await expression.
  auto put = [record = std::move(record)](store::Store& s) { return s.Put(record); };
  auto saved = co_await services_.store->Run(std::move(put));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update(
      [&](runtime::Snapshot& next) { return SetBackend(next, *resource, status); }));
  co_return json::value(RenderBackend(*resource));
}

}  // namespace credgate::management
