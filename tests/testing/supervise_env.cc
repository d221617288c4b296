#include "testing/supervise_env.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "testing/local_env.h"
#include "testing/stream_env.h"

namespace pinpipe::testing {

const SupervisedWorker* SupervisorStatusFile::Find(const std::string& name) const {
  for (const SupervisedWorker& w : workers) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

StatusOr<SupervisorStatusFile> ReadSupervisorStatus(const std::string& path) {
  const std::string text = ReadWholeFile(path);
  if (text.empty()) return NotFound("no status file " + path);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text).get(doc) != simdjson::SUCCESS) return DataLoss("not JSON: " + text);
  SupervisorStatusFile status;
  int64_t pid = 0;
  std::string_view state;
  simdjson::dom::array workers;
  if (doc["pid"].get(pid) != simdjson::SUCCESS || doc["state"].get(state) != simdjson::SUCCESS ||
      doc["workers"].get(workers) != simdjson::SUCCESS) {
    return DataLoss("unexpected status file: " + text);
  }
  status.pid = static_cast<int>(pid);
  status.state = std::string(state);
  for (simdjson::dom::element w : workers) {
    SupervisedWorker worker;
    std::string_view name, worker_state;
    int64_t worker_pid = 0, restarts = 0, failed_starts = 0;
    if (w["name"].get(name) != simdjson::SUCCESS ||
        w["state"].get(worker_state) != simdjson::SUCCESS ||
        w["pid"].get(worker_pid) != simdjson::SUCCESS ||
        w["restarts"].get(restarts) != simdjson::SUCCESS ||
        w["failed_starts"].get(failed_starts) != simdjson::SUCCESS) {
      return DataLoss("unexpected worker in the status file: " + text);
    }
    worker.name = std::string(name);
    worker.state = std::string(worker_state);
    worker.pid = static_cast<int>(worker_pid);
    worker.restarts = static_cast<int>(restarts);
    worker.failed_starts = static_cast<int>(failed_starts);
    std::string_view last_exit;
    if (w["last_exit"].get(last_exit) == simdjson::SUCCESS) {
      worker.last_exit = std::string(last_exit);
    }
    status.workers.push_back(std::move(worker));
  }
  return status;
}

StatusOr<StreamBookkeeping> ReadStreamBookkeeping(const std::string& dsn,
                                                  const std::string& group) {
  StreamBookkeeping b;
  const std::string batches =
      fmt::format("FROM pinpipe_stream_batches WHERE consumer_group = '{}'", group);
  ASSIGN_OR_RETURN(b.records, QueryInt(dsn, "SELECT coalesce(sum(records), 0) " + batches));
  ASSIGN_OR_RETURN(b.dedup, QueryInt(dsn, "SELECT coalesce(sum(dedup), 0) " + batches));
  ASSIGN_OR_RETURN(b.dead, QueryInt(dsn, "SELECT coalesce(sum(dead), 0) " + batches));
  ASSIGN_OR_RETURN(b.dropped, QueryInt(dsn, "SELECT coalesce(sum(dropped), 0) " + batches));
  ASSIGN_OR_RETURN(b.rejected, QueryInt(dsn, "SELECT coalesce(sum(rejected), 0) " + batches));
  ASSIGN_OR_RETURN(b.offsets,
                   QueryInt(dsn, fmt::format("SELECT coalesce(sum(next_offset), 0) FROM "
                                             "pinpipe_stream_offsets WHERE consumer_group = '{}'",
                                             group)));
  ASSIGN_OR_RETURN(b.table_rows, QueryInt(dsn,
                                          "SELECT (SELECT count(*) FROM experimental_data) + "
                                          "(SELECT count(*) FROM geolocation_data_clean) + "
                                          "(SELECT count(*) FROM user_data_clean)"));
  ASSIGN_OR_RETURN(b.dead_letters, QueryInt(dsn, "SELECT count(*) FROM pinpipe_dead_letters"));
  ASSIGN_OR_RETURN(
      b.duplicate_keys,
      QueryInt(dsn,
               "SELECT (SELECT count(*) - count(DISTINCT unique_id) FROM experimental_data) + "
               "(SELECT count(*) - count(DISTINCT ind) FROM geolocation_data_clean) + "
               "(SELECT count(*) - count(DISTINCT ind) FROM user_data_clean)"));
  return b;
}

}  // namespace pinpipe::testing
