// Compilers for the statements of a policy section. Internal to the policy module.
#pragma once

#include <pugixml.hpp>
#include <string>

#include "common/result.h"
#include "policy/compile_support.h"
#include "policy/statement.h"

namespace credgate::policy::internal {

// Compiles the child elements of `parent` as statements of `scope.section`. `path_prefix` is
// the parent's path ("" for a section, "choose[1]/when[1]/" below it); `<base/>` is accepted
// only when `allow_base` is set.
Result<StatementList> CompileStatements(pugi::xml_node parent, const CompileScope& scope,
                                        const std::string& path_prefix, bool allow_base);

// Compile the parts that set-header and set-body share with return-response and send-request.
Result<SetHeaderSpec> CompileSetHeaderSpec(const ElementReader& element);
Result<SetBodySpec> CompileSetBodySpec(const ElementReader& element);

}  // namespace credgate::policy::internal
