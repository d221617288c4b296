// LakeSource: the last day the archiver sealed, read from the lake (`--lake`): a day is sealed
// for the pipeline when every topic has its `<topic>/dt=D/_SUCCESS` marker (the names come from
// archive/archive_layout.h, the archiver's own). It probes with Head requests, at most every
// `interval`: first back from today (up to `max_days_back` days) until a sealed day is found,
// then only the days after the last one found. A few requests a minute, whatever the lake's
// size (a listing of an S3 lake would grow with every object the archiver ever wrote).
//
// Thread-safety: the refresher thread only.
#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"

namespace pinpipe::dashboard {

class LakeSource {
 public:
  // `store` may be null (no lake configured: last_sealed_day() stays empty).
  LakeSource(std::unique_ptr<lake::ObjectStore> store, std::vector<std::string> topics,
             std::chrono::milliseconds interval, int max_days_back = 31);

  // `now`: Unix seconds.
  void Refresh(double now);

  bool configured() const { return store_ != nullptr; }
  std::optional<int64_t> last_sealed_day() const { return last_sealed_; }  // days since epoch
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  std::optional<double> last_ok() const { return last_ok_; }
  uint64_t requests() const { return requests_; }

 private:
  // True when every topic has the day's marker.
  StatusOr<bool> Sealed(int64_t day);

  std::unique_ptr<lake::ObjectStore> store_;
  std::vector<std::string> topics_;
  std::chrono::milliseconds interval_;
  int max_days_back_;
  double next_ = 0;
  std::optional<int64_t> last_sealed_;
  bool ok_ = false;
  std::string error_ = "not read yet";
  std::optional<double> last_ok_;
  uint64_t requests_ = 0;
};

}  // namespace pinpipe::dashboard
