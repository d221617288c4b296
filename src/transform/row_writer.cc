// The text forms of a Row: PostgreSQL COPY text (the speed layer), CSV and JSON lines (the batch
// layer's cleaned output). Part of Transform (declared in transform.h).
#include <variant>

#include "core/byte_scan.h"
#include "core/copy_text.h"
#include "core/record_validator.h"
#include "transform/transform.h"
#include "transform/value_rules.h"

namespace pinpipe::transform {
namespace {

template <typename... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <typename... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// A PostgreSQL array literal of doubles: {1.5,-2}. Numbers need no quoting inside it.
void AppendArrayLiteral(const std::vector<double>& values, std::string* out) {
  out->push_back('{');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendDouble(values[i], out);
  }
  out->push_back('}');
}

void AppendCsvText(std::string_view s, std::string* out) {
  // Quote when needed (RFC 4180) and always for the empty string, so that it differs from NULL
  // (an empty field), as PostgreSQL's CSV format does.
  const size_t special = core::FindFirstByte(
      s, 0,
      [](uint64_t w) {
        return core::WordHasByte(w, ',') || core::WordHasByte(w, '"') ||
               core::WordHasByte(w, '\r') || core::WordHasByte(w, '\n');
      },
      [](unsigned char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; });
  if (!s.empty() && special == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  // Double every quote: copy up to and including it, then add the second one.
  size_t run_start = 0;
  for (size_t q = s.find('"'); q != std::string_view::npos; q = s.find('"', q + 1)) {
    out->append(s.data() + run_start, q + 1 - run_start);
    out->push_back('"');
    run_start = q + 1;
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

}  // namespace

void Transform::AppendCopyLine(const Row& row, std::string* out) {
  for (size_t i = 0; i < row.cells.size(); ++i) {
    if (i > 0) out->push_back('\t');
    std::visit(Overloaded{
                   [&](std::monostate) { out->append("\\N"); },
                   [&](int64_t v) { AppendInt64(v, out); },
                   [&](double v) { AppendDouble(v, out); },
                   [&](const std::string& v) { core::AppendCopyText(v, out); },
                   [&](bool v) { out->push_back(v ? 't' : 'f'); },
                   [&](Timestamp v) { AppendTimestamp(v.micros, out); },
                   [&](const std::vector<double>& v) { AppendArrayLiteral(v, out); },
               },
               row.cells[i]);
  }
  out->push_back('\n');
}

void Transform::AppendCsvLine(core::RecordKind kind, const Row& row, std::string* out) const {
  (void)kind;  // the columns are positional; kind is part of the signature for symmetry
  std::string scratch;
  for (size_t i = 0; i < row.cells.size(); ++i) {
    if (i > 0) out->push_back(',');
    std::visit(Overloaded{
                   [&](std::monostate) {},
                   [&](int64_t v) { AppendInt64(v, out); },
                   [&](double v) { AppendDouble(v, out); },
                   [&](const std::string& v) { AppendCsvText(v, out); },
                   [&](bool v) { out->push_back(v ? 't' : 'f'); },
                   [&](Timestamp v) { AppendTimestamp(v.micros, out); },
                   [&](const std::vector<double>& v) {
                     scratch.clear();
                     AppendArrayLiteral(v, &scratch);
                     AppendCsvText(scratch, out);
                   },
               },
               row.cells[i]);
  }
  out->push_back('\n');
}

void Transform::AppendJsonLine(core::RecordKind kind, const Row& row, std::string* out) const {
  const TableDef& def = table(kind);
  out->push_back('{');
  for (size_t i = 0; i < row.cells.size() && i < def.columns.size(); ++i) {
    if (i > 0) out->push_back(',');
    core::AppendJsonString(def.columns[i].name, out);
    out->push_back(':');
    std::visit(Overloaded{
                   [&](std::monostate) { out->append("null"); },
                   [&](int64_t v) { AppendInt64(v, out); },
                   [&](double v) { AppendDouble(v, out); },
                   [&](const std::string& v) { core::AppendJsonString(v, out); },
                   [&](bool v) { out->append(v ? "true" : "false"); },
                   [&](Timestamp v) {
                     out->push_back('"');
                     AppendTimestamp(v.micros, out);
                     out->push_back('"');
                   },
                   [&](const std::vector<double>& v) {
                     out->push_back('[');
                     for (size_t j = 0; j < v.size(); ++j) {
                       if (j > 0) out->push_back(',');
                       AppendDouble(v[j], out);
                     }
                     out->push_back(']');
                   },
               },
               row.cells[i]);
  }
  out->append("}\n");
}

}  // namespace pinpipe::transform
