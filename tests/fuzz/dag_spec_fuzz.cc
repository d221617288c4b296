// libFuzzer target for the DAG file parser (ParseDagSpec). Besides "no crash, no sanitizer
// report" on any input: errors are InvalidArgument and start with the file name; a file that
// parses is usable: its topological order lists every task once with each task after its
// upstream tasks, and the planner can plan it (decide, apply, render every started task's
// request, backfill) without tripping a check.
// Seed corpus: tests/fuzz/corpus/dag_spec/ (the shipped example and variants).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "scheduler/dag_spec.h"
#include "scheduler/planner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace pinpipe::scheduler;  // NOLINT: a fuzz target, not a header
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pinpipe::StatusOr<DagSpec> spec = ParseDagSpec(text, "fuzz.toml");
  if (!spec.ok()) {
    PINPIPE_CHECK(spec.status().code() == pinpipe::StatusCode::kInvalidArgument)
        << spec.status().ToString();
    PINPIPE_CHECK(spec.status().message().rfind("fuzz.toml", 0) == 0) << spec.status().message();
    return 0;
  }
  const size_t n = spec->tasks.size();
  PINPIPE_CHECK(n > 0);
  PINPIPE_CHECK(spec->topological_order.size() == n);
  std::vector<size_t> position(n, n);
  for (size_t i = 0; i < n; ++i) {
    const size_t task = spec->topological_order[i];
    PINPIPE_CHECK(task < n && position[task] == n) << "topological order is not a permutation";
    position[task] = i;
  }
  for (size_t i = 0; i < n; ++i) {
    PINPIPE_CHECK(spec->tasks[i].upstream.size() == spec->tasks[i].depends_on.size());
    for (size_t up : spec->tasks[i].upstream) {
      PINPIPE_CHECK(position[up] < position[i]) << "upstream after downstream";
    }
  }

  const Planner planner(std::move(spec).value());
  const Instant now = planner.spec().start_date + std::chrono::hours(50);
  std::vector<DagRun> runs;
  for (int tick = 0; tick < 3; ++tick) {
    const Decisions d = planner.Decide(now + std::chrono::minutes(tick), runs);
    for (const DataInterval& interval : d.create_runs) PINPIPE_CHECK(interval.start < interval.end);
    planner.Apply(d, now, &runs);
    for (const TaskRef& ref : d.start) {
      for (DagRun& run : runs) {
        if (run.id != ref.run_id) continue;
        const TaskRequest request = planner.MakeRequest(run, ref.task_index, ref.try_number);
        PINPIPE_CHECK(request.task_id == planner.spec().tasks[ref.task_index].id);
        const TaskOutcome outcome{tick == 1 ? TryResult::kFailed : TryResult::kSuccess, 1, ""};
        PINPIPE_CHECK(
            planner.RecordOutcome(&run, request.task_id, ref.try_number, outcome, now).ok());
      }
    }
  }
  pinpipe::StatusOr<std::vector<BackfillItem>> items =
      planner.Backfill(planner.spec().start_date, now, BackfillMode::kRedoAll, now, runs);
  if (items.ok()) planner.ApplyBackfill(*items, now, &runs);
  return 0;
}
