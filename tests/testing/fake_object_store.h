// FakeObjectStore: an in-memory lake::ObjectStore for unit tests of the archiver, the batch job
// and anything else built on the lake, with fault switches. It enforces the real contract: the
// same key rules (lake/object_key.h), conditional create, sorted List, Delete of a missing key is
// OK, writers commit only on Close. Thread-safe, like the real stores.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "lake/object_store.h"

namespace pinpipe::testing {

class FakeObjectStore : public lake::ObjectStore {
 public:
  Status Put(std::string_view key, std::string_view bytes,
             const lake::PutOptions& options) override;
  using lake::ObjectStore::Put;
  StatusOr<std::string> Get(std::string_view key) override;
  StatusOr<std::optional<lake::ObjectInfo>> Head(std::string_view key) override;
  StatusOr<std::vector<lake::ObjectInfo>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  StatusOr<std::unique_ptr<lake::ObjectWriter>> NewWriter(std::string_view key,
                                                          const lake::PutOptions& options) override;
  std::string Describe() const override { return "fake://"; }

  // Fault switches. "Puts" are Put calls and writer Closes, counted together from the moment the
  // switch is set: FailNthPut(1) fails the very next one. A failed put stores nothing.
  void FailNthPut(int n, Status status = Unavailable("injected put failure"));
  // Every Get and Head of `key` fails with `status` until ClearFaults().
  void FailGetOf(std::string key, Status status = Unavailable("injected get failure"));
  // The next `count` List calls fail.
  void FailNextLists(int count, Status status = Unavailable("injected list failure"));
  // The next `count` Delete calls fail.
  void FailNextDeletes(int count, Status status = Unavailable("injected delete failure"));
  // Every Append of every writer fails with `status` (writers opened before or after).
  void FailAppends(Status status = Unavailable("injected append failure"));
  // Behave like a server without conditional writes: if_none_match overwrites silently.
  void IgnoreIfNoneMatch(bool ignore);
  void ClearFaults();

  // Inspection.
  std::map<std::string, std::string> objects() const;  // key -> bytes
  int put_calls() const;  // Put calls and writer Closes that reached the commit
  int get_calls() const;
  int list_calls() const;
  int delete_calls() const;
  int open_writers() const;  // writers created and neither closed nor destroyed

 private:
  friend class FakeObjectWriter;
  // The common end of Put and writer Close.
  Status Commit(std::string_view key, std::string bytes, const lake::PutOptions& options);
  Status AppendFault() const;
  void WriterFinished();

  mutable std::mutex mu_;
  // Guarded by mu_:
  struct Object {
    std::string bytes;
    int version = 0;
    std::chrono::system_clock::time_point modified;
  };
  std::map<std::string, Object> objects_;
  int next_version_ = 1;
  int puts_ = 0, gets_ = 0, lists_ = 0, deletes_ = 0, writers_ = 0;
  int fail_put_at_ = 0;  // put number (puts_ value) that fails; 0: none
  Status fail_put_status_;
  std::map<std::string, Status> fail_get_;
  int fail_lists_ = 0;
  Status fail_list_status_;
  int fail_deletes_ = 0;
  Status fail_delete_status_;
  std::optional<Status> fail_append_;
  bool ignore_if_none_match_ = false;
};

}  // namespace pinpipe::testing
