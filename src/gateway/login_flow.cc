#include "gateway/login_flow.h"

#include <spdlog/spdlog.h>

#include <boost/beast/http/field.hpp>
#include <boost/url/parse.hpp>

#include "common/encoding.h"
#include "credentials/authorization_response.h"
#include "credentials/authorization_url.h"
#include "credentials/consent_codes.h"
#include "credentials/login_sessions.h"
#include "credentials/token_client.h"
#include "credentials/token_response.h"
#include "gateway/login_cookies.h"
#include "gateway/pages.h"

namespace credgate::gateway {

namespace bhttp = boost::beast::http;
using boost::asio::awaitable;

namespace {

constexpr std::string_view kLoginPath = "/.credgate/login/";
constexpr std::string_view kConsentPath = "/.credgate/consent";
constexpr std::string_view kCallbackPath = "/.credgate/callback";
constexpr std::string_view kConsentCookiePrefix = "credgate_consent_";
constexpr std::string_view kLoginCookiePrefix = "credgate_login_";
constexpr int kCookieLifetimeSeconds = 600;
// A browser token is 32 random bytes in unpadded base64url.
constexpr size_t kBrowserTokenLength = 43;

std::string QueryValue(const FormFields& fields, std::string_view name) {
  for (const auto& [key, value] : fields) {
    if (key == name) return value;
  }
  return "";
}

http::Response Redirect(std::string_view location, int status, unsigned version) {
  http::Response response{static_cast<bhttp::status>(status), version};
  response.set(bhttp::field::location, location);
  response.set(bhttp::field::cache_control, "no-store");
  response.set("Referrer-Policy", "no-referrer");
  response.prepare_payload();
  return response;
}

// Returns "scheme://host[:port]" of `url`, or "" when it does not parse.
std::string OriginOf(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return "";
  std::string origin = std::string(parsed->scheme()) + "://" + std::string(parsed->encoded_host());
  if (parsed->has_port()) origin += ":" + std::string(parsed->port());
  return origin;
}

bool IsBrowserToken(std::string_view value) {
  if (value.size() != kBrowserTokenLength) return false;
  for (char c : value) {
    const bool base64url = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    if (!base64url) return false;
  }
  return true;
}

}  // namespace

awaitable<http::Response> LoginFlow::Handle(http::Request request, const http::RequestInfo& info) {
  std::string_view target = request.target();
  size_t query_start = target.find('?');
  std::string_view path = target.substr(0, query_start);
  std::string_view query =
      query_start == std::string_view::npos ? std::string_view() : target.substr(query_start + 1);

  if (path == kConsentPath) {
    if (request.method() != bhttp::verb::post) {
      co_return HtmlPage(405, "Method not allowed", "The confirmation form accepts only POST.",
                         request.version(), info.request_id);
    }
    co_return AnswerConsent(request, info);
  }
  if (request.method() != bhttp::verb::get) {
    co_return HtmlPage(405, "Method not allowed", "Sign-in pages accept only GET requests.",
                       request.version(), info.request_id);
  }
  if (path.starts_with(kLoginPath)) {
    co_return OpenLoginLink(path.substr(kLoginPath.size()), request, info);
  }
  if (path == kCallbackPath) co_return co_await Callback(query, request, info);
  co_return HtmlPage(404, "Not found", "There is no sign-in page at this address.",
                     request.version(), info.request_id);
}

bool LoginFlow::SecureCookies() const {
  return services_.settings.public_url.starts_with("https://");
}

http::Response LoginFlow::OpenLoginLink(std::string_view link_token, const http::Request& request,
                                        const http::RequestInfo& info) {
  auto link = services_.login_sessions->ConsumeLoginLink(link_token);
  if (!link.ok()) {
    spdlog::warn("login link rejected request_id={} client={}: {}", info.request_id,
                 info.peer.address().to_string(), link.error().message);
    return HtmlPage(link.error().code == ErrorCode::kFailedPrecondition ? 410 : 404,
                    "This login link cannot be used",
                    "The link is unknown, was already used, or has expired. Login links work "
                    "once and for a few minutes: ask for a new one.",
                    request.version(), info.request_id);
  }
  auto snapshot = services_.config->Current();
  const std::string connection_key = runtime::ConnectionKey(link->provider_id, link->connection_id);
  auto provider = snapshot->providers.find(link->provider_id);
  if (provider == snapshot->providers.end() || !snapshot->connections.contains(connection_key)) {
    return HtmlPage(404, "Connection not found",
                    "The connection this link was made for has been deleted.", request.version(),
                    info.request_id);
  }

  std::string_view browser = FindCookie(request[bhttp::field::cookie], kBrowserCookie);
  if (services_.consent_codes->IsTrusted(connection_key, browser)) {
    counters_.consent_skipped.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("confirmation page skipped for a trusted browser connection={} request_id={}",
                 connection_key, info.request_id);
    return RedirectToProvider(std::move(*link), 302, request, info);
  }

  const credentials::ProviderConfig& config = provider->second->config;
  ConsentPageContent content;
  content.provider_name = config.display_name.empty() ? config.id : config.display_name;
  content.connection = connection_key;
  content.requested_by = link->requested_by;
  content.form_path = std::string(kConsentPath);

  auto prompt = services_.login_sessions->BeginConsent(std::move(*link));
  if (!prompt.ok()) {
    spdlog::error("login could not start connection={} request_id={}: {}", connection_key,
                  info.request_id, prompt.error().message);
    return HtmlPage(503, "Sign-in is busy",
                    "Too many sign-ins are in progress. Try again in a few minutes.",
                    request.version(), info.request_id);
  }
  content.handle = prompt->handle;
  content.form_token = std::string(prompt->form_token.Expose());

  http::Response response = ConsentPage(content, request.version(), info.request_id);
  response.set(bhttp::field::set_cookie,
               SetCookie(BindingCookieName(kConsentCookiePrefix, prompt->handle),
                         prompt->binding.Expose(), kCookieLifetimeSeconds, SecureCookies()));
  counters_.consent_shown.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("confirmation page shown connection={} requested_by=\"{}\" request_id={}",
               connection_key, content.requested_by, info.request_id);
  return response;
}

http::Response LoginFlow::AnswerConsent(const http::Request& request,
                                        const http::RequestInfo& info) {
  const unsigned version = request.version();
  auto reject = [&](int status, std::string_view why, std::string_view message) {
    counters_.consent_rejected.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("confirmation form rejected request_id={} client={}: {}", info.request_id,
                 info.peer.address().to_string(), why);
    return HtmlPage(status, "Sign-in not started", message, version, info.request_id);
  };

  // A browser sends Origin with every form post. Another origin means another site's form,
  // which the form token stops too, so this only names the cause earlier.
  std::string_view origin = request[bhttp::field::origin];
  if (!origin.empty() && origin != OriginOf(services_.settings.public_url)) {
    return reject(403, "the form was posted from another origin",
                  "The confirmation form was sent from another site. Open the login link "
                  "again.");
  }
  std::string_view content_type = request[bhttp::field::content_type];
  auto fields = content_type.starts_with("application/x-www-form-urlencoded")
                    ? FormDecode(request.body())
                    : std::nullopt;
  if (!fields) {
    return reject(400, "the body is not a form",
                  "The confirmation form is malformed. Open the login link again.");
  }
  const std::string handle = QueryValue(*fields, "handle");
  const std::string action = QueryValue(*fields, "action");
  if (handle.empty() || (action != "continue" && action != "cancel")) {
    return reject(400, "the form lacks handle or action",
                  "The confirmation form is malformed. Open the login link again.");
  }
  const std::string cookie_name = BindingCookieName(kConsentCookiePrefix, handle);
  std::string_view binding = FindCookie(request[bhttp::field::cookie], cookie_name);
  auto link =
      services_.login_sessions->AnswerConsent(handle, binding, QueryValue(*fields, "form_token"));
  if (!link.ok()) {
    const bool mismatch = link.error().code == ErrorCode::kPermissionDenied;
    return reject(mismatch ? 403 : 400, link.error().message,
                  mismatch ? "This confirmation page was opened in another browser, or the form "
                             "was sent by another site. Open the login link again in the "
                             "browser you want to sign in with."
                           : "This confirmation page is unknown, was already answered, or is too "
                             "old. Ask for a new login link.");
  }
  const std::string connection_key = runtime::ConnectionKey(link->provider_id, link->connection_id);

  http::Response response =
      action == "continue"
          ? RedirectToProvider(std::move(*link), 303, request, info)
          : HtmlPage(200, "Sign-in cancelled", "Nothing was stored. You can close this window.",
                     version, info.request_id);
  auto& counter = action == "continue" ? counters_.consent_accepted : counters_.consent_cancelled;
  counter.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("confirmation page answered action={} connection={} request_id={}", action,
               connection_key, info.request_id);
  response.insert(bhttp::field::set_cookie, SetCookie(cookie_name, "", 0, SecureCookies()));
  return response;
}

http::Response LoginFlow::RedirectToProvider(credentials::LoginLinkInfo link, int redirect_status,
                                             const http::Request& request,
                                             const http::RequestInfo& info) {
  const std::string connection_key = runtime::ConnectionKey(link.provider_id, link.connection_id);
  auto snapshot = services_.config->Current();
  auto provider = snapshot->providers.find(link.provider_id);
  if (provider == snapshot->providers.end() || !snapshot->connections.contains(connection_key)) {
    return HtmlPage(404, "Connection not found",
                    "The connection this link was made for has been deleted.", request.version(),
                    info.request_id);
  }
  auto start = services_.login_sessions->BeginAuthorization(std::move(link));
  if (!start.ok()) {
    spdlog::error("login could not start connection={} request_id={}: {}", connection_key,
                  info.request_id, start.error().message);
    return HtmlPage(503, "Sign-in is busy",
                    "Too many sign-ins are in progress. Try again in a few minutes.",
                    request.version(), info.request_id);
  }
  credentials::AuthorizationRequest authorization{services_.settings.CallbackUrl(), start->state,
                                                  start->code_challenge, ""};
  auto url = credentials::BuildAuthorizationUrl(provider->second->config, authorization);
  if (!url.ok()) {
    return HtmlPage(500, "Provider misconfigured", url.error().message, request.version(),
                    info.request_id);
  }

  http::Response response = Redirect(*url, redirect_status, request.version());
  response.insert(bhttp::field::set_cookie,
                  SetCookie(BindingCookieName(kLoginCookiePrefix, start->state),
                            start->binding.Expose(), kCookieLifetimeSeconds, SecureCookies()));
  spdlog::info("login started connection={} request_id={}", connection_key, info.request_id);
  return response;
}

http::Response LoginFlow::PostLoginRedirect(const credentials::LoginLinkInfo& link,
                                            const std::string& connection_key,
                                            const http::Request& request,
                                            const http::RequestInfo& info) {
  // The browser keeps its token across sign-ins, so that one confirmation covers the browser.
  std::string_view existing = FindCookie(request[bhttp::field::cookie], kBrowserCookie);
  const Secret browser = IsBrowserToken(existing) ? Secret(std::string(existing))
                                                  : services_.consent_codes->NewBrowserToken();
  std::string location = link.post_login_redirect_url;
  auto code = services_.consent_codes->Issue(connection_key, browser);
  if (code.ok()) {
    // The URL passed the allow-list check, which rejects fragments, so the parameter goes last.
    location += location.find('?') == std::string::npos ? "?" : "&";
    location += "consentCode=" + *code;
  } else {
    spdlog::warn("no consent code for the post-login redirect connection={} request_id={}: {}",
                 connection_key, info.request_id, code.error().message);
  }
  http::Response response = Redirect(location, 302, request.version());
  response.insert(bhttp::field::set_cookie,
                  SetCookie(kBrowserCookie, browser.Expose(), -1, SecureCookies()));
  return response;
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
  std::string_view binding = FindCookie(cookies, BindingCookieName(kLoginCookiePrefix, state));
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
  auto snapshot = services_.config->Current();
  auto provider = snapshot->providers.find(pending->link.provider_id);
  if (provider == snapshot->providers.end() || !snapshot->connections.contains(connection_key)) {
    co_return HtmlPage(404, "Connection not found",
                       "The connection was deleted while you were signing in.", version,
                       info.request_id);
  }

  // RFC 9207 §2.4: the issuer is checked before the response is used, error responses included.
  // A mismatch may be a mix-up attack, so the connection's status is left alone.
  Status issuer = credentials::CheckAuthorizationResponseIssuer(provider->second->config, *fields);
  if (!issuer.ok()) {
    auto& counter = issuer.error().reason == "IssuerMissing" ? counters_.issuer_missing
                                                             : counters_.issuer_mismatch;
    counter.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("login callback rejected connection={} request_id={} client={} reason={}: {}",
                 connection_key, info.request_id, info.peer.address().to_string(),
                 issuer.error().reason, issuer.error().message);
    co_return HtmlPage(400, "Sign-in rejected",
                       "The answer did not come from the provider this sign-in was started "
                       "with, so nothing was stored: " +
                           issuer.error().message +
                           ". Start again from a new login link, and tell the administrator if "
                           "this happens again.",
                       version, info.request_id);
  }

  if (std::string error = QueryValue(*fields, "error"); !error.empty()) {
    // Both values come from the browser's URL, so they are limited and cleaned like a token
    // endpoint's error before they reach a log line, the store or the page.
    std::string description =
        credentials::RedactDescription(QueryValue(*fields, "error_description"));
    std::string message = "the provider returned '" + credentials::SanitizeErrorCode(error) + "'" +
                          (description.empty() ? "" : ": " + description);
    co_await RecordLoginFailure(connection_key, "LoginFailed", message);
    co_return HtmlPage(400, "Sign-in failed", "The provider did not grant access: " + message + ".",
                       version, info.request_id);
  }
  std::string code = QueryValue(*fields, "code");
  if (code.empty()) {
    co_return HtmlPage(400, "Sign-in failed", "The provider's answer has no 'code' parameter.",
                       version, info.request_id);
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
    const std::string recorded = error.details.empty()
                                     ? error.message
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
  spdlog::info("connection signed in connection={} request_id={}", connection_key, info.request_id);

  http::Response response = pending->link.post_login_redirect_url.empty()
                                ? HtmlPage(200, "Signed in",
                                           "The connection '" + connection_key +
                                               "' is connected. You can close this window.",
                                           version, info.request_id)
                                : PostLoginRedirect(pending->link, connection_key, request, info);
  response.insert(bhttp::field::set_cookie,
                  SetCookie(BindingCookieName(kLoginCookiePrefix, state), "", 0, SecureCookies()));
  co_return response;
}

awaitable<void> LoginFlow::RecordLoginFailure(const std::string& connection_key,
                                              const std::string& code, const std::string& message) {
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
