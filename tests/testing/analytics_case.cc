#include "testing/analytics_case.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

namespace pinpipe::testing {
namespace {

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

std::string Trim(const std::string& s) {
  const size_t first = s.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

}  // namespace

size_t CaseTable::Column(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  return columns.size();
}

CaseValue CaseTable::Get(const std::vector<CaseValue>& row, const std::string& name) const {
  const size_t at = Column(name);
  return at < row.size() ? row[at] : CaseValue();
}

AnalyticsCase ParseAnalyticsCase(const std::string& path) {
  AnalyticsCase c;
  c.path = path;
  c.name = std::filesystem::path(path).stem().string();
  std::ifstream in(path);
  if (!in) {
    c.error = "cannot open " + path;
    return c;
  }
  std::string line;
  CaseTable* table = nullptr;
  CaseCheck* check = nullptr;
  bool header = false;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    if (line.front() == '[' && line.back() == ']') {
      const std::string section = line.substr(1, line.size() - 2);
      table = nullptr;
      check = nullptr;
      if (section == "pins" || section == "geo" || section == "users") {
        table = &c.tables[section == "pins" ? 0 : section == "geo" ? 1 : 2];
        header = true;
      } else if (section.starts_with("expect ") || section.starts_with("query ")) {
        CaseCheck& added = c.checks.emplace_back();
        added.query = section.starts_with("query ");
        added.expression = section.substr(section.find(' ') + 1);
        added.line = n;
        check = &added;
      } else {
        c.error = "line " + std::to_string(n) + ": unknown section [" + section + "]";
        return c;
      }
      continue;
    }
    if (table != nullptr) {
      std::vector<std::string> fields = Split(line, '|');
      if (header) {
        table->columns = fields;
        header = false;
        continue;
      }
      if (fields.size() != table->columns.size()) {
        c.error = "line " + std::to_string(n) + ": " + std::to_string(fields.size()) +
                  " fields, the header has " + std::to_string(table->columns.size());
        return c;
      }
      std::vector<CaseValue> row;
      for (const std::string& f : fields) row.push_back(f == "NULL" ? CaseValue() : CaseValue(f));
      table->rows.push_back(std::move(row));
    } else if (check != nullptr) {
      if (check->query) {
        check->sql += line + "\n";
      } else {
        check->expected.push_back(line);
      }
    } else {
      c.error = "line " + std::to_string(n) + ": outside any section";
      return c;
    }
  }
  return c;
}

std::vector<AnalyticsCase> LoadAnalyticsCases(const std::string& dir) {
  std::vector<AnalyticsCase> cases;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".case") cases.push_back(ParseAnalyticsCase(entry.path()));
  }
  std::sort(cases.begin(), cases.end(),
            [](const AnalyticsCase& a, const AnalyticsCase& b) { return a.name < b.name; });
  return cases;
}

std::optional<CaseCall> ParseCaseCall(const std::string& expression) {
  CaseCall call;
  const size_t open = expression.find('(');
  if (open == std::string::npos) {
    call.name = Trim(expression);
    return call;
  }
  if (expression.back() != ')') return std::nullopt;
  call.name = Trim(expression.substr(0, open));
  const std::string inner = expression.substr(open + 1, expression.size() - open - 2);
  size_t i = 0;
  while (i < inner.size()) {
    while (i < inner.size() && inner[i] == ' ') ++i;
    if (inner.compare(i, 4, "NULL") == 0) {
      call.args.emplace_back();
      i += 4;
    } else if (i < inner.size() && inner[i] == '\'') {
      std::string text;
      ++i;
      while (true) {
        if (i >= inner.size()) return std::nullopt;
        if (inner[i] == '\'') {
          if (i + 1 < inner.size() && inner[i + 1] == '\'') {
            text += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text += inner[i++];
      }
      call.args.emplace_back(text);
    } else {
      return std::nullopt;
    }
    while (i < inner.size() && inner[i] == ' ') ++i;
    if (i < inner.size()) {
      if (inner[i] != ',') return std::nullopt;
      ++i;
    }
  }
  return call;
}

AnalyticsCase MergedRows(const AnalyticsCase& c) {
  AnalyticsCase out = c;
  for (size_t k = 0; k < 3; ++k) {
    const CaseTable& in = c.tables[k];
    CaseTable& merged = out.tables[k];
    merged.rows.clear();
    const std::string key = k == 0 ? "unique_id" : "ind";
    std::map<std::string, size_t> first;  // key -> row index in `in`
    std::vector<size_t> order;
    for (size_t r = 0; r < in.rows.size(); ++r) {
      const std::string id = in.Get(in.rows[r], key).value_or("");
      auto [it, added] = first.emplace(id, r);
      if (added) {
        order.push_back(r);
      } else if (in.Get(in.rows[r], "dt") < in.Get(in.rows[it->second], "dt")) {
        std::replace(order.begin(), order.end(), it->second, r);
        it->second = r;
      }
    }
    for (size_t r : order) merged.rows.push_back(in.rows[r]);
  }
  return out;
}

}  // namespace pinpipe::testing
