#include "policy/pipeline.h"

namespace credgate::policy {

namespace {

// Appends the statements of `section` as seen from document `level` (0 global, 1 api,
// 2 operation), expanding <base/> into the next outer level.
void Expand(const std::array<std::shared_ptr<const CompiledDocument>, 3>& documents, int level,
            Section section, std::vector<PipelineStatement>& out) {
  if (level < 0) return;
  const auto& document = documents[static_cast<size_t>(level)];
  if (!document || !document->section(section)) {
    Expand(documents, level - 1, section, out);
    return;
  }
  for (const Statement& statement : *document->section(section)) {
    if (std::holds_alternative<BaseSpec>(statement.spec)) {
      Expand(documents, level - 1, section, out);
    } else {
      out.push_back(PipelineStatement{&statement, document->scope});
    }
  }
}

}  // namespace

Result<std::shared_ptr<const CompiledPipeline>> ComposePipeline(
    std::shared_ptr<const CompiledDocument> global, std::shared_ptr<const CompiledDocument> api,
    std::shared_ptr<const CompiledDocument> operation) {
  constexpr PolicyScope kExpected[] = {PolicyScope::kGlobal, PolicyScope::kApi,
                                       PolicyScope::kOperation};
  auto pipeline = std::make_shared<CompiledPipeline>();
  pipeline->documents_ = {std::move(global), std::move(api), std::move(operation)};
  for (size_t i = 0; i < 3; ++i) {
    const auto& document = pipeline->documents_[i];
    if (document && document->scope != kExpected[i]) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "a document compiled for scope '" + std::string(ScopeName(document->scope)) +
                           "' was passed as the " + std::string(ScopeName(kExpected[i])) +
                           " document; compile it with PolicyScope for its position");
    }
    if (document && document->reads_request_body) pipeline->reads_request_body_ = true;
    if (document && document->reads_response_body) pipeline->reads_response_body_ = true;
  }
  for (size_t s = 0; s < kSectionCount; ++s) {
    Expand(pipeline->documents_, 2, static_cast<Section>(s), pipeline->sections_[s]);
  }
  return std::shared_ptr<const CompiledPipeline>(std::move(pipeline));
}

}  // namespace credgate::policy
