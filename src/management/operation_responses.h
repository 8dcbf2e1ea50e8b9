// The responses of an operation (APIM's properties.responses), whose representation examples
// mock-response returns. Internal to the resources files.
#pragma once

#include <boost/json/object.hpp>

#include "common/result.h"
#include "management/resources.h"

namespace credgate::management {

// The maximum number of responses of an operation, of representations per response, and of
// example body bytes over all representations.
inline constexpr size_t kMaxOperationResponses = 50;
inline constexpr size_t kMaxRepresentations = 20;
inline constexpr size_t kMaxExampleBytes = 256 * 1024;

// Validates properties.responses of `properties` into operation.responses and
// operation.response_examples. Each response needs an integer statusCode from 100 to 599; each
// representation a contentType and, optionally, examples ({name: {value}}) and sample. A
// representation's body is its example named "default", else its first example, else its sample.
// A string value is the body itself, and any other JSON value is serialized. Errors:
// kInvalidArgument naming the field, for example properties.responses[1].statusCode.
Status ParseOperationResponses(const boost::json::object& properties, OperationResource& operation);

}  // namespace credgate::management
