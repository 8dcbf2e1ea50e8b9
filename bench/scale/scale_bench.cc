// Scale benchmark: a store with many connections, each with one access policy and stored tokens,
// under a few providers. It measures what `credgate serve` does with such a store:
//   - start-up: open the store, load the configuration snapshot and every connection's tokens
//     (management::LoadFromStore and LoadTokensFromStore, as serve.cc calls them);
//   - resident memory per connection: the VmRSS growth of the load divided by the connections;
//   - request-path lookup latency: the steps get-authorization-context takes for a random
//     connection (snapshot, provider and connection lookup, access-policy match, cached access
//     token), each timed with steady_clock;
//   - the refresh scheduler: the cost of one scan over every connection, and the start plan of
//     a cohort of tokens that expire in the same hour under the refresh rate limit.
//
// The store is filled through a bulk path: one SQLite transaction with synchronous=OFF that
// inserts the records ManagementService would write, sealed with a fixed test master key.
// Usage: scale_bench [--connections N] [--providers N] [--lookups N] [--refresh-tokens N]
//                    [--max-refresh-rate N] [--dir PATH] [--reuse]
#include <time.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/allocator.h"
#include "common/random.h"
#include "credentials/access_policy.h"
#include "credentials/refresh_scheduler.h"
#include "credentials/refresh_timing.h"
#include "credentials/token_client.h"
#include "credentials/token_manager.h"
#include "crypto/keyring.h"
#include "http/pooled_client.h"
#include "identity/validator.h"
#include "management/persistence.h"
#include "management/resources.h"
#include "management/token_persistence.h"
#include "runtime/services.h"
#include "store/async_store.h"
#include "store/sqlite_database.h"
#include "store/sqlite_store.h"

namespace credgate::bench {
namespace {

using Steady = std::chrono::steady_clock;

struct Options {
  size_t connections = 1'000'000;
  size_t providers = 5;
  size_t lookups = 1'000'000;
  size_t refresh_tokens = 100'000;
  int max_refresh_rate = 100;
  // The catalogue entry of every provider. "oauth2" states no refresh token lifetime, so the
  // scheduler indexes only the connections that a request used. "google" states an idle
  // lifetime, so the scheduler indexes every connection.
  std::string identity_provider = "oauth2";
  std::string dir = "/tmp/credgate-scale-bench";
  bool reuse = false;  // Keep a store that a previous run with the same counts filled.
};

constexpr char kTenant[] = "72f988bf-86f1-41af-91ab-2d7cd011db47";

std::string ProviderId(size_t index) { return "provider" + std::to_string(index); }
std::string ConnectionId(size_t index) { return "user" + std::to_string(index); }
std::string ProviderOf(size_t connection, const Options& options) {
  return ProviderId(connection % options.providers);
}
// A GUID-shaped object id, distinct per connection.
std::string ObjectId(size_t index) {
  char text[48];
  std::snprintf(text, sizeof(text), "00000000-0000-4000-8000-%012zx", index);
  return text;
}

// CPU time of this process in seconds: on a shared machine the wall time of a phase also
// contains the time other processes held the cores.
double CpuSeconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

double Seconds(Steady::duration elapsed) {
  return std::chrono::duration<double>(elapsed).count();
}

// Returns a field of /proc/self/status in KiB, for example "VmRSS".
long StatusKib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with(field + ":")) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

void Check(const Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s failed: %s\n", what, status.error().message.c_str());
    std::exit(1);
  }
}

crypto::Keyring TestKeyring() {
  auto keyring = crypto::Keyring::Create({crypto::MasterKey{"k1", Secret(std::string(32, 'k'))}});
  if (!keyring.ok()) {
    std::fprintf(stderr, "keyring: %s\n", keyring.error().message.c_str());
    std::exit(1);
  }
  return std::move(*keyring);
}

credentials::TokenSet MakeTokens(size_t index, TimePoint obtained, TimePoint expires) {
  credentials::TokenSet tokens;
  // 40-character tokens, the size GitHub issues; JWT access tokens are 1-2 KB.
  char access[48];
  std::snprintf(access, sizeof(access), "gho_%036zx", index);
  tokens.access_token = Secret(std::string(access));
  tokens.refresh_token = Secret("ghr_" + std::string(access + 4));
  tokens.obtained_at = obtained;
  tokens.expires_at = expires;
  tokens.token_type = "Bearer";
  tokens.scope = "repo user";
  return tokens;
}

// Fills the store in one transaction.
void Populate(const std::string& path, const Options& options, const crypto::Keyring& keyring) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  {
    auto created = store::SqliteStore::Open({.path = path});  // Creates the schema.
    Check(created.ok() ? OkStatus() : Status(created.error()), "create store");
  }
  auto database = store::SqliteDatabase::Open(path, std::chrono::seconds(5));
  Check(database.ok() ? OkStatus() : Status(database.error()), "open database");
  store::SqliteDatabase& db = **database;
  Check(db.Exec("PRAGMA synchronous=OFF", "bulk"), "pragma");
  auto transaction = store::SqliteTransaction::Begin(db, "bulk insert");
  Check(transaction.ok() ? OkStatus() : Status(transaction.error()), "begin");

  auto insert_resource = [&](const store::ResourceRecord& record) {
    auto statement = db.Prepare(
        "INSERT INTO resources (kind, key, parent_key, body_json, version, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, 1, 0)",
        "bulk insert");
    Check(statement.ok() ? OkStatus() : Status(statement.error()), "prepare");
    (*statement)->BindText(1, record.kind);
    (*statement)->BindText(2, record.key);
    (*statement)->BindText(3, record.parent_key);
    (*statement)->BindText(4, record.body_json);
    Check((*statement)->Run("bulk insert"), "insert resource");
  };

  for (size_t p = 0; p < options.providers; ++p) {
    const std::string id = ProviderId(p);
    const std::string generic = R"({"properties":{"displayName":"Provider",
      "identityProvider":"oauth2","oauth2":{"grantTypes":{"authorizationCode":{
      "clientId":"client","clientSecret":"secret","scopes":"repo user",
      "authorizationUrl":"https://idp.example/authorize",
      "tokenUrl":"https://idp.example/token"}}}}})";
    // The catalogue entry supplies the URLs and the refresh token lifetime.
    const std::string from_catalogue =
        R"({"properties":{"displayName":"Provider","identityProvider":)" +
        boost::json::serialize(boost::json::string(options.identity_provider)) +
        R"(,"oauth2":{"grantTypes":{"authorizationCode":{
      "clientId":"client","clientSecret":"secret"}}}}})";
    auto body =
        management::ParseJsonBody(options.identity_provider == "oauth2" ? generic : from_catalogue);
    Check(body.ok() ? OkStatus() : Status(body.error()), "provider body");
    auto resource = management::ParseProvider(id, *body);
    Check(resource.ok() ? OkStatus() : Status(resource.error()), "provider");
    auto record = management::ProviderRecord("authorizationProviders/" + id, *resource,
                                             resource->client_secret, keyring);
    Check(record.ok() ? OkStatus() : Status(record.error()), "provider record");
    insert_resource(*record);
  }

  const TimePoint now = std::chrono::system_clock::now();
  for (size_t i = 0; i < options.connections; ++i) {
    const std::string provider = ProviderOf(i, options);
    const std::string id = ConnectionId(i);
    const std::string key = management::ConnectionStoreKey(provider + "/" + id);
    management::ConnectionResource connection;
    connection.provider_id = provider;
    connection.id = id;
    auto record = management::ConnectionRecord(key, "authorizationProviders/" + provider,
                                               connection, keyring);
    Check(record.ok() ? OkStatus() : Status(record.error()), "connection record");
    insert_resource(*record);

    management::AccessPolicyResource policy{provider, id, "owner", kTenant, ObjectId(i), {}};
    insert_resource(store::ResourceRecord{"accessPolicy", key + "/accessPolicies/owner", key,
                                          boost::json::serialize(RenderAccessPolicy(policy)), 0,
                                          0});

    // Far from expiry, so that no lookup refreshes.
    const credentials::TokenSet tokens = MakeTokens(i, now, now + std::chrono::hours(24 * 30));
    auto sealed = keyring.Seal(credentials::SerializeTokenSet(tokens), key);
    Check(sealed.ok() ? OkStatus() : Status(sealed.error()), "seal");
    auto statement = db.Prepare(
        "INSERT INTO tokens (connection_key, sealed_tokens, version, expires_at, updated_at) "
        "VALUES (?1, ?2, 1, ?3, 0)",
        "bulk insert");
    Check(statement.ok() ? OkStatus() : Status(statement.error()), "prepare");
    (*statement)->BindText(1, key);
    (*statement)->BindBlob(2, *sealed);
    (*statement)->BindInt64(3, ToUnixSeconds(*tokens.expires_at));
    Check((*statement)->Run("bulk insert"), "insert tokens");
  }
  Check((*transaction)->Commit(), "commit");
}

// The objects `credgate serve` builds before it loads the store (serve.cc, Start).
struct Process {
  explicit Process(const crypto::Keyring& keyring_in) : keyring(keyring_in) {}

  SystemClock clock;
  OpenSslRandom random;
  const crypto::Keyring& keyring;
  runtime::ConfigState config;
  runtime::ConnectionStatusTable statuses;
  std::unique_ptr<store::AsyncStore> store;
  std::shared_ptr<http::PooledHttpClient> http_client;
  std::unique_ptr<identity::JwtValidator> validator;
  std::unique_ptr<credentials::TokenClient> token_client;
  runtime::Services services;
  std::unique_ptr<management::StoreTokenPersistence> persistence;
  std::unique_ptr<credentials::TokenManager> tokens;
  // Created before the tokens load, as serve.cc does, so its change feed receives every load.
  boost::asio::io_context scheduler_io;
  std::unique_ptr<credentials::RefreshScheduler> scheduler;
};

struct StartTimes {
  double open = 0, configuration = 0, tokens = 0;  // Seconds.
  double cpu = 0;  // CPU seconds of the three phases.
  long configuration_kib = 0;  // VmRSS after the configuration load, before the tokens.
  size_t configuration_heap = 0;  // Heap bytes in use after the configuration load.
};

StartTimes Start(Process& p, const std::string& path,
                 const credentials::RefreshScheduler::Options& scheduler_options) {
  StartTimes times;
  const Steady::time_point started = Steady::now();
  const double cpu_started = CpuSeconds();
  auto opened = store::SqliteStore::Open({.path = path});
  Check(opened.ok() ? OkStatus() : Status(opened.error()), "open store");
  p.store = std::make_unique<store::AsyncStore>(std::move(*opened));
  auto http_client = http::PooledHttpClient::Create({});
  Check(http_client.ok() ? OkStatus() : Status(http_client.error()), "http client");
  p.http_client = std::move(*http_client);
  p.validator = std::make_unique<identity::JwtValidator>(
      p.http_client, std::shared_ptr<const Clock>(&p.clock, [](const Clock*) {}));
  p.token_client = std::make_unique<credentials::TokenClient>(*p.http_client, p.clock);
  p.services.clock = &p.clock;
  p.services.config = &p.config;
  p.services.statuses = &p.statuses;
  p.services.store = p.store.get();
  p.services.keyring = &p.keyring;
  p.services.token_client = p.token_client.get();
  p.services.validator = p.validator.get();
  p.services.http_client = p.http_client.get();
  p.persistence = std::make_unique<management::StoreTokenPersistence>(p.services);
  p.tokens = std::make_unique<credentials::TokenManager>(*p.token_client, *p.persistence, p.clock,
                                                         p.random,
                                                         credentials::TokenManager::Options());
  p.services.tokens = p.tokens.get();
  p.statuses.ReadConnectedFromTokens(p.tokens.get());
  p.scheduler = std::make_unique<credentials::RefreshScheduler>(
      p.scheduler_io.get_executor(), *p.tokens, p.clock, p.random, scheduler_options);
  store::Store& blocking = p.store->blocking_store();
  const Steady::time_point opened_at = Steady::now();
  Check(management::LoadFromStore(blocking, p.services), "load configuration");
  const Steady::time_point configured_at = Steady::now();
  times.cpu = CpuSeconds() - cpu_started;
  ReleaseFreedMemory();
  times.configuration_kib = StatusKib("VmRSS");
  times.configuration_heap = HeapBytes();
  const Steady::time_point tokens_started = Steady::now();
  const double cpu_tokens_started = CpuSeconds();
  Check(management::LoadTokensFromStore(blocking, p.services), "load tokens");
  times.open = Seconds(opened_at - started);
  times.configuration = Seconds(configured_at - opened_at);
  times.tokens = Seconds(Steady::now() - tokens_started);
  times.cpu += CpuSeconds() - cpu_tokens_started;
  return times;
}

struct Percentiles {
  double p50 = 0, p99 = 0, p999 = 0, max = 0;
};

Percentiles Summarize(std::vector<uint32_t>& nanos) {
  std::sort(nanos.begin(), nanos.end());
  auto at = [&](double q) {
    return nanos[std::min(nanos.size() - 1, static_cast<size_t>(q * nanos.size()))] / 1000.0;
  };
  return {at(0.50), at(0.99), at(0.999), nanos.back() / 1000.0};
}

// The get-authorization-context steps of AuthorizationService::Issue after the caller's JWT is
// validated (its validation has its own cache and benchmark).
boost::asio::awaitable<void> Lookups(Process& p, const Options& options,
                                     std::vector<uint32_t>& nanos, size_t& failures,
                                     size_t& used_connections) {
  std::mt19937_64 generator(7);
  std::uniform_int_distribution<size_t> pick(0, options.connections - 1);
  struct Request {
    std::string provider_id;
    std::string connection_id;
    credentials::CallerClaims caller;
  };
  // Requests are built ahead, so the timing covers only the lookup.
  std::vector<Request> requests(std::min<size_t>(options.lookups, 65'536));
  for (Request& request : requests) {
    const size_t index = pick(generator);
    request.provider_id = ProviderOf(index, options);
    request.connection_id = ConnectionId(index);
    request.caller.tenant_id = kTenant;
    request.caller.object_id = ObjectId(index);
  }
  {
    std::vector<std::string> keys;
    for (const Request& request : requests) {
      keys.push_back(runtime::ConnectionKey(request.provider_id, request.connection_id));
    }
    std::sort(keys.begin(), keys.end());
    used_connections = static_cast<size_t>(std::unique(keys.begin(), keys.end()) - keys.begin());
  }
  nanos.reserve(options.lookups);
  for (size_t i = 0; i < options.lookups; ++i) {
    const Request& request = requests[(i * 40503) % requests.size()];
    const Steady::time_point started = Steady::now();
    auto snapshot = p.config.Current();
    const std::string key = runtime::ConnectionKey(request.provider_id, request.connection_id);
    auto connection = snapshot->connections.find(key);
    bool ok = snapshot->providers.contains(request.provider_id) &&
              connection != snapshot->connections.end();
    if (ok) {
      ok = connection->second->access_policies.Match(request.caller, key).ok();
    }
    if (ok) ok = (co_await p.tokens->GetAccessToken(key)).ok();
    const Steady::duration elapsed = Steady::now() - started;
    if (!ok) ++failures;
    nanos.push_back(static_cast<uint32_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count()));
  }
}

// Plans the refreshes of `count` used tokens that expire within the same hour, as one scheduler
// scan does, and prints the largest number of starts in one second with and without the limit.
void PlanRefreshes(const Options& options) {
  const TimePoint now = std::chrono::system_clock::now();
  const TimePoint hour = now + std::chrono::hours(1);
  std::mt19937_64 generator(11);
  std::uniform_real_distribution<double> fraction(0, 1);
  auto provider = std::make_shared<credentials::ProviderConfig>();
  const credentials::RefreshTiming timing;
  credentials::RefreshScheduler::Options scheduler_options;
  scheduler_options.max_refresh_rate = options.max_refresh_rate;

  struct Case {
    const char* name;
    bool same_second;  // Every token expires in the same second of the hour.
  };
  for (const Case& c : {Case{"uniform over the hour", false}, Case{"same second", true}}) {
    std::vector<TimePoint> due;
    std::vector<TimePoint> expiry;
    std::vector<std::pair<TimePoint, TimePoint>> due_expiry;
    for (size_t i = 0; i < options.refresh_tokens; ++i) {
      const auto offset = c.same_second ? std::chrono::seconds(1800)
                                        : std::chrono::seconds(static_cast<int>(
                                              fraction(generator) * 3600));
      // Obtained an hour before expiry, like a one-hour token.
      credentials::TokenManager::RefreshCandidate candidate;
      candidate.tokens = std::make_shared<const credentials::TokenSet>(
          MakeTokens(i, hour + offset - std::chrono::hours(1), hour + offset));
      candidate.provider = provider;
      candidate.used = true;
      auto at = credentials::RefreshScheduler::DueAt(candidate, timing, scheduler_options,
                                                     fraction(generator));
      due_expiry.emplace_back(*at, *candidate.tokens->expires_at);
    }
    std::sort(due_expiry.begin(), due_expiry.end());
    for (const auto& [d, e] : due_expiry) {
      due.push_back(d);
      expiry.push_back(e);
    }
    const Steady::time_point started = Steady::now();
    const std::vector<TimePoint> starts =
        credentials::PlanRefreshStarts(due, now, options.max_refresh_rate);
    const double plan_ms = Seconds(Steady::now() - started) * 1000;
    auto max_per_second = [](const std::vector<TimePoint>& times) {
      size_t largest = 0, first = 0;
      for (size_t last = 0; last < times.size(); ++last) {
        while (times[last] - times[first] >= std::chrono::seconds(1)) ++first;
        largest = std::max(largest, last - first + 1);
      }
      return largest;
    };
    size_t late = 0;
    for (size_t i = 0; i < starts.size(); ++i) late += starts[i] > expiry[i] ? 1 : 0;
    std::printf(
        "refresh plan (%zu tokens, %s): max per second unlimited %zu, with max_refresh_rate=%d "
        "%zu; first start %.0f s before the earliest due time; late %zu; plan %.1f ms\n",
        options.refresh_tokens, c.name, max_per_second(due), options.max_refresh_rate,
        max_per_second(starts), Seconds(due.front() - starts.front()), late, plan_ms);
  }
}

int Run(const Options& options) {
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::create_directories(options.dir);
  const std::string path =
      options.dir + "/credgate-" + std::to_string(options.connections) + "x" +
      std::to_string(options.providers) +
      (options.identity_provider == "oauth2" ? std::string() : "-" + options.identity_provider) +
      ".db";
  const crypto::Keyring keyring = TestKeyring();
  if (!options.reuse || !std::filesystem::exists(path)) {
    const Steady::time_point started = Steady::now();
    Populate(path, options, keyring);
    std::printf("store filled: %zu connections, %zu providers, %.1f s, %.0f MiB\n",
                options.connections, options.providers, Seconds(Steady::now() - started),
                std::filesystem::file_size(path) / 1048576.0);
    std::fflush(stdout);
  }

  ReleaseFreedMemory();
  const long rss_before = StatusKib("VmRSS");
  const size_t heap_before = HeapBytes();
  credentials::RefreshScheduler::Options scheduler_options;
  scheduler_options.max_refresh_rate = options.max_refresh_rate;
  Process p(keyring);
  const StartTimes times = Start(p, path, scheduler_options);
  const long rss_loaded = StatusKib("VmRSS");
  ReleaseFreedMemory();
  const long rss_trimmed = StatusKib("VmRSS");
  const double n = static_cast<double>(options.connections);
  std::printf(
      "start-up: %.2f s wall, %.2f s CPU (open store %.2f s, configuration %.2f s, tokens "
      "%.2f s; the release of freed memory between the two loads is not counted)\n",
      times.open + times.configuration + times.tokens, times.cpu, times.open,
      times.configuration, times.tokens);
  std::printf(
      "memory: %.0f B per connection resident after load (%.0f B after releasing freed memory: "
      "configuration %.0f B, tokens and statuses %.0f B), peak VmHWM %ld MiB\n",
      (rss_loaded - rss_before) * 1024.0 / n, (rss_trimmed - rss_before) * 1024.0 / n,
      (times.configuration_kib - rss_before) * 1024.0 / n,
      (rss_trimmed - times.configuration_kib) * 1024.0 / n, StatusKib("VmHWM") / 1024);
  // The allocator's own count (common/allocator.h), without the free holes that VmRSS keeps.
  const size_t heap_loaded = HeapBytes();
  std::printf(
      "heap (%s): %.0f B per connection (configuration %.0f B, tokens and statuses %.0f B)\n",
      AllocatorName().c_str(),
      static_cast<double>(heap_loaded - heap_before) / n,
      static_cast<double>(times.configuration_heap - heap_before) / n,
      static_cast<double>(heap_loaded - times.configuration_heap) / n);
  std::fflush(stdout);

  boost::asio::io_context io;
  std::vector<uint32_t> nanos;
  size_t failures = 0;
  size_t used_connections = 0;
  boost::asio::co_spawn(io, Lookups(p, options, nanos, failures, used_connections),
                        boost::asio::detached);
  const Steady::time_point lookups_started = Steady::now();
  const double lookups_cpu_started = CpuSeconds();
  io.run();
  const double lookup_seconds = Seconds(Steady::now() - lookups_started);
  const double lookup_cpu = CpuSeconds() - lookups_cpu_started;
  const Percentiles lookup = Summarize(nanos);
  std::printf(
      "lookup (%zu, random connections): p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.1f us, "
      "%.0f lookups/s on one thread, mean CPU %.2f us per lookup with its timing, %zu failed\n",
      options.lookups, lookup.p50, lookup.p99, lookup.p999, lookup.max,
      options.lookups / lookup_seconds, lookup_cpu * 1e6 / options.lookups, failures);

  // The first scan reads the change feed of the whole load (and of the looked-up connections,
  // which became used); later scans read only what changed since.
  auto scan = [&](const char* name, size_t changes) {
    const Steady::time_point scan_started = Steady::now();
    const double scan_cpu_started = CpuSeconds();
    p.scheduler->ScanOnce();
    const double cpu_ms = (CpuSeconds() - scan_cpu_started) * 1000;
    const size_t batches = (changes + scheduler_options.change_batch - 1) /
                           scheduler_options.change_batch;
    std::printf(
        "refresh scan, %s: %.0f ms wall, %.1f ms CPU, %zu changes in %zu batches of %zu "
        "(%.1f us CPU per batch), %zu connections indexed by due time\n",
        name, Seconds(Steady::now() - scan_started) * 1000, cpu_ms, changes, batches,
        scheduler_options.change_batch, batches > 0 ? cpu_ms * 1000 / batches : 0.0,
        p.scheduler->IndexedCount());
    std::fflush(stdout);
  };
  scan("first, after the load", options.connections + used_connections);
  ReleaseFreedMemory();
  std::printf("memory after the first scan: %.0f B per connection (after releasing freed memory)\n",
              (StatusKib("VmRSS") - rss_before) * 1024.0 / n);
  scan("nothing changed", 0);
  // A burst of first uses: every token set a request receives for the first time is a change.
  const size_t kFreshUses = 10'000;
  size_t fresh = 0;
  // Named, so that the closure outlives the coroutine that refers to its captures.
  auto use_connections = [&]() -> boost::asio::awaitable<void> {
    for (size_t i = 0; i < kFreshUses; ++i) {
      const size_t index = (i * 7919 + 13) % options.connections;
      const std::string key =
          runtime::ConnectionKey(ProviderOf(index, options), ConnectionId(index));
      auto token = co_await p.tokens->GetAccessToken(key);
      if (token.ok()) ++fresh;
    }
  };
  boost::asio::co_spawn(io, use_connections(), boost::asio::detached);
  io.restart();
  io.run();
  scan("after 10,000 connections were used", fresh);
  PlanRefreshes(options);
  return failures == 0 ? 0 : 1;
}

}  // namespace
}  // namespace credgate::bench

int main(int argc, char** argv) {
  credgate::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto number = [&]() -> size_t {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", flag.c_str());
        std::exit(2);
      }
      return std::stoull(argv[++i]);
    };
    if (flag == "--connections") {
      options.connections = number();
    } else if (flag == "--providers") {
      options.providers = number();
    } else if (flag == "--lookups") {
      options.lookups = number();
    } else if (flag == "--refresh-tokens") {
      options.refresh_tokens = number();
    } else if (flag == "--max-refresh-rate") {
      options.max_refresh_rate = static_cast<int>(number());
    } else if (flag == "--dir") {
      if (i + 1 >= argc) return 2;
      options.dir = argv[++i];
    } else if (flag == "--identity-provider") {
      if (i + 1 >= argc) return 2;
      options.identity_provider = argv[++i];
    } else if (flag == "--reuse") {
      options.reuse = true;
    } else {
      std::fprintf(stderr,
                   "unknown option %s\nusage: scale_bench [--connections N] [--providers N] "
                   "[--lookups N] [--refresh-tokens N] [--max-refresh-rate N] "
                   "[--identity-provider NAME] [--dir PATH] [--reuse]\n",
                   flag.c_str());
      return 2;
    }
  }
  if (options.connections == 0 || options.providers == 0 || options.lookups == 0 ||
      options.refresh_tokens == 0 || options.max_refresh_rate <= 0) {
    std::fprintf(stderr, "every count must be positive\n");
    return 2;
  }
  return credgate::bench::Run(options);
}
