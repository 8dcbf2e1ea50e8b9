// The files of the web portal (the repository's portal/ folder), compiled into the binary by
// embed_portal.cmake so that a package needs no data folder for them.
#pragma once

#include <string_view>

namespace credgate::app {

struct PortalAsset {
  std::string_view path;          // Relative to portal/, for example "js/app.js".
  std::string_view content_type;  // The Content-Type value, with the charset for text.
  std::string_view body;
};

// Returns the asset at `path`, relative to portal/ and without a leading '/', or nullptr.
const PortalAsset* FindPortalAsset(std::string_view path);

}  // namespace credgate::app
