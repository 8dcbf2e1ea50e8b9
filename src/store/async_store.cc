#include "store/async_store.h"

namespace credgate::store {

AsyncStore::AsyncStore(std::unique_ptr<Store> store)
    : store_(std::make_unique<TimedStore>(std::move(store), latency_)) {}

AsyncStore::~AsyncStore() { thread_.join(); }

}  // namespace credgate::store
