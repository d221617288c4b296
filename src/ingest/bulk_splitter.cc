#include "ingest/bulk_splitter.h"

#include <string>

namespace pinpipe::ingest {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string At(size_t offset) { return " at byte " + std::to_string(offset); }

Status TooMany(size_t max_items) {
  return ResourceExhausted("bulk request has more than " + std::to_string(max_items) +
                           " items; split it into smaller bulk requests");
}

StatusOr<BulkItems> SplitArray(std::string_view body, size_t start, size_t max_items) {
  BulkItems out;
  out.format = BulkFormat::kJsonArray;
  // A stack of open brackets lets us find each element's end exactly, even when elements
  // contain nested arrays or objects, without parsing the values themselves.
  std::string stack;
  size_t i = start + 1;  // after '['
  size_t item_begin = std::string_view::npos;
  bool expect_item = true;  // after '[' or ','
  bool seen_item = false;
  while (i < body.size()) {
    char c = body[i];
    if (stack.empty()) {
      if (IsBlank(c)) {
        ++i;
        continue;
      }
      if (c == ']' || c == ',') {
        if (item_begin != std::string_view::npos) {
          size_t end = i;
          while (end > item_begin && IsBlank(body[end - 1])) --end;
          if (out.items.size() >= max_items) return TooMany(max_items);
          out.items.push_back(body.substr(item_begin, end - item_begin));
          item_begin = std::string_view::npos;
          seen_item = true;
        } else if (c == ',' || seen_item) {
          return InvalidArgument("JSON array: expected a value before '" + std::string(1, c) + "'" +
                                 At(i));
        }
        if (c == ']') {
          for (size_t j = i + 1; j < body.size(); ++j) {
            if (!IsBlank(body[j])) return InvalidArgument("trailing data after the array" + At(j));
          }
          return out;
        }
        expect_item = true;
        ++i;
        continue;
      }
      if (!expect_item && item_begin == std::string_view::npos) {
        return InvalidArgument("JSON array: expected ',' or ']'" + At(i));
      }
      if (item_begin == std::string_view::npos) {
        item_begin = i;
        expect_item = false;
      } else if (!expect_item && (c == '{' || c == '[' || c == '"')) {
        // A second value directly after a scalar or a closed container: missing comma.
        size_t end = i;
        while (end > item_begin && IsBlank(body[end - 1])) --end;
        if (end < i) return InvalidArgument("JSON array: expected ',' or ']'" + At(i));
      }
    }
    if (c == '"') {
      // Skip the string, honouring escapes, so brackets inside strings do not count.
      ++i;
      while (i < body.size() && body[i] != '"') i += body[i] == '\\' ? 2 : 1;
      if (i >= body.size()) return InvalidArgument("JSON array: unterminated string");
    } else if (c == '{' || c == '[') {
      stack.push_back(c);
    } else if (c == '}' || c == ']') {
      char open = c == '}' ? '{' : '[';
      if (stack.empty() || stack.back() != open) {
        return InvalidArgument(std::string("JSON array: unexpected '") + c + "'" + At(i));
      }
      stack.pop_back();
    }
    ++i;
  }
  return InvalidArgument("JSON array: missing closing ']'");
}

StatusOr<BulkItems> SplitNdjson(std::string_view body, size_t max_items) {
  BulkItems out;
  out.format = BulkFormat::kNdjson;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    size_t end = nl == std::string_view::npos ? body.size() : nl;
    std::string_view line = body.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool blank = true;
    for (char c : line) {
      if (!IsBlank(c)) {
        blank = false;
        break;
      }
    }
    if (!blank) {
      if (out.items.size() >= max_items) return TooMany(max_items);
      out.items.push_back(line);
    }
    pos = end + 1;
  }
  return out;
}

}  // namespace

StatusOr<BulkItems> SplitBulk(std::string_view body, size_t max_items) {
  size_t first = 0;
  while (first < body.size() && IsBlank(body[first])) ++first;
  if (first == body.size())
    return InvalidArgument("empty bulk request: send NDJSON lines or a JSON array");
  if (body[first] == '[') return SplitArray(body, first, max_items);
  return SplitNdjson(body, max_items);
}

}  // namespace pinpipe::ingest
