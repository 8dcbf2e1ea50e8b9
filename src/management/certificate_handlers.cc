// Handlers::PutCertificate, apart from handlers_write.cc so that the certificate resource stays
// in its own files.
#include <boost/json.hpp>

#include "crypto/keyring.h"
#include "management/certificates.h"
#include "management/handlers.h"
#include "management/routes.h"
#include "store/async_store.h"

namespace credgate::management {

namespace json = boost::json;
using boost::asio::awaitable;

awaitable<Result<json::value>> Handlers::PutCertificate(const ResourcePath& path,
                                                        const json::object& body, int& status) {
  auto entry = ParseCertificate(path.first, body);
  if (!entry.ok()) co_return entry.error();
  auto snapshot = services_.config->Current();
  CREDGATE_CO_RETURN_IF_ERROR(CheckCertificate(*snapshot, *entry));

  auto record = CertificateRecord(StoreKey(path), **entry, *services_.keyring);
  if (!record.ok()) co_return record.error();
  // A named local: g++ 12 destroys a lambda's captures twice when the lambda is written inside a
  // co_await expression.
  auto put = [record = std::move(*record)](store::Store& s) { return s.Put(record); };
  auto saved = co_await services_.store->Run(std::move(put));
  if (!saved.ok()) co_return saved.error();

  CREDGATE_CO_RETURN_IF_ERROR(services_.config->Update(
      [&](runtime::Snapshot& next) { return SetCertificate(next, *entry, status); }));
  co_return json::value(RenderCertificate(**entry));
}

}  // namespace credgate::management
