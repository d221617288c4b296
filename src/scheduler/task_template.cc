#include "scheduler/task_template.h"

#include <fmt/format.h>

namespace pinpipe::scheduler {
namespace {

constexpr std::string_view kVarNames[kTemplateVarCount] = {
    "ds",     "ds_nodash", "ts",     "data_interval_start", "data_interval_end",
    "dag_id", "task_id",   "run_id", "try_number"};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

TemplateValues TemplateValues::For(std::string_view dag_id, std::string_view task_id,
                                   std::string_view run_id, int try_number,
                                   const DataInterval& interval, const TimeZone& zone) {
  TemplateValues v;
  auto set = [&](TemplateVar var, std::string value) {
    v.values[static_cast<size_t>(var)] = std::move(value);
  };
  std::string ds = FormatDate(interval.start, zone);
  std::string nodash;
  for (char c : ds) {
    if (c != '-') nodash += c;
  }
  set(TemplateVar::kDs, std::move(ds));
  set(TemplateVar::kDsNodash, std::move(nodash));
  set(TemplateVar::kTs, FormatIso8601(interval.start, zone));
  set(TemplateVar::kDataIntervalStart, FormatIso8601(interval.start, zone));
  set(TemplateVar::kDataIntervalEnd, FormatIso8601(interval.end, zone));
  set(TemplateVar::kDagId, std::string(dag_id));
  set(TemplateVar::kTaskId, std::string(task_id));
  set(TemplateVar::kRunId, std::string(run_id));
  set(TemplateVar::kTryNumber, std::to_string(try_number));
  return v;
}

StatusOr<TaskTemplate> TaskTemplate::Parse(std::string_view text) {
  TaskTemplate t;
  t.source_ = std::string(text);
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      t.pieces_.push_back({false, TemplateVar::kDs, std::string(text.substr(pos))});
      break;
    }
    if (open > pos) {
      t.pieces_.push_back({false, TemplateVar::kDs, std::string(text.substr(pos, open - pos))});
    }
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument(fmt::format("unterminated \"{{{{\" at character {}", open + 1));
    }
    const std::string_view name = Trim(text.substr(open + 2, close - open - 2));
    bool found = false;
    for (size_t i = 0; i < kTemplateVarCount; ++i) {
      if (kVarNames[i] == name) {
        t.pieces_.push_back({true, static_cast<TemplateVar>(i), {}});
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (std::string_view n : kVarNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return InvalidArgument(fmt::format(
          "unknown template variable \"{}\" at character {} (known: {})", name, open + 1, known));
    }
    pos = close + 2;
  }
  return t;
}

std::string TaskTemplate::Render(const TemplateValues& values) const {
  std::string out;
  for (const Piece& piece : pieces_) {
    out += piece.is_variable ? values.values[static_cast<size_t>(piece.variable)] : piece.text;
  }
  return out;
}

}  // namespace pinpipe::scheduler
