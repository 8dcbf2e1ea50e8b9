// Compares a resource declared in the configuration file with the stored one, so that a restart
// applies the declared resources without writing to the store when nothing changed.
#pragma once

#include <boost/json/object.hpp>

#include "management/routes.h"
#include "runtime/state.h"

namespace credgate::management {

// Returns whether `snapshot` contains the resource at `path` with the content that a PUT of
// `body` would store. A body that does not parse never matches, so that its PUT reports the
// error. A provider body without clientSecret matches any stored secret, as a PUT keeps it.
bool MatchesStored(const runtime::Snapshot& snapshot, const ResourcePath& path,
                   const boost::json::object& body);

}  // namespace credgate::management
