// The single-process defaults of TokenPersistence's refresh claim methods.
#include "credentials/token_manager.h"

namespace credgate::credentials {

boost::asio::awaitable<Result<RefreshClaim>> TokenPersistence::ClaimRefresh(
    const std::string& /*connection_key*/, int64_t /*version*/) {
  co_return RefreshClaim{};
}

boost::asio::awaitable<Result<int64_t>> TokenPersistence::CommitRefresh(
    const std::string& connection_key, const TokenSet& tokens, int64_t /*expected_version*/) {
  co_return co_await SaveTokens(connection_key, tokens);
}

boost::asio::awaitable<void> TokenPersistence::ReleaseRefresh(
    const std::string& /*connection_key*/, bool /*attempt_finished*/) {
  co_return;
}

boost::asio::awaitable<Result<std::shared_ptr<const TokenSet>>> TokenPersistence::LoadTokens(
    const std::string& connection_key) {
  co_return MakeError(ErrorCode::kNotFound,
                      "no stored tokens are readable for connection '" + connection_key + "'");
}

}  // namespace credgate::credentials
