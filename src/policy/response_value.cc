#include "policy/response_value.h"

#include "policy/text.h"

namespace credgate::policy {

namespace {

class Response final : public Object {
 public:
  Response(int status, std::shared_ptr<const Object> headers, std::string body)
      : status_(status), headers_(std::move(headers)), body_(std::move(body)) {}

  std::string_view TypeName() const override { return "IResponse"; }

  Result<Value> GetMember(std::string_view name) const override {
    if (name == "StatusCode") return Value(static_cast<int64_t>(status_));
    if (name == "StatusReason") return Value("");
    if (name == "Headers") return Value(headers_);
    if (name == "Body") return Value(body_);
    return Object::GetMember(name);
  }

 private:
  int status_;
  std::shared_ptr<const Object> headers_;
  std::string body_;
};

}  // namespace

std::shared_ptr<const Object> MakeResponse(
    int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string body) {
  Entries entries;
  for (const auto& [name, value] : headers) {
    bool merged = false;
    for (auto& [existing, joined] : entries) {
      if (EqualsIgnoreCase(existing, name)) {
        joined = Value(joined.AsString() + ", " + value);
        merged = true;
        break;
      }
    }
    if (!merged) entries.emplace_back(name, Value(value));
  }
  return std::make_shared<Response>(
      status, MakeDictionary(std::move(entries), /*ignore_case=*/true), std::move(body));
}

}  // namespace credgate::policy
