// Runner: runs the statements of one section for one request. Internal to the policy module.
// executor.cc defines the section flow and the statements that complete at once.
// executor_calls.cc defines those that call other services or wait (validate-jwt with
// openid-config, send-request, retry). Not thread-safe: one request owns one Runner.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/concurrency_slots.h"
#include "policy/context.h"
#include "policy/executor.h"
#include "policy/pipeline.h"
#include "policy/request_statements.h"
#include "policy/validate_jwt.h"

namespace credgate::policy::internal {

enum class Step { kNext, kRespond, kFailed };

struct Failure {
  int status = 500;
  std::string reason;
  std::string message;
};

class Runner {
 public:
  Runner(PolicyContext& context, PolicyServices& services, Section section);

  boost::asio::awaitable<Step> RunPipeline(const std::vector<PipelineStatement>& statements);
  // Records the failure of the statement that ran last in context.last_error and sets the
  // default error response.
  void RecordFailure();

 private:
  Step Fail(const Statement& statement, Failure failure);
  Step FailExpression(const Statement& statement, const Error& error);
  Step RunList(const StatementList& statements);
  boost::asio::awaitable<Step> RunListAsync(const StatementList& statements);
  // Returns the branch of `choose` to run, nullptr when none applies, or a failure in *step.
  const StatementList* PickBranch(const Statement& statement, const ChooseSpec& choose, Step* step);
  HeaderMap& TargetHeaders();
  Step ApplySetHeader(const Statement& statement, const SetHeaderSpec& spec, HeaderMap& headers);
  // Sets the status of `target`, which is context.response or a response being built.
  Step ApplySetStatus(const Statement& statement, const SetStatusSpec& spec,
                      ResponseState& target);
  Step ApplyReturnResponse(const Statement& statement, const ReturnResponseSpec& spec);
  Step RunSync(const Statement& statement);
  boost::asio::awaitable<Step> RunAsync(const Statement& statement);
  // Runs the statements of request_statements.h; nullopt for any other statement.
  std::optional<internal::StatementOutcome> RunRequestStatement(const Statement& statement);
  // Adds the outcome of the top-level `statement` to services_.trace() (executor_trace.cc).
  void RecordStep(const Statement& statement, Step step, PolicyTrace& trace);
  // Takes a slot of `spec` for the evaluated key into *slot, or fails with 429.
  Step AcquireSlot(const Statement& statement, const LimitConcurrencySpec& spec,
                   ConcurrencySlots::Slot* slot);

  // executor_calls.cc: statements that call other services or wait.

  // Returns the wait before retry number `attempt` (0 for the first): fixed without delta,
  // linear with delta, exponential with delta and max-interval.
  static std::chrono::seconds RetryWait(const RetrySpec& spec, int64_t attempt);
  // Runs the statements of <retry>, then again while its condition holds, at most count times.
  boost::asio::awaitable<Step> RunRetry(const Statement& statement, const RetrySpec& spec);
  // forward-request inside <retry> or <limit-concurrency>: PolicyServices::ForwardRequest.
  boost::asio::awaitable<Step> RunForwardRequest(const Statement& statement,
                                                 const ForwardRequestSpec& spec);
  // Builds the request of send-request or send-one-way-request and sends it.
  boost::asio::awaitable<Step> RunSendRequest(const Statement& statement,
                                              const SendRequestSpec& spec);
  // Sets the certificate that the backend call presents (context.backend_client_certificate).
  Step ApplyAuthenticationCertificate(const Statement& statement,
                                      const AuthenticationCertificateSpec& spec);
  // Obtains the token of <authentication-managed-identity> and stores it in the output variable,
  // or else sets "Authorization: Bearer <token>" in `headers`. A failed request with ignore-error
  // leaves both unchanged.
  boost::asio::awaitable<Step> RunManagedIdentity(const Statement& statement,
                                                  const ManagedIdentitySpec& spec,
                                                  HeaderMap& headers);
  using ConfigList = std::vector<std::shared_ptr<const identity::OpenIdConfiguration>>;
  // Checks the token of `check` against the keys in memory and those of `configs`. Sets
  // *unknown_kid when a refetch of the OpenID configurations might find the token's key.
  Step RunValidateJwt(const Statement& statement, const JwtCheck& check, const ConfigList& configs,
                      bool* unknown_kid = nullptr);
  Step FailJwt(const Statement& statement, const JwtCheck& check, JwtCheckFailure failure);
  // Loads the OpenID configurations of `check` (from memory once fetched), then checks the
  // token. A token whose kid no loaded key has causes one rate-limited refetch and a retry.
  boost::asio::awaitable<Step> RunValidateJwtAsync(const Statement& statement,
                                                   const JwtCheck& check);
  boost::asio::awaitable<Step> RunGetAuthorizationContext(const Statement& statement,
                                                          const GetAuthorizationContextSpec& spec);
  // Returns the token of "Authorization: Bearer <token>" (RFC 6750 §2.1), or "".
  static std::string BearerToken(const HeaderMap& headers);

  PolicyContext& context_;
  PolicyServices& services_;
  Section section_;
  PolicyScope scope_ = PolicyScope::kGlobal;
  std::optional<Failure> failure_;
  const Statement* failed_ = nullptr;
  PolicyScope failed_scope_ = PolicyScope::kGlobal;
};

}  // namespace credgate::policy::internal
