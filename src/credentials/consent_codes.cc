#include "credentials/consent_codes.h"

#include <optional>

#include "common/hash.h"

namespace credgate::credentials {

namespace {

constexpr size_t kTokenBytes = 32;

std::string CodeKey(std::string_view code) { return Sha256String(code); }

// A browser token is 43 base64url characters, so a newline cannot occur in it.
std::string TrustKey(std::string_view connection_key, std::string_view browser) {
  return Sha256String(std::string(browser) + "\n" + std::string(connection_key));
}

Error InvalidCode(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message), "InvalidConsentCode");
}

}  // namespace

ConsentCodes::ConsentCodes(const Clock& clock, RandomSource& random)
    : ConsentCodes(clock, random, Options()) {}

ConsentCodes::ConsentCodes(const Clock& clock, RandomSource& random, Options options)
    : clock_(clock),
      random_(random),
      options_(options),
      codes_(options.max_codes),
      trusted_(options.max_trusted) {}

Secret ConsentCodes::NewBrowserToken() {
  std::lock_guard lock(mutex_);
  return Secret(RandomToken(random_, kTokenBytes));
}

Result<std::string> ConsentCodes::Issue(std::string connection_key, const Secret& browser) {
  const TimePoint now = clock_.Now();

  std::lock_guard lock(mutex_);
  std::string code = RandomToken(random_, kTokenBytes);
  IssuedCode issued{std::move(connection_key), browser};
  if (!codes_.Insert(CodeKey(code), std::move(issued), now + options_.code_lifetime, now)) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "cannot issue a consent code: " + std::to_string(options_.max_codes) +
                         " codes wait for confirmation");
  }
  counters_.issued.fetch_add(1, std::memory_order_relaxed);
  return code;
}

Status ConsentCodes::Confirm(std::string_view connection_key, std::string_view code) {
  const TimePoint now = clock_.Now();
  std::optional<IssuedCode> issued;

  std::lock_guard lock(mutex_);
  auto status = codes_.Take(CodeKey(code), now, issued);
  if (status != internal::ExpiringMap<IssuedCode>::TakeStatus::kFound) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    return InvalidCode(status == internal::ExpiringMap<IssuedCode>::TakeStatus::kExpired
                           ? "the consent code expired; codes must be confirmed within minutes "
                             "of the sign-in"
                           : "the consent code is unknown or was already confirmed");
  }
  if (issued->connection_key != connection_key) {
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    return InvalidCode(
        "the consent code was issued for another authorization; confirm it on "
        "the authorization that was signed in");
  }
  const std::string key = TrustKey(connection_key, issued->browser.Expose());
  if (!trusted_.Contains(key, now) &&
      !trusted_.Insert(key, Trusted{}, now + options_.trust_lifetime, now)) {
    return MakeError(ErrorCode::kResourceExhausted,
                     "cannot confirm the consent code: " + std::to_string(options_.max_trusted) +
                         " browsers are trusted; retry later");
  }
  counters_.confirmed.fetch_add(1, std::memory_order_relaxed);
  return OkStatus();
}

bool ConsentCodes::IsTrusted(std::string_view connection_key, std::string_view browser) const {
  if (browser.empty()) return false;
  const TimePoint now = clock_.Now();
  std::lock_guard lock(mutex_);
  return trusted_.Contains(TrustKey(connection_key, browser), now);
}

}  // namespace credgate::credentials
