// TaskTemplate: a shell command or argument with {{ variable }} placeholders, checked when the
// DAG file is loaded and filled in for each task try.
//
// Variables (Airflow's names; times in the DAG's time zone):
//   ds                   data interval start date, "2024-01-01"
//   ds_nodash            "20240101"
//   ts                   data interval start, "2024-01-01T00:00:00+00:00" (as Airflow's ts)
//   data_interval_start  "2024-01-01T00:00:00+00:00"
//   data_interval_end    "2024-01-02T00:00:00+00:00"
//   dag_id, task_id, run_id, try_number
// Spaces inside the braces are optional. There are no filters or expressions, and no escape:
// a literal "{{" in a command is an error (write it through a shell variable).
// Thread-safety: an immutable value.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scheduler/data_interval.h"

namespace pinpipe::scheduler {

enum class TemplateVar : uint8_t {
  kDs,
  kDsNodash,
  kTs,
  kDataIntervalStart,
  kDataIntervalEnd,
  kDagId,
  kTaskId,
  kRunId,
  kTryNumber,
};
inline constexpr size_t kTemplateVarCount = 9;

// The values for one task try.
struct TemplateValues {
  std::array<std::string, kTemplateVarCount> values;

  static TemplateValues For(std::string_view dag_id, std::string_view task_id,
                            std::string_view run_id, int try_number, const DataInterval& interval,
                            const TimeZone& zone);
};

class TaskTemplate {
 public:
  // InvalidArgument: `unknown template variable "dss" at character 6 (known: ds, ...)`, or an
  // unterminated "{{".
  static StatusOr<TaskTemplate> Parse(std::string_view text);

  std::string Render(const TemplateValues& values) const;
  const std::string& source() const { return source_; }

 private:
  struct Piece {
    bool is_variable = false;
    TemplateVar variable = TemplateVar::kDs;
    std::string text;
  };
  std::vector<Piece> pieces_;
  std::string source_;
};

}  // namespace pinpipe::scheduler
