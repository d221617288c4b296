// RAII owners for libcurl handles and a small pool of easy handles.
//
// CurlEasy owns a CURL* (curl_easy_cleanup), CurlSlist a header list (curl_slist_free_all). A
// CurlPool hands out easy handles for one request at a time and takes them back afterwards, so
// each handle keeps its connection alive across requests (HTTP keep-alive) and concurrent
// requests from several threads each use their own handle. Thread-safety: CurlPool is
// thread-safe; a leased handle belongs to the leasing thread until the lease ends.
#pragma once

#include <curl/curl.h>

#include <memory>
#include <mutex>
#include <vector>

#include "core/mutex.h"

namespace pinpipe::lake::internal {

struct CurlEasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

// curl_global_init, once per process (it is not thread-safe itself, hence the call_once).
void EnsureCurlGlobalInit();

class CurlPool {
 public:
  // Keeps at most `max_idle` idle handles; more concurrent requests get extra handles that are
  // closed when returned.
  explicit CurlPool(size_t max_idle) : max_idle_(max_idle) {}

  class Lease {
   public:
    Lease(CurlPool* pool, CurlEasy handle) : pool_(pool), handle_(std::move(handle)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (handle_ && !discard_) pool_->Return(std::move(handle_));
    }
    CURL* get() const { return handle_.get(); }
    // Closes the handle instead of returning it (its connection may be in a bad state).
    void Discard() { discard_ = true; }

   private:
    CurlPool* pool_;
    CurlEasy handle_;
    bool discard_ = false;
  };

  // A handle, reused or new; null (in the lease) only when libcurl cannot allocate one.
  Lease Acquire();

 private:
  void Return(CurlEasy handle);

  const size_t max_idle_;
  core::Mutex mu_;
  std::vector<CurlEasy> idle_ GUARDED_BY(mu_);
};

}  // namespace pinpipe::lake::internal
