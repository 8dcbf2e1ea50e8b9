#include "management/operation_responses.h"

#include <boost/json.hpp>

#include "management/resource_fields.h"

namespace credgate::management {

namespace json = boost::json;
using internal::Invalid;

namespace {

// Returns the body of an example object {"value": ...}; a string value is the body itself.
Result<std::string> ExampleBody(const json::value& example, const std::string& field) {
  if (!example.is_object()) return Invalid("'" + field + "' must be an object with 'value'");
  const json::value* value = example.as_object().if_contains("value");
  if (value == nullptr || value->is_null()) return std::string();
  if (value->is_string()) return std::string(value->get_string());
  return json::serialize(*value);
}

// Returns the body of a representation: its example "default", else its first example, else its
// sample.
Result<std::string> RepresentationBody(const json::object& representation,
                                       const std::string& field) {
  const json::value* examples = representation.if_contains("examples");
  if (examples != nullptr && !examples->is_null()) {
    if (!examples->is_object()) {
      return Invalid("'" + field + ".examples' must map example names to {\"value\": ...}");
    }
    const json::object& named = examples->as_object();
    for (const auto& [name, example] : named) {
      auto body = ExampleBody(example, field + ".examples." + std::string(name));
      if (!body.ok()) return body;
    }
    if (const json::value* preferred = named.if_contains("default")) {
      return ExampleBody(*preferred, field + ".examples.default");
    }
    if (!named.empty()) {
      return ExampleBody(named.begin()->value(), field + ".examples");
    }
  }
  auto sample = internal::OptionalString(representation, "sample", field + ".sample");
  if (!sample.ok()) return sample.error();
  return std::move(*sample);
}

}  // namespace

Status ParseOperationResponses(const json::object& properties, OperationResource& operation) {
  const json::value* responses = properties.if_contains("responses");
  if (responses == nullptr || responses->is_null()) return OkStatus();
  if (!responses->is_array()) return Invalid("'properties.responses' must be a list");
  const json::array& list = responses->as_array();
  if (list.size() > kMaxOperationResponses) {
    return Invalid("'properties.responses' has more than " +
                   std::to_string(kMaxOperationResponses) + " responses");
  }

  auto examples = std::make_shared<policy::ResponseExamples>();
  size_t total_bytes = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string field = "properties.responses[" + std::to_string(i) + "]";
    if (!list[i].is_object()) return Invalid("'" + field + "' must be an object");
    const json::object& response = list[i].as_object();
    const json::value* status = response.if_contains("statusCode");
    if (status == nullptr || !status->is_int64() || status->as_int64() < 100 ||
        status->as_int64() > 599) {
      return Invalid("'" + field + ".statusCode' must be an integer from 100 to 599");
    }
    const json::value* representations = response.if_contains("representations");
    if (representations == nullptr || representations->is_null()) continue;
    if (!representations->is_array()) {
      return Invalid("'" + field + ".representations' must be a list");
    }
    if (representations->as_array().size() > kMaxRepresentations) {
      return Invalid("'" + field + ".representations' has more than " +
                     std::to_string(kMaxRepresentations) + " entries");
    }
    size_t j = 0;
    for (const json::value& item : representations->as_array()) {
      const std::string where = field + ".representations[" + std::to_string(j++) + "]";
      if (!item.is_object()) return Invalid("'" + where + "' must be an object");
      auto content_type =
          internal::RequiredString(item.as_object(), "contentType", where + ".contentType");
      if (!content_type.ok()) return content_type.error();
      auto body = RepresentationBody(item.as_object(), where);
      if (!body.ok()) return body.error();
      total_bytes += body->size();
      if (total_bytes > kMaxExampleBytes) {
        return Invalid("the example bodies of 'properties.responses' are larger than 256 KiB");
      }
      examples->push_back(policy::ResponseExample{static_cast<int>(status->as_int64()),
                                                  std::move(*content_type), std::move(*body)});
    }
  }
  operation.responses = list;
  if (!examples->empty()) operation.response_examples = std::move(examples);
  return OkStatus();
}

}  // namespace credgate::management
