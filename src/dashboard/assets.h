// The dashboard page's files, compiled into the binary: `pinpipe dashboard` serves them from
// this table, nothing from the file system or a CDN. The table is generated at build time
// (web/dashboard/CMakeLists.txt: npm ci from the committed package-lock.json, esbuild, then
// cmake/embed_assets.cmake writes the C++ source) into the library pinpipe_dashboard_assets.
//
// Paths: "/" (index.html) and "/assets/<name>-<hash>.js|css" (content-hashed names: a new
// build gets new names, so these may be cached for ever). index.html names exactly the assets
// in the table. Bodies are the files' bytes; content types carry "; charset=utf-8" for text.
// Static data: thread-safe, valid for the whole program.
#pragma once

#include <span>
#include <string_view>

namespace pinpipe::dashboard {

struct Asset {
  std::string_view path, content_type, body;
};

// Every bundled file, sorted by path ("/" first).
std::span<const Asset> BundledAssets();

}  // namespace pinpipe::dashboard
