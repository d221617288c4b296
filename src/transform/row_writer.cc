// The text forms of a Row: PostgreSQL COPY text (the speed layer), CSV and JSON lines (the batch
// layer's cleaned output). Part of Transform (declared in transform.h).
#include <variant>

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
  if (!s.empty() && s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
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
