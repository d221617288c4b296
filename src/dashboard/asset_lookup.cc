#include "dashboard/asset_lookup.h"

namespace pinpipe::dashboard {
namespace {

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

const Asset* FindAsset(std::string_view path) {
  for (const Asset& a : BundledAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

bool IsHashedAssetName(std::string_view path) {
  const size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find('.');
  if (dot == std::string_view::npos) return false;
  name = name.substr(0, dot);
  const size_t dash = name.rfind('-');
  if (dash == std::string_view::npos) return false;
  const std::string_view hash = name.substr(dash + 1);
  if (hash.size() < 8) return false;
  for (char c : hash) {
    if (!IsAlnum(c)) return false;
  }
  return true;
}

}  // namespace pinpipe::dashboard
