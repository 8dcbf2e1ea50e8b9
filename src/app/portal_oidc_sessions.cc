#include "app/portal_oidc_sessions.h"

#include <algorithm>
#include <optional>

#include "common/hash.h"
#include "credentials/pkce.h"

namespace credgate::app {

namespace {

constexpr size_t kHandleBytes = 32;

std::string HandleKey(std::string_view handle) { return Sha256String(handle); }

}  // namespace

PortalOidcSessions::PortalOidcSessions(const Clock& clock, RandomSource& random)
    : PortalOidcSessions(clock, random, Options()) {}

PortalOidcSessions::PortalOidcSessions(const Clock& clock, RandomSource& random, Options options)
    : clock_(clock),
      random_(random),
      options_(options),
      sign_ins_(options.max_pending_sign_ins),
      sessions_(options.max_sessions) {}

Result<PortalSignInStart> PortalOidcSessions::BeginSignIn() {
  const TimePoint now = clock_.Now();

  std::lock_guard lock(mutex_);
  credentials::PkcePair pkce = credentials::GeneratePkcePair(random_);
  PortalSignInStart start;
  start.state = RandomToken(random_, kHandleBytes);
  start.nonce = RandomToken(random_, kHandleBytes);
  start.code_challenge = std::move(pkce.code_challenge);
  start.binding = Secret(RandomToken(random_, kHandleBytes));
  PendingPortalSignIn pending{start.nonce, std::move(pkce.code_verifier), start.binding};
  if (!sign_ins_.Insert(HandleKey(start.state), std::move(pending),
                        now + options_.sign_in_lifetime, now)) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "cannot start a portal sign-in: " +
                         std::to_string(options_.max_pending_sign_ins) +
                         " sign-ins are pending; retry in a few minutes");
  }
  return start;
}

Result<PendingPortalSignIn> PortalOidcSessions::CompleteSignIn(std::string_view state,
                                                               std::string_view binding) {
  const TimePoint now = clock_.Now();
  std::optional<PendingPortalSignIn> pending;

  std::lock_guard lock(mutex_);
  using TakeStatus = credentials::internal::ExpiringMap<PendingPortalSignIn>::TakeStatus;
  switch (sign_ins_.Take(HandleKey(state), now, pending)) {
    case TakeStatus::kFound:
      break;
    case TakeStatus::kExpired:
      return MakeError(ErrorCode::kFailedPrecondition,
                       "the portal sign-in expired; start it again from the portal",
                       "SignInExpired");
    case TakeStatus::kNotFound:
      return MakeError(ErrorCode::kNotFound,
                       "the state of the portal sign-in is unknown or was already used; start "
                       "the sign-in again from the portal",
                       "InvalidState");
  }
  if (!pending->binding.Equals(binding)) {
    return MakeError(ErrorCode::kPermissionDenied,
                     "the portal sign-in was started in another browser, or its cookie is "
                     "missing; start the sign-in again from the portal",
                     "InvalidState");
  }
  return std::move(*pending);
}

Result<CreatedPortalSession> PortalOidcSessions::CreateSession(Secret id_token,
                                                               std::string principal,
                                                               TimePoint expires_at) {
  const TimePoint now = clock_.Now();
  if (expires_at <= now) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     "the ID token expired before the portal session started");
  }
  const TimePoint ends_at = std::min(expires_at, now + options_.max_session_lifetime);

  std::lock_guard lock(mutex_);
  CreatedPortalSession created{Secret(RandomToken(random_, kHandleBytes)),
                               Secret(RandomToken(random_, kHandleBytes))};
  PortalSession session{std::move(id_token), created.csrf_token, std::move(principal)};
  if (!sessions_.Insert(HandleKey(created.session_id.Expose()), std::move(session), ends_at,
                        now)) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "cannot start a portal session: " + std::to_string(options_.max_sessions) +
                         " sessions exist; retry after some end");
  }
  return created;
}

Result<PortalSession> PortalOidcSessions::FindSession(std::string_view session_id) const {
  const TimePoint now = clock_.Now();

  std::lock_guard lock(mutex_);
  const PortalSession* session = sessions_.Find(HandleKey(session_id), now);
  if (session == nullptr) {
    return MakeError(ErrorCode::kUnauthenticated,
                     "the portal session ended or expired; sign in again", "Unauthorized");
  }
  return *session;
}

bool PortalOidcSessions::EndSession(std::string_view session_id) {
  std::lock_guard lock(mutex_);
  return sessions_.Erase(HandleKey(session_id));
}

size_t PortalOidcSessions::PendingSignInCount() const {
  std::lock_guard lock(mutex_);
  return sign_ins_.size();
}

size_t PortalOidcSessions::SessionCount() const {
  std::lock_guard lock(mutex_);
  return sessions_.size();
}

}  // namespace credgate::app
