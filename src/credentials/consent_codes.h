// ConsentCodes: the codes with which an application vouches for a browser, so that the
// confirmation page of later login links for the same connection is skipped in that browser.
// This is the meaning credgate gives to API Management's confirmConsentCode operation.
//
// After a sign-in whose login link has a post-login redirect URL, the gateway issues a consent
// code for the connection and the browser (Issue), appends it to the redirect URL as
// `consentCode`, and keeps the browser's token in a cookie. The application at that URL checks
// that its signed-in user is the one the connection is meant for, and only then confirms the
// code through the management API (Confirm). Until trust_lifetime passes, IsTrusted is then true
// for that browser token and connection. The code reaches no one but the browser that signed in
// and the allow-listed application it is redirected to, so holding an admin key is not enough
// to skip the page in someone else's browser.
//
// Codes and browser tokens are 32 random bytes in base64url, stored under their SHA-256, and
// lost on restart, which only brings the confirmation page back. Thread-safe. `clock` and
// `random` must outlive the ConsentCodes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/random.h"
#include "common/result.h"
#include "common/secret.h"
#include "credentials/expiring_map.h"

namespace credgate::credentials {

class ConsentCodes {
 public:
  struct Options {
    std::chrono::seconds code_lifetime{std::chrono::minutes(10)};
    std::chrono::seconds trust_lifetime{std::chrono::hours(8)};
    // Upper bounds on unconfirmed codes and on trusted (browser, connection) pairs.
    size_t max_codes = 10'000;
    size_t max_trusted = 10'000;
  };

  // Running totals, for metrics.
  struct Counters {
    std::atomic<uint64_t> issued{0};
    std::atomic<uint64_t> confirmed{0};
    std::atomic<uint64_t> rejected{0};  // Unknown, expired, reused or other connection's codes.
  };

  ConsentCodes(const Clock& clock, RandomSource& random);
  ConsentCodes(const Clock& clock, RandomSource& random, Options options);

  // Returns a new browser token for the cookie that identifies a browser to IsTrusted.
  Secret NewBrowserToken();

  // Issues a single-use consent code that, once confirmed, trusts `browser` for
  // `connection_key`. Errors: kResourceExhausted when max_codes unconfirmed codes exist.
  Result<std::string> Issue(std::string connection_key, const Secret& browser);

  // Confirms `code` for `connection_key`, consuming it. Errors, all kInvalidArgument with reason
  // "InvalidConsentCode": an unknown, used or expired code, or one issued for another
  // connection (which consumes it too). kResourceExhausted when max_trusted pairs exist.
  Status Confirm(std::string_view connection_key, std::string_view code);

  // Returns whether a confirmed code trusts `browser` (the cookie value) for `connection_key`.
  bool IsTrusted(std::string_view connection_key, std::string_view browser) const;

  const Counters& counters() const { return counters_; }

 private:
  struct IssuedCode {
    std::string connection_key;
    Secret browser;
  };
  struct Trusted {};

  const Clock& clock_;
  RandomSource& random_;
  const Options options_;
  Counters counters_;

  mutable std::mutex mutex_;
  internal::ExpiringMap<IssuedCode> codes_;  // Guarded by mutex_.
  internal::ExpiringMap<Trusted> trusted_;   // Guarded by mutex_.
};

}  // namespace credgate::credentials
