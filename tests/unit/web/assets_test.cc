// The asset table generated from the dashboard page's build (web/dashboard/CMakeLists.txt,
// cmake/embed_assets.cmake): what `pinpipe dashboard` serves must be a complete, self-contained
// page. With -DPINPIPE_DASHBOARD_BUNDLE=OFF only the placeholder page is checked.
#include "dashboard/assets.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>
#include <string_view>

namespace pinpipe::dashboard {
namespace {

TEST(BundledAssetsTest, IndexIsFirstAndHtml) {
  ASSERT_FALSE(BundledAssets().empty());
  const Asset& index = BundledAssets().front();
  EXPECT_EQ(index.path, "/");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<!doctype html>"), std::string_view::npos);
}

TEST(BundledAssetsTest, PathsAreUniqueAndHashedWithTheirContentType) {
  struct Case {
    std::string_view extension, content_type;
  };
  constexpr Case kCases[] = {
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
  };
  const std::regex hashed(R"(^/assets/[A-Za-z0-9_.-]+-[A-Z0-9]{8}\.(js|css)$)");
  std::set<std::string_view> paths;
  for (const Asset& asset : BundledAssets()) {
    EXPECT_TRUE(paths.insert(asset.path).second) << "duplicate " << asset.path;
    EXPECT_FALSE(asset.body.empty()) << asset.path;
    if (asset.path == "/") continue;
    EXPECT_TRUE(std::regex_match(std::string(asset.path), hashed)) << asset.path;
    bool typed = false;
    for (const Case& c : kCases) {
      if (asset.path.ends_with(c.extension)) {
        EXPECT_EQ(asset.content_type, c.content_type) << asset.path;
        typed = true;
      }
    }
    EXPECT_TRUE(typed) << asset.path;
  }
}

// index.html names exactly the bundled assets, loads nothing from elsewhere, and sends no inline
// script (its Content-Security-Policy allows only 'self').
TEST(BundledAssetsTest, IndexReferencesExactlyTheBundledAssets) {
  const std::string index(BundledAssets().front().body);
  const std::regex reference(R"((?:src|href)="([^"]*)\")");
  std::set<std::string> referenced;
  for (auto it = std::sregex_iterator(index.begin(), index.end(), reference);
       it != std::sregex_iterator(); ++it) {
    const std::string url = (*it)[1].str();
    if (url == "data:," || url == "/openapi.json") continue;  // the empty favicon; the API docs
    EXPECT_TRUE(url.starts_with("/assets/")) << "index.html loads " << url;
    referenced.insert(url);
  }
  std::set<std::string> bundled;
  for (const Asset& asset : BundledAssets()) {
    if (asset.path != "/") bundled.insert(std::string(asset.path));
  }
  EXPECT_EQ(referenced, bundled);
  EXPECT_EQ(index.find("<script>"), std::string::npos);
#if PINPIPE_DASHBOARD_BUNDLED
  EXPECT_EQ(bundled.size(), 2u) << "one JS and one CSS file";
  EXPECT_NE(index.find("Content-Security-Policy"), std::string::npos);
#else
  EXPECT_TRUE(bundled.empty());
#endif
}

}  // namespace
}  // namespace pinpipe::dashboard
