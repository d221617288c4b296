// Lookup over the page's bundled files (assets.h, BundledAssets()): the asset served at a URL
// path, and whether its name carries a content hash. A name with a content hash before its
// extension ("/assets/main-5XJ2QH3K.js": '-' then at least 8 letters or digits) is immutable
// and served with a year-long cache lifetime; the others (the page "/") are revalidated on every
// load. Pure functions over static data; thread-safe.
#pragma once

#include <string_view>

#include "dashboard/assets.h"

namespace pinpipe::dashboard {

// The asset at URL path `path` ("/" or "/assets/<name>"), or null.
const Asset* FindAsset(std::string_view path);
// True for a name with a content hash (see above).
bool IsHashedAssetName(std::string_view path);

}  // namespace pinpipe::dashboard
