// Header work that every proxied request does: the policy view of the request header
// (policy::HeaderMap), the Beast header copy the gateway makes for the upstream request, and the
// hop-by-hop removal the proxy applies in both directions.
#include <benchmark/benchmark.h>

#include <boost/beast/http/message.hpp>
#include <string>

#include "http/headers.h"
#include "policy/header_map.h"

namespace credgate {
namespace {

namespace bhttp = boost::beast::http;

// The fields of a typical API call from a browser or SDK, with a caller JWT.
bhttp::request_header<> RequestHeader() {
  bhttp::request_header<> header;
  header.method(bhttp::verb::get);
  header.target("/bench/whoami?page=2");
  header.version(11);
  header.set(bhttp::field::host, "gateway.example.com");
  header.set(bhttp::field::user_agent, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36");
  header.set(bhttp::field::accept, "application/json");
  header.set(bhttp::field::accept_encoding, "gzip, deflate, br");
  header.set(bhttp::field::accept_language, "en-GB,en;q=0.9");
  header.set(bhttp::field::authorization, "Bearer " + std::string(900, 'x'));
  header.set(bhttp::field::connection, "keep-alive");
  header.set("x-request-id", "4f2b8c1d-req-0001");
  header.set("x-forwarded-for", "10.0.0.7");
  header.set(bhttp::field::cookie, "session=abc; theme=dark");
  return header;
}

policy::HeaderMap PolicyHeaders(const bhttp::request_header<>& header) {
  policy::HeaderMap headers;
  headers.Reserve(16);
  for (const auto& field : header) headers.Append(field.name_string(), std::string(field.value()));
  return headers;
}

void BM_HeaderMapFromRequest(benchmark::State& state) {
  const auto header = RequestHeader();
  for (auto _ : state) benchmark::DoNotOptimize(PolicyHeaders(header));
}
BENCHMARK(BM_HeaderMapFromRequest);

void BM_HeaderMapGet(benchmark::State& state) {
  const policy::HeaderMap headers = PolicyHeaders(RequestHeader());
  for (auto _ : state) benchmark::DoNotOptimize(headers.Get("authorization"));
}
BENCHMARK(BM_HeaderMapGet);

void BM_HeaderMapSet(benchmark::State& state) {
  policy::HeaderMap headers = PolicyHeaders(RequestHeader());
  const std::string value = "Bearer " + std::string(1200, 'y');
  for (auto _ : state) {
    headers.Set("Authorization", value);
    benchmark::ClobberMemory();
  }
}
BENCHMARK(BM_HeaderMapSet);

void BM_BeastHeaderCopy(benchmark::State& state) {
  const auto header = RequestHeader();
  for (auto _ : state) {
    bhttp::request_header<> copy = header;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_BeastHeaderCopy);

// RemoveHopByHopFields on a copy, against the copy alone in BM_BeastHeaderCopy.
void BM_RemoveHopByHopFields(benchmark::State& state) {
  const auto header = RequestHeader();
  for (auto _ : state) {
    bhttp::request_header<> copy = header;
    http::RemoveHopByHopFields(copy);
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_RemoveHopByHopFields);

}  // namespace
}  // namespace credgate
