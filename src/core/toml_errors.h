// TomlErrors: the error messages of the project's TOML files (transform rules, DAG files), one
// shape for all: "<file>: <table.key> (line N): <what>", and the two checks every parser of
// them makes: the file parses, and a table has only the keys it allows.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/status.h"

namespace pinpipe::core {

inline std::string JoinNames(std::span<const std::string_view> names) {
  std::string out;
  for (std::string_view name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

class TomlErrors {
 public:
  // `source_name` (the file name) must outlive the object.
  explicit TomlErrors(std::string_view source_name) : source_name_(source_name) {}

  std::string_view source_name() const { return source_name_; }

  // InvalidArgument "<file>: <where> (line N): <what>"; the line when `node` has one.
  Status Error(std::string_view where, const toml::node* node, std::string_view what) const {
    std::string message = fmt::format("{}: {}", source_name_, where);
    if (node != nullptr && node->source().begin.line != 0) {
      message += fmt::format(" (line {})", node->source().begin.line);
    }
    message += ": ";
    message += what;
    return InvalidArgument(std::move(message));
  }

  // Parses `text`; a syntax error becomes "<file>:<line>:<column>: TOML syntax error: ...".
  StatusOr<toml::table> Parse(std::string_view text) const {
    try {
      return toml::parse(text, source_name_);
    } catch (const toml::parse_error& e) {
      return InvalidArgument(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name_,
                                         e.source().begin.line, e.source().begin.column,
                                         e.description()));
    }
  }

  // The first key of `table` not in `allowed`, as "<where>.<key> (line N): unknown key
  // (allowed: a, b, ...)"; OK when there is none.
  Status CheckKeys(std::string_view where, const toml::table& table,
                   std::span<const std::string_view> allowed) const {
    for (auto&& [key, value] : table) {
      bool known = false;
      for (std::string_view name : allowed) known = known || name == key.str();
      if (!known) {
        return Error(fmt::format("{}.{}", where, key.str()), &value,
                     fmt::format("unknown key (allowed: {})", JoinNames(allowed)));
      }
    }
    return Status::Ok();
  }

 private:
  std::string_view source_name_;
};

}  // namespace pinpipe::core
