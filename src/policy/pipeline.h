// CompiledPipeline: the effective statements of each section after <base/> composition across
// the global, API and operation scopes. It is built once when a policy is saved or a scope above
// it changes, never per request, and is immutable afterwards, so one instance is shared through
// std::shared_ptr<const CompiledPipeline> by every thread. It keeps its documents alive.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "common/result.h"
#include "policy/document.h"

namespace credgate::policy {

struct PipelineStatement {
  const Statement* statement;  // Owned by one of the pipeline's documents.
  PolicyScope scope;           // The scope of the document that contains it.
};

class CompiledPipeline {
 public:
  const std::vector<PipelineStatement>& section(Section s) const {
    return sections_[static_cast<size_t>(s)];
  }
  // Whether one of the documents reads the caller's request body (CompiledDocument).
  bool reads_request_body() const { return reads_request_body_; }
  // Whether one of the documents reads the backend's response body (CompiledDocument).
  bool reads_response_body() const { return reads_response_body_; }

 private:
  friend Result<std::shared_ptr<const CompiledPipeline>> ComposePipeline(
      std::shared_ptr<const CompiledDocument>, std::shared_ptr<const CompiledDocument>,
      std::shared_ptr<const CompiledDocument>);

  std::array<std::shared_ptr<const CompiledDocument>, 3> documents_;
  std::array<std::vector<PipelineStatement>, kSectionCount> sections_;
  bool reads_request_body_ = false;
  bool reads_response_body_ = false;
};

// Composes the pipeline: in each section the operation's <base/> is replaced by the API's
// section, whose <base/> is replaced by the global one. A section without <base/> replaces the
// enclosing scope's, and an absent section inherits it unchanged. Any document may be null.
// Errors: kInvalidArgument when a document was compiled for another scope than its position.
Result<std::shared_ptr<const CompiledPipeline>> ComposePipeline(
    std::shared_ptr<const CompiledDocument> global, std::shared_ptr<const CompiledDocument> api,
    std::shared_ptr<const CompiledDocument> operation);

}  // namespace credgate::policy
