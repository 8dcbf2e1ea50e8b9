#include "gateway/login_flow.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>

#include "common/encoding.h"
#include "common/hash.h"
#include "credentials/authorization_url.h"
#include "credentials/login_sessions.h"
#include "credentials/token_client.h"
#include "credentials/token_response.h"
#include "gateway/pages.h"

namespace credgate::gateway {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

namespace {

constexpr std::string_view kLoginPath = "/.credgate/login/";
constexpr std::string_view kCallbackPath = "/.credgate/callback";
constexpr int kCookieLifetimeSeconds = 600;

// The cookie that binds one authorization to the browser that opened the login link. Its name
// is derived from the state, so several sign-ins in one browser do not overwrite each other.
std::string BindingCookieName(std::string_view state) {
  return "credgate_login_" + HexEncode(Sha256String(state)).substr(0, 16);
}

std::string_view FindCookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semicolon = header.find(';');
    std::string_view pair = header.substr(0, semicolon);
    header = semicolon == std::string_view::npos ? std::string_view() : header.substr(semicolon + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
  }
  return {};
}

std::string QueryValue(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return "";
}

http::Response Redirect(std::string_view location, unsigned version) {
  http::Response response{bhttp::status::found, version};
  response.set(bhttp::field::location, location);
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Referrer-Policy", "no-referrer");
  response.prepare_payload();
  return response;
}

}  // namespace

awaitable<http::Response> LoginFlow::Handle(http::Request request, const http::RequestInfo& info) {
  std::string_view target = request.target();
  size_t query_start = target.find('?');
  std::string_view path = target.substr(0, query_start);
  std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : target.substr(query_start + 1);

  if (request.method() != bhttp::verb::get) {
    co_return HtmlPage(405, "Method not allowed", "Sign-in pages accept only GET requests.",
                       request.version(), info.request_id);
  }
  if (path.starts_with(kLoginPath)) {
    co_return co_await StartLogin(path.substr(kLoginPath.size()), request, info);
  }
  if (path == kCallbackPath) co_return co_await Callback(query, request, info);
  co_return HtmlPage(404, "Not found", "There is no sign-in page at this address.",
                     request.version(), info.request_id);
}

awaitable<http::Response> LoginFlow::StartLogin(std::string_view link_token,
                                                const http::Request& request,
                                                const http::RequestInfo& info) {
  auto link = services_.login_sessions->ConsumeLoginLink(link_token);
  if (!link.ok()) {
    spdlog::warn("login link rejected request_id={} client={}: {}", info.request_id,
                 info.peer.address().to_string(), link.error().message);
    co_return HtmlPage(link.error().code == ErrorCode::kFailedPrecondition ? 410 : 404,
                       "This login link cannot be used",
                       "The link is unknown, was already used, or has expired. Login links work "
                       "once and for a few minutes: ask for a new one.",
                       request.version(), info.request_id);
  }
  auto snapshot = services_.config->Current();
  const std::string connection_key = runtime::ConnectionKey(link->provider_id, link->connection_id);
  auto provider = snapshot->providers.find(link->provider_id);
  if (provider == snapshot->providers.end() || !snapshot->connections.contains(connection_key)) {
    co_return HtmlPage(404, "Connection not found",
                       "The connection this link was made for has been deleted.",
                       request.version(), info.request_id);
  }

  auto start = services_.login_sessions->BeginAuthorization(*link);
  if (!start.ok()) {
    spdlog::error("login could not start connection={} request_id={}: {}", connection_key,
                  info.request_id, start.error().message);
    co_return HtmlPage(503, "Sign-in is busy",
                       "Too many sign-ins are in progress. Try again in a few minutes.",
                       request.version(), info.request_id);
  }
  credentials::AuthorizationRequest authorization{services_.settings.CallbackUrl(), start->state,
                                                  start->code_challenge, ""};
  auto url = credentials::BuildAuthorizationUrl(provider->second->config, authorization);
  if (!url.ok()) {
    co_return HtmlPage(500, "Provider misconfigured", url.error().message, request.version(),
                       info.request_id);
  }

  http::Response response = Redirect(*url, request.version());
  const bool secure = services_.settings.public_url.starts_with("https://");
  std::string cookie = BindingCookieName(start->state) + "=" +
                       std::string(start->binding.Expose()) +
                       "; Path=/.credgate/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(kCookieLifetimeSeconds) + (secure ? "; Secure" : "");
  response.set(bhttp::field::set_cookie, cookie);
  spdlog::info("login started connection={} request_id={}", connection_key, info.request_id);
  co_return response;
}

awaitable<http::Response> LoginFlow::Callback(std::string_view query, const http::Request& request,
                                              const http::RequestInfo& info) {
  const unsigned version = request.version();
  auto fields = FormDecode(query);
  if (!fields) {
    co_return HtmlPage(400, "Invalid callback", "The callback's query string is malformed.",
                       version, info.request_id);
  }
  const std::string state = QueryValue(*fields, "state");
  if (state.empty()) {
    co_return HtmlPage(400, "Invalid callback",
                       "The provider's answer has no 'state' parameter. Start again from a new "
                       "login link.",
                       version, info.request_id);
  }
  std::string_view cookies = request[bhttp::field::cookie];
  std::string_view binding = FindCookie(cookies, BindingCookieName(state));
  auto pending = services_.login_sessions->CompleteAuthorization(state, binding);
  if (!pending.ok()) {
    spdlog::warn("login callback rejected request_id={} client={}: {}", info.request_id,
                 info.peer.address().to_string(), pending.error().message);
    std::string message =
        pending.error().code == ErrorCode::kPermissionDenied
            ? "This sign-in was started in another browser. Open the login link again in the "
              "browser you want to sign in with."
            : "This sign-in is unknown, was already completed, or took too long. Start again "
              "from a new login link.";
    co_return HtmlPage(400, "Sign-in failed", message, version, info.request_id);
  }
  const std::string connection_key =
      runtime::ConnectionKey(pending->link.provider_id, pending->link.connection_id);

  if (std::string error = QueryValue(*fields, "error"); !error.empty()) {
    // Both values come from the browser's URL, so they are limited and cleaned like a token
    // endpoint's error before they reach a log line, the store or the page.
    std::string description =
        credentials::RedactDescription(QueryValue(*fields, "error_description"));
    std::string message = "the provider returned '" + credentials::SanitizeErrorCode(error) + "'" +
                          (description.empty() ? "" : ": " + description);
    co_await RecordLoginFailure(connection_key, "LoginFailed", message);
    co_return HtmlPage(400, "Sign-in failed", "The provider did not grant access: " + message +
                                                  ".",
                       version, info.request_id);
  }
  std::string code = QueryValue(*fields, "code");
  if (code.empty()) {
    co_return HtmlPage(400, "Sign-in failed", "The provider's answer has no 'code' parameter.",
                       version, info.request_id);
  }

  auto snapshot = services_.config->Current();
  auto provider = snapshot->providers.find(pending->link.provider_id);
  if (provider == snapshot->providers.end() || !snapshot->connections.contains(connection_key)) {
    co_return HtmlPage(404, "Connection not found",
                       "The connection was deleted while you were signing in.", version,
                       info.request_id);
  }

  // The callback's query goes along, so that the provider's kept callback values (such as
  // QuickBooks' realmId) become claims of the connection.
  auto tokens = co_await services_.token_client->ExchangeCode(
      provider->second->config, Secret(std::move(code)), services_.settings.CallbackUrl(),
      std::move(pending->code_verifier), *fields);
  if (!tokens.ok()) {
    const Error& error = tokens.error();
    spdlog::warn("code exchange failed connection={} request_id={}: {}", connection_key,
                 info.request_id, error.message);
    // The provider's redacted response is for administrators, so only the status records it.
    const std::string recorded =
        error.details.empty() ? error.message
                              : error.message + ". Provider response: " + error.details;
    co_await RecordLoginFailure(connection_key, "CodeExchangeFailed", recorded);
    co_return HtmlPage(502, "Sign-in failed",
                       "The provider's token endpoint did not issue tokens: " + error.message,
                       version, info.request_id);
  }

  Result<int64_t> saved = co_await persistence_.SaveTokens(connection_key, *tokens);
  if (!saved.ok()) {
    co_return HtmlPage(503, "Sign-in failed",
                       "The tokens could not be stored, so nothing was changed. Try again.",
                       version, info.request_id);
  }
  tokens->version = *saved;
  services_.tokens->SetTokens(connection_key, std::move(*tokens));
  spdlog::info("connection signed in connection={} request_id={}", connection_key,
               info.request_id);

  http::Response response =
      pending->link.post_login_redirect_url.empty()
          ? HtmlPage(200, "Signed in",
                     "The connection '" + connection_key +
                         "' is connected. You can close this window.",
                     version, info.request_id)
          : Redirect(pending->link.post_login_redirect_url, version);
  response.set(bhttp::field::set_cookie,
               BindingCookieName(state) + "=; Path=/.credgate/; HttpOnly; SameSite=Lax; Max-Age=0");
  co_return response;
}

awaitable<void> LoginFlow::RecordLoginFailure(const std::string& connection_key,
                                              const std::string& code,
                                              const std::string& message) {
  // A failed re-login leaves a working connection alone: its stored tokens still work, so only
  // the log records the failure.
  if (services_.statuses->Get(connection_key).connected) {
    spdlog::warn("re-login failed, connection keeps its tokens connection={} code={}: {}",
                 connection_key, code, message);
    co_return;
  }
  // A named value: g++ 12 destroys a braced temporary written inside a co_await twice.
  credentials::ConnectionError error{code, message};
  co_await persistence_.MarkConnectionError(connection_key, std::move(error));
}

}  // namespace credgate::gateway
