#include "lake/internal/curl_pool.h"
#include "core/mutex.h"

namespace pinpipe::lake::internal {

void EnsureCurlGlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlPool::Lease CurlPool::Acquire() {
  {
    core::MutexLock lock(mu_);
    if (!idle_.empty()) {
      CurlEasy handle = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(handle));
    }
  }
  EnsureCurlGlobalInit();
  return Lease(this, CurlEasy(curl_easy_init()));
}

void CurlPool::Return(CurlEasy handle) {
  core::MutexLock lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(handle));
}

}  // namespace pinpipe::lake::internal
