#include "credentials/login_sessions.h"

#include <optional>

#include "common/hash.h"
#include "credentials/pkce.h"

namespace credgate::credentials {

namespace {

constexpr size_t kHandleBytes = 32;

std::string HandleKey(std::string_view handle) { return Sha256String(handle); }

}  // namespace

LoginSessions::LoginSessions(const Clock& clock, RandomSource& random)
    : LoginSessions(clock, random, Options()) {}

LoginSessions::LoginSessions(const Clock& clock, RandomSource& random, Options options)
    : clock_(clock),
      random_(random),
      options_(options),
      links_(options.max_login_links),
      prompts_(options.max_pending_authorizations),
      authorizations_(options.max_pending_authorizations) {}

Result<std::string> LoginSessions::CreateLoginLink(std::string provider_id,
                                                   std::string connection_id,
                                                   std::string post_login_redirect_url,
                                                   std::string requested_by) {
  const TimePoint now = clock_.Now();
  LoginLinkInfo info{std::move(provider_id), std::move(connection_id),
                     std::move(post_login_redirect_url), std::move(requested_by)};

  std::lock_guard lock(mutex_);
  std::string token = RandomToken(random_, kHandleBytes);
  if (!links_.Insert(HandleKey(token), std::move(info), now + options_.link_lifetime, now)) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "cannot create a login link: " + std::to_string(options_.max_login_links) +
                         " unexpired login links exist; retry after some expire");
  }
  return token;
}

Result<LoginLinkInfo> LoginSessions::ConsumeLoginLink(std::string_view link_token) {
  const TimePoint now = clock_.Now();
  std::optional<LoginLinkInfo> info;

  std::lock_guard lock(mutex_);
  switch (links_.Take(HandleKey(link_token), now, info)) {
    case internal::ExpiringMap<LoginLinkInfo>::TakeStatus::kFound:
      return std::move(*info);
    case internal::ExpiringMap<LoginLinkInfo>::TakeStatus::kExpired:
      return MakeError(ErrorCode::kFailedPrecondition,
                       "login link expired; ask for a new login link", "LoginLinkExpired");
    case internal::ExpiringMap<LoginLinkInfo>::TakeStatus::kNotFound:
      break;
  }
  return MakeError(ErrorCode::kNotFound,
                   "login link is unknown or was already used; ask for a new login link",
                   "LoginLinkNotFound");
}

Result<ConsentPrompt> LoginSessions::BeginConsent(LoginLinkInfo link) {
  const TimePoint now = clock_.Now();

  std::lock_guard lock(mutex_);
  ConsentPrompt prompt;
  prompt.handle = RandomToken(random_, kHandleBytes);
  prompt.binding = Secret(RandomToken(random_, kHandleBytes));
  prompt.form_token = Secret(RandomToken(random_, kHandleBytes));
  PendingConsent pending{std::move(link), prompt.binding, prompt.form_token};
  if (!prompts_.Insert(HandleKey(prompt.handle), std::move(pending),
                       now + options_.authorization_lifetime, now)) {
    return MakeError(
        ErrorCode::kResourceExhausted,
        "cannot start a sign-in: " + std::to_string(options_.max_pending_authorizations) +
            " sign-ins wait for confirmation; retry in a few minutes");
  }
  return prompt;
}

Result<LoginLinkInfo> LoginSessions::AnswerConsent(std::string_view handle,
                                                   std::string_view binding,
                                                   std::string_view form_token) {
  const TimePoint now = clock_.Now();
  std::optional<PendingConsent> pending;
  {
    std::lock_guard lock(mutex_);
    switch (prompts_.Take(HandleKey(handle), now, pending)) {
      case internal::ExpiringMap<PendingConsent>::TakeStatus::kFound:
        break;
      case internal::ExpiringMap<PendingConsent>::TakeStatus::kExpired:
        return MakeError(ErrorCode::kFailedPrecondition,
                         "the confirmation page expired; open a new login link",
                         "ConsentExpired");
      case internal::ExpiringMap<PendingConsent>::TakeStatus::kNotFound:
        return MakeError(ErrorCode::kNotFound,
                         "the confirmation page is unknown or was already answered; open a new "
                         "login link",
                         "ConsentNotFound");
    }
  }
  // Both are compared, so that the time taken does not tell which one failed.
  const bool binding_matches = pending->binding.Equals(binding);
  const bool token_matches = pending->form_token.Equals(form_token);
  if (!binding_matches || !token_matches) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the confirmation form came from another browser or another site; open "
                     "the login link again",
                     "ConsentBindingMismatch");
  }
  return std::move(pending->link);
}

Result<AuthorizationStart> LoginSessions::BeginAuthorization(LoginLinkInfo link) {
  const TimePoint now = clock_.Now();

  std::lock_guard lock(mutex_);
  PkcePair pkce = GeneratePkcePair(random_);
  AuthorizationStart start;
  start.state = RandomToken(random_, kHandleBytes);
  start.code_verifier = pkce.code_verifier;
  start.code_challenge = std::move(pkce.code_challenge);
  start.binding = Secret(RandomToken(random_, kHandleBytes));

  PendingAuthorization pending{std::move(link), std::move(pkce.code_verifier), start.binding, now};
  if (!authorizations_.Insert(HandleKey(start.state), std::move(pending),
                              now + options_.authorization_lifetime, now)) {
    return MakeError(
        ErrorCode::kResourceExhausted,
        "cannot start a sign-in: " + std::to_string(options_.max_pending_authorizations) +
            " sign-ins are pending; retry in a few minutes");
  }
  return start;
}

Result<PendingAuthorization> LoginSessions::CompleteAuthorization(std::string_view state,
                                                                  std::string_view binding) {
  const TimePoint now = clock_.Now();
  std::optional<PendingAuthorization> pending;
  {
    std::lock_guard lock(mutex_);
    switch (authorizations_.Take(HandleKey(state), now, pending)) {
      case internal::ExpiringMap<PendingAuthorization>::TakeStatus::kFound:
        break;
      case internal::ExpiringMap<PendingAuthorization>::TakeStatus::kExpired:
        return MakeError(ErrorCode::kFailedPrecondition,
                         "sign-in expired before the provider redirected back; open the login "
                         "link again",
                         "AuthorizationExpired");
      case internal::ExpiringMap<PendingAuthorization>::TakeStatus::kNotFound:
        return MakeError(ErrorCode::kNotFound,
                         "state parameter is unknown or was already used; open the login link "
                         "again",
                         "AuthorizationStateNotFound");
    }
  }
  if (!pending->binding.Equals(binding)) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "sign-in callback came from a different browser than the one that opened "
                     "the login link; open the login link again in one browser",
                     "AuthorizationBindingMismatch");
  }
  return std::move(*pending);
}

size_t LoginSessions::PendingLinkCount() const {
  std::lock_guard lock(mutex_);
  return links_.size();
}

size_t LoginSessions::PendingAuthorizationCount() const {
  std::lock_guard lock(mutex_);
  return authorizations_.size();
}

}  // namespace credgate::credentials
