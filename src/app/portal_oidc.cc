#include "app/portal_oidc.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include "common/encoding.h"
#include "credentials/model.h"
#include "credentials/token_request.h"
#include "gateway/login_cookies.h"
#include "gateway/pages.h"
#include "identity/jwt.h"
#include "management/service.h"

namespace credgate::app {

namespace bhttp = boost::beast::http;
namespace json = boost::json;

namespace {

constexpr std::string_view kSessionPath = "/portal/oidc/session";
constexpr std::string_view kStartPath = "/portal/oidc/start";
constexpr std::string_view kCallbackPath = "/portal/oidc/callback";
constexpr std::string_view kSignOutPath = "/portal/oidc/sign-out";
constexpr int kSignInCookieMaxAgeSeconds = 600;

http::Response JsonResponse(int status, std::string body, unsigned version) {
  http::Response response{static_cast<bhttp::status>(status), version};
  response.set(bhttp::field::content_type, "application/json; charset=utf-8");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

http::Response JsonError(const Error& error, unsigned version) {
  return JsonResponse(HttpStatusFor(error.code), management::RenderError(error), version);
}

// Returns the page that ends a failed sign-in. `message` is plain text that states what failed.
http::Response FailurePage(int status, std::string_view message, unsigned version,
                           std::string_view request_id) {
  return gateway::HtmlPage(status, "Portal sign-in failed",
                           std::string(message) + " Open /portal/ to sign in again.", version,
                           request_id);
}

// Returns a Set-Cookie value; every portal cookie is HttpOnly. `max_age_seconds` < 0 makes a
// session cookie and 0 deletes the cookie.
std::string CookieHeader(std::string_view name, std::string_view value, std::string_view path,
                         std::string_view same_site, int max_age_seconds, bool secure) {
  std::string cookie = std::string(name) + "=" + std::string(value) + "; Path=" +
                       std::string(path) + "; HttpOnly; SameSite=" + std::string(same_site);
  if (max_age_seconds >= 0) cookie += "; Max-Age=" + std::to_string(max_age_seconds);
  if (secure) cookie += "; Secure";
  return cookie;
}

// Returns the first value of `name` in a decoded query, or "".
std::string QueryValue(const FormFields& query, std::string_view name) {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return {};
}

void SetParam(boost::urls::url& url, std::string_view name, std::string_view value) {
  // PercentEncode leaves only unreserved characters, so the encoded form is valid in a query.
  const std::string encoded = PercentEncode(value);
  url.encoded_params().set(name, boost::urls::pct_string_view(encoded));
}

bool IsHttpUrl(std::string_view text) {
  auto url = boost::urls::parse_absolute_uri(text);
  return url && (url->scheme() == "http" || url->scheme() == "https") && !url->host().empty();
}

std::string StringMember(const json::object& object, std::string_view name) {
  const json::value* value = object.if_contains(name);
  return value != nullptr && value->is_string() ? std::string(value->get_string()) : "";
}

std::string_view SessionCookie(const http::Request& request) {
  return gateway::FindCookie(request[bhttp::field::cookie], kPortalSessionCookie);
}

}  // namespace

Result<PortalOidcEndpoints> ParseDiscoveryDocument(std::string_view body,
                                                   std::string_view issuer) {
  auto fail = [&](const std::string& why) {
    return MakeError(ErrorCode::kUnavailable,
                     "the discovery document of the administrator issuer '" + std::string(issuer) +
                         "' " + why,
                     "DiscoveryFailed");
  };
  boost::system::error_code error;
  json::value document = json::parse(body, error);
  if (error || !document.is_object()) return fail("is not a JSON object");
  const json::object& object = document.get_object();
  // OpenID Connect Discovery 1.0 §4.3: the document's issuer must equal the configured one.
  if (StringMember(object, "issuer") != issuer) {
    return fail("names the issuer '" + StringMember(object, "issuer") +
                "'; set adminJwt.issuer to the issuer exactly as the document names it");
  }
  PortalOidcEndpoints endpoints{StringMember(object, "authorization_endpoint"),
                                StringMember(object, "token_endpoint")};
  if (!IsHttpUrl(endpoints.authorization_endpoint)) {
    return fail("has no absolute http or https authorization_endpoint");
  }
  if (!IsHttpUrl(endpoints.token_endpoint)) {
    return fail("has no absolute http or https token_endpoint");
  }
  return endpoints;
}

PortalOidc::PortalOidc(PortalOidcSettings settings, http::HttpClient& client,
                       management::AdminJwtAuthenticator& authenticator, const Clock& clock,
                       RandomSource& random)
    : settings_(std::move(settings)),
      client_(client),
      authenticator_(authenticator),
      sessions_(clock, random) {}

boost::asio::awaitable<http::Response> PortalOidc::Handle(const http::Request& request,
                                                          std::string_view request_id) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  const bhttp::verb method = request.method();
  if (method == bhttp::verb::get && path == kSessionPath) co_return SessionStatus(request);
  if (method == bhttp::verb::get && path == kStartPath) {
    co_return co_await Start(request, request_id);
  }
  if (method == bhttp::verb::get && path == kCallbackPath) {
    co_return co_await Callback(request, request_id);
  }
  if (method == bhttp::verb::post && path == kSignOutPath) co_return SignOut(request, request_id);
  co_return JsonError(MakeError(ErrorCode::kNotFound,
                                "no portal sign-in resource at " + std::string(request.method_string()) +
                                    " " + std::string(path),
                                "NotFound"),
                      request.version());
}

boost::asio::awaitable<Result<PortalOidcEndpoints>> PortalOidc::Endpoints() {
  {
    std::lock_guard lock(endpoints_mutex_);
    if (endpoints_) co_return *endpoints_;
  }
  std::string issuer = settings_.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();

  http::ClientRequest fetch;
  fetch.url = issuer + "/.well-known/openid-configuration";
  fetch.headers = {{"Accept", "application/json"}};
  auto response = co_await client_.Send(std::move(fetch));
  if (!response.ok()) {
    co_return MakeError(ErrorCode::kUnavailable,
                        "cannot fetch the discovery document of the administrator issuer '" +
                            settings_.issuer + "': " + response.error().message,
                        "DiscoveryFailed");
  }
  if (response->status != 200) {
    co_return MakeError(ErrorCode::kUnavailable,
                        "the discovery document of the administrator issuer '" +
                            settings_.issuer + "' returned HTTP " +
                            std::to_string(response->status),
                        "DiscoveryFailed");
  }
  auto endpoints = ParseDiscoveryDocument(response->body, settings_.issuer);
  if (!endpoints.ok()) co_return endpoints.error();

  spdlog::info("portal sign-in endpoints loaded issuer={} authorization_endpoint={} "
               "token_endpoint={}",
               settings_.issuer, endpoints->authorization_endpoint, endpoints->token_endpoint);
  std::lock_guard lock(endpoints_mutex_);
  endpoints_ = *endpoints;
  co_return *endpoints;
}

boost::asio::awaitable<http::Response> PortalOidc::Start(const http::Request& request,
                                                         std::string_view request_id) {
  auto endpoints = co_await Endpoints();
  if (!endpoints.ok()) {
    counters_.unavailable.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("portal sign-in cannot start request_id={}: {}", request_id,
                  endpoints.error().message);
    co_return FailurePage(503,
                          "The identity provider cannot be reached, so the sign-in cannot start. "
                          "Try again later, or sign in with an admin key.",
                          request.version(), request_id);
  }
  auto start = sessions_.BeginSignIn();
  if (!start.ok()) {
    spdlog::warn("portal sign-in cannot start request_id={}: {}", request_id,
                 start.error().message);
    co_return FailurePage(503, start.error().message + ".", request.version(), request_id);
  }

  // Discovery checked that the endpoint parses.
  boost::urls::url url(*boost::urls::parse_absolute_uri(endpoints->authorization_endpoint));
  url.remove_fragment();
  SetParam(url, "response_type", "code");
  SetParam(url, "client_id", settings_.client_id);
  SetParam(url, "redirect_uri", settings_.redirect_url);
  SetParam(url, "scope", settings_.scopes);
  SetParam(url, "state", start->state);
  SetParam(url, "nonce", start->nonce);
  SetParam(url, "code_challenge", start->code_challenge);
  SetParam(url, "code_challenge_method", "S256");

  http::Response response{bhttp::status::found, request.version()};
  response.set(bhttp::field::location, std::string(url.buffer()));
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Referrer-Policy", "no-referrer");
  // SameSite=Lax, because the callback is a top-level navigation from the issuer's site.
  response.set(bhttp::field::set_cookie,
               CookieHeader(kPortalSignInCookie, start->binding.Expose(), kCallbackPath, "Lax",
                            kSignInCookieMaxAgeSeconds, settings_.secure_cookies));
  response.prepare_payload();
  counters_.started.fetch_add(1, std::memory_order_relaxed);
  co_return response;
}

boost::asio::awaitable<Result<Secret>> PortalOidc::RedeemCode(const PortalOidcEndpoints& endpoints,
                                                              std::string code,
                                                              Secret code_verifier) {
  credentials::ProviderConfig client;
  client.client_id = settings_.client_id;
  client.client_secret = settings_.client_secret;
  FormFields fields = {{"grant_type", "authorization_code"},
                       {"code", std::move(code)},
                       {"redirect_uri", settings_.redirect_url},
                       {"code_verifier", std::string(code_verifier.Expose())}};
  http::ClientRequest exchange =
      credentials::BuildTokenRequest(client, endpoints.token_endpoint, std::move(fields));
  auto response = co_await client_.Send(std::move(exchange));
  if (!response.ok()) {
    co_return MakeError(ErrorCode::kUnavailable,
                        "the token endpoint cannot be reached: " + response.error().message,
                        "TokenExchangeFailed");
  }
  boost::system::error_code error;
  json::value body = json::parse(response->body, error);
  const json::object* object = !error && body.is_object() ? &body.get_object() : nullptr;
  if (response->status != 200) {
    // RFC 6749 §5.2: the error response names the error and may describe it.
    std::string detail = object != nullptr ? StringMember(*object, "error") : "";
    if (object != nullptr && !StringMember(*object, "error_description").empty()) {
      detail += " (" + StringMember(*object, "error_description") + ")";
    }
    co_return MakeError(ErrorCode::kBadGateway,
                        "the token endpoint rejected the authorization code with HTTP " +
                            std::to_string(response->status) +
                            (detail.empty() ? "" : ": " + detail),
                        "TokenExchangeFailed");
  }
  std::string id_token = object != nullptr ? StringMember(*object, "id_token") : "";
  if (id_token.empty()) {
    co_return MakeError(ErrorCode::kBadGateway,
                        "the token response has no id_token; check that the portal scopes "
                        "contain 'openid'",
                        "TokenExchangeFailed");
  }
  co_return Secret(std::move(id_token));
}

boost::asio::awaitable<http::Response> PortalOidc::Callback(const http::Request& request,
                                                            std::string_view request_id) {
  const unsigned version = request.version();
  std::string_view target = request.target();
  const size_t question = target.find('?');
  auto query = FormDecode(question == std::string_view::npos ? "" : target.substr(question + 1));
  if (!query) query.emplace();
  const std::string state = QueryValue(*query, "state");
  const std::string binding(
      gateway::FindCookie(request[bhttp::field::cookie], kPortalSignInCookie));

  // The state is single-use whatever the outcome, so a failed callback cannot be replayed.
  Result<PendingPortalSignIn> pending =
      state.empty() ? Result<PendingPortalSignIn>(MakeError(
                          ErrorCode::kNotFound, "the callback has no state parameter",
                          "InvalidState"))
                    : sessions_.CompleteSignIn(state, binding);

  // RFC 6749 §4.1.2.1: the issuer redirects with `error` when the user or it refused.
  const std::string provider_error = QueryValue(*query, "error");
  if (!provider_error.empty()) {
    counters_.provider_errors.fetch_add(1, std::memory_order_relaxed);
    const std::string description = QueryValue(*query, "error_description");
    spdlog::warn("portal sign-in rejected by the identity provider request_id={} error={} "
                 "description={}",
                 request_id, provider_error, description);
    std::string message = "The identity provider returned the error '" + provider_error + "'";
    if (!description.empty()) message += ": " + description;
    if (provider_error == "access_denied") message += ". The sign-in was cancelled or refused";
    co_return FailurePage(403, message + ".", version, request_id);
  }
  if (!pending.ok()) {
    counters_.invalid_state.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("portal sign-in callback rejected request_id={}: {}", request_id,
                 pending.error().message);
    co_return FailurePage(400,
                          "The sign-in request is unknown, expired, already used, or was started "
                          "in another browser.",
                          version, request_id);
  }
  // RFC 9207 §2.4: an `iss` parameter must name the issuer the request went to.
  const std::string iss = QueryValue(*query, "iss");
  std::string code = QueryValue(*query, "code");
  if ((!iss.empty() && iss != settings_.issuer) || code.empty()) {
    counters_.invalid_state.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("portal sign-in callback rejected request_id={}: {}", request_id,
                 code.empty() ? "no code parameter" : "iss parameter '" + iss + "' is not the issuer");
    co_return FailurePage(400, "The identity provider's response is incomplete or comes from "
                               "another issuer.",
                          version, request_id);
  }

  auto endpoints = co_await Endpoints();
  if (!endpoints.ok()) {
    counters_.unavailable.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("portal sign-in failed request_id={}: {}", request_id,
                  endpoints.error().message);
    co_return FailurePage(503, "The identity provider cannot be reached. Try again later.",
                          version, request_id);
  }
  auto id_token = co_await RedeemCode(*endpoints, std::move(code), std::move(pending->code_verifier));
  if (!id_token.ok()) {
    counters_.exchange_failed.fetch_add(1, std::memory_order_relaxed);
    spdlog::error("portal sign-in token exchange failed request_id={} token_endpoint={}: {}",
                  request_id, endpoints->token_endpoint, id_token.error().message);
    co_return FailurePage(502, "The identity provider did not accept the sign-in: " +
                                   id_token.error().message + ".",
                          version, request_id);
  }

  std::string token_text(id_token->Expose());
  auto principal = co_await authenticator_.Authenticate(std::move(token_text));
  if (!principal.ok()) {
    const Error& error = principal.error();
    if (error.code == ErrorCode::kPermissionDenied) {
      counters_.forbidden.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("portal sign-in forbidden request_id={}: {}", request_id, error.message);
      co_return FailurePage(403, "You signed in, but your account has no credgate role: the " +
                                     error.message +
                                     ". Ask the administrator of the identity provider to "
                                     "assign you one of these roles.",
                            version, request_id);
    }
    auto& counter = error.code == ErrorCode::kUnavailable ? counters_.unavailable
                                                          : counters_.invalid_token;
    counter.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("portal sign-in rejected the ID token request_id={}: {}", request_id,
                 error.message);
    co_return FailurePage(error.code == ErrorCode::kUnavailable ? 503 : 401,
                          "The identity provider's ID token was rejected: " + error.message + ".",
                          version, request_id);
  }
  // The signature is checked, so the payload can be read for the nonce and expiry.
  auto decoded = identity::DecodeJwt(id_token->Expose());
  const json::object empty;
  const json::object& claims = decoded.ok() ? decoded->payload : empty;
  const json::value* exp = claims.if_contains("exp");
  // OpenID Connect Core 1.0 §3.1.3.7: the nonce claim must equal the nonce of the request.
  if (StringMember(claims, "nonce") != pending->nonce || exp == nullptr || !exp->is_number()) {
    counters_.invalid_token.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("portal sign-in rejected the ID token request_id={} principal={}: the nonce "
                 "claim does not match the sign-in request",
                 request_id, principal->id);
    co_return FailurePage(401, "The ID token does not belong to this sign-in (its nonce differs).",
                          version, request_id);
  }
  const TimePoint expires_at =
      FromUnixSeconds(static_cast<int64_t>(exp->to_number<double>()));
  auto session = sessions_.CreateSession(std::move(*id_token), principal->id, expires_at);
  if (!session.ok()) {
    spdlog::warn("portal session not created request_id={} principal={}: {}", request_id,
                 principal->id, session.error().message);
    co_return FailurePage(503, session.error().message + ".", version, request_id);
  }
  counters_.signed_in.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("portal signed in request_id={} principal={} role={}", request_id, principal->id,
               management::AdminRoleName(principal->role));

  http::Response response{bhttp::status::see_other, version};
  response.set(bhttp::field::location, "/portal/");
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Referrer-Policy", "no-referrer");
  // SameSite=Strict: only the portal's own pages send it, never a link from another site.
  response.insert(bhttp::field::set_cookie,
                  CookieHeader(kPortalSessionCookie, session->session_id.Expose(), "/", "Strict",
                               -1, settings_.secure_cookies));
  response.insert(bhttp::field::set_cookie,
                  CookieHeader(kPortalSignInCookie, "", kCallbackPath, "Lax", 0,
                               settings_.secure_cookies));
  response.prepare_payload();
  co_return response;
}

http::Response PortalOidc::SessionStatus(const http::Request& request) const {
  json::object status;
  status["configured"] = true;
  status["signedIn"] = false;
  std::string_view session_id = SessionCookie(request);
  if (!session_id.empty()) {
    auto session = sessions_.FindSession(session_id);
    if (session.ok()) {
      status["signedIn"] = true;
      status["principal"] = session->principal;
      // Readable only by pages of the management origin: the listener sends no CORS headers.
      status["csrfToken"] = std::string(session->csrf_token.Expose());
    }
  }
  return JsonResponse(200, json::serialize(status), request.version());
}

http::Response PortalOidc::SignOut(const http::Request& request, std::string_view request_id) {
  auto credential = SessionCredential(request);
  if (!credential.ok()) return JsonError(credential.error(), request.version());
  if (*credential) {
    sessions_.EndSession(SessionCookie(request));
    counters_.signed_out.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("portal signed out request_id={}", request_id);
  }
  http::Response response{bhttp::status::no_content, request.version()};
  response.set(bhttp::field::cache_control, "no-store");
  response.set(bhttp::field::set_cookie,
               CookieHeader(kPortalSessionCookie, "", "/", "Strict", 0, settings_.secure_cookies));
  return response;
}

Result<std::optional<Secret>> PortalOidc::SessionCredential(const http::Request& request) {
  std::string_view session_id = SessionCookie(request);
  if (session_id.empty()) return std::optional<Secret>();
  auto session = sessions_.FindSession(session_id);
  if (!session.ok()) return session.error();
  if (!session->csrf_token.Equals(request[kCsrfHeader])) {
    counters_.csrf_rejected.fetch_add(1, std::memory_order_relaxed);
    return MakeError(ErrorCode::kPermissionDenied,
                     "a call authenticated by the portal session cookie needs the session's CSRF "
                     "token in the " +
                         std::string(kCsrfHeader) + " header",
                     "Forbidden");
  }
  return std::optional<Secret>(std::move(session->id_token));
}

http::Response PortalOidcNotConfigured(const http::Request& request) {
  std::string_view target = request.target();
  std::string_view path = target.substr(0, target.find('?'));
  if (request.method() == bhttp::verb::get && path == kSessionPath) {
    return JsonResponse(200, R"({"configured":false,"signedIn":false})", request.version());
  }
  return JsonError(MakeError(ErrorCode::kNotFound,
                             "OpenID Connect sign-in is not configured: set "
                             "adminJwt.portalClientId to enable it",
                             "NotFound"),
                   request.version());
}

}  // namespace credgate::app
