#include "core/record_validator.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#include "core/byte_scan.h"
#include "core/check.h"
#include "core/timestamp_parser.h"

namespace pinpipe::core {
namespace {

// Every schema fits in a fixed slot array and a 64-bit "seen" mask; checked at construction.
constexpr size_t kMaxFields = 32;

// pydantic v2 messages, so clients written against the original FastAPI service keep working.
constexpr std::string_view kMsgMissing = "Field required";
constexpr std::string_view kMsgIntType = "Input should be a valid integer";
constexpr std::string_view kMsgFloatType = "Input should be a valid number";
constexpr std::string_view kMsgStringType = "Input should be a valid string";
constexpr std::string_view kMsgUuidType = "UUID input should be a string, bytes or UUID object";
constexpr std::string_view kMsgDatetimeType = "Input should be a valid datetime";
constexpr std::string_view kMsgExtra = "Extra inputs are not permitted";
constexpr std::string_view kMsgDuplicate = "Duplicate key in JSON object";
constexpr std::string_view kMsgNul =
    "String should not contain the NUL character (U+0000): PostgreSQL text cannot store it";
constexpr std::string_view kMsgNotObject =
    "Input should be a valid dictionary or object to extract fields from";

void AddError(std::vector<FieldError>* errors, std::string_view field, std::string_view msg,
              std::string_view type) {
  errors->push_back(FieldError{std::string(field), std::string(msg), std::string(type)});
}

// Prints a schema bound the way a reader wrote it: 0, 150, -90, 2147483647.
std::string FormatBound(double bound) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), bound);
  return std::string(buf, ec == std::errc() ? end : buf);
}

// Appends a double so that parsing the text gives the same double back (shortest round trip).
// -0.0 is written as 0: "-0" would come back as the integer 0 and print as "0" the second time,
// and canonical JSON must be a fixed point of validation.
void AppendDouble(double v, std::string* out) {
  if (v == 0) v = 0;
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  PINPIPE_CHECK(ec == std::errc()) << "to_chars(double) failed";
  out->append(buf, end);
}

template <typename Int>
void AppendInt(Int v, std::string* out) {
  char buf[24];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  PINPIPE_CHECK(ec == std::errc()) << "to_chars(int) failed";
  out->append(buf, end);
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// 8-4-4-4-12 hex digits, any case. On failure sets `*reason` (owned string: it names the byte).
bool IsUuid(std::string_view s, std::string* reason) {
  if (s.size() != 36) {
    *reason = "invalid length: expected 36 characters, found " + std::to_string(s.size());
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? s[i] != '-' : !IsHex(s[i])) {
      *reason = dash_position ? "invalid group separator at " + std::to_string(i)
                              : "invalid character: expected [0-9a-fA-F] at " + std::to_string(i);
      return false;
    }
  }
  return true;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Where the first JSON value in `s` ends (one past its last byte), by a lexical scan that only
// tracks strings and bracket depth; npos if it never ends. Used on the error path only, to tell
// "trailing garbage" apart from other structural errors.
size_t EndOfFirstValue(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && IsJsonSpace(s[i])) ++i;
  if (i == s.size()) return std::string_view::npos;
  if (s[i] != '{' && s[i] != '[' && s[i] != '"') {
    while (i < s.size() && !IsJsonSpace(s[i]) && std::strchr(",:[]{}\"", s[i]) == nullptr) ++i;
    return i;
  }
  int depth = 0;
  bool in_string = false;
  for (; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        if (depth == 0) return i + 1;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  // Copy runs of bytes that need no escaping in one append; records are mostly such runs.
  const auto word_test = [](uint64_t w) {
    return WordHasByteBelow(w, 0x20) || WordHasByte(w, '"') || WordHasByte(w, '\\');
  };
  const auto byte_test = [](unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; };
  size_t run_start = 0;
  for (size_t i = FindFirstByte(s, 0, word_test, byte_test); i != std::string_view::npos;
       i = FindFirstByte(s, i + 1, word_test, byte_test)) {
    const auto c = static_cast<unsigned char>(s[i]);
    out->append(s.data() + run_start, i - run_start);
    run_start = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        const char escape[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out->append(escape, sizeof(escape));
      }
    }
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

struct RecordValidator::Impl {
  // Reused across records: after the first few records it has grown to the usual size and
  // parse() no longer allocates (it keeps its padded input copy and tape).
  simdjson::dom::parser parser;
  // Per record: the value of each schema field, by schema index.
  std::array<simdjson::dom::element, kMaxFields> slots;
  // Per record: the decoded value of each schema field (see values()).
  std::array<FieldValue, kMaxFields> values;
  size_t value_count = 0;
  // Output is built here and copied to the caller only on success, so `out` is untouched on
  // failure.
  std::string canonical;
  // Unknown keys in order of first appearance, and a set to dedupe them in linear time (a hostile
  // body may have many thousands). Error path only.
  std::vector<std::string_view> extras;
  std::unordered_set<std::string_view> extras_seen;

  std::string DescribeParseError(simdjson::error_code error, std::string_view json);
};

std::string RecordValidator::Impl::DescribeParseError(simdjson::error_code error,
                                                      std::string_view json) {
  using simdjson::error_code;
  // Windows editors prepend a BOM; JSON (RFC 8259) forbids it and simdjson calls it structure.
  if (json.starts_with("\xEF\xBB\xBF")) return "byte order mark (U+FEFF) before the document";
  switch (error) {
    case error_code::EMPTY: return "empty document";
    case error_code::UTF8_ERROR: return "invalid UTF-8 (malformed, overlong or surrogate bytes)";
    case error_code::UNESCAPED_CHARS: return "unescaped control character in string";
    case error_code::UNCLOSED_STRING: return "unterminated string";
    case error_code::STRING_ERROR:
      return "invalid string escape (unknown escape, or a \\u escape that is a lone surrogate)";
    case error_code::NUMBER_ERROR:
      return "invalid number, or a number out of range (integers must fit in 64 bits, floats "
             "in a double)";
    case error_code::T_ATOM_ERROR:
    case error_code::F_ATOM_ERROR:
    case error_code::N_ATOM_ERROR: return "invalid literal (expected true, false or null)";
    case error_code::DEPTH_ERROR: return "document nested too deeply";
    case error_code::CAPACITY: return "document too large";
    case error_code::TAPE_ERROR: {
      // simdjson lumps every structural error together; name the two common ones.
      size_t i = 0;
      while (i < json.size() && IsJsonSpace(json[i])) ++i;
      if (i < json.size() && json[i] == '{') {
        ++i;
        while (i < json.size() && IsJsonSpace(json[i])) ++i;
        if (i < json.size() && json[i] == '\'') {
          return "expecting property name enclosed in double quotes (a Python dict repr is not "
                 "JSON)";
        }
      }
      const size_t end = EndOfFirstValue(json);
      if (end != std::string_view::npos && end < json.size()) {
        simdjson::dom::element ignored;
        if (parser.parse(json.data(), end).get(ignored) == error_code::SUCCESS) {
          return "extra data after the JSON document at byte " + std::to_string(end);
        }
      }
      return "malformed JSON structure (missing or extra comma, colon, brace or bracket, or an "
             "unquoted key)";
    }
    default: return simdjson::error_message(error);
  }
}

RecordValidator::RecordValidator() : impl_(new Impl) {
  for (RecordKind kind : kAllRecordKinds) {
    PINPIPE_CHECK(SchemaFor(kind).fields.size() <= kMaxFields) << "schema too wide";
  }
  impl_->canonical.reserve(1024);
}

RecordValidator::~RecordValidator() { delete impl_; }

bool RecordValidator::Validate(RecordKind kind, std::string_view json, ValidatedRecord* out,
                               std::vector<FieldError>* errors) {
  using simdjson::dom::element_type;
  Impl& im = *impl_;
  const RecordSchema& schema = SchemaFor(kind);
  const size_t errors_before = errors->size();

  // The DOM parser validates the whole input (structure, UTF-8, escapes, no trailing bytes)
  // before we look at any field, which is what makes "valid JSON" a hard guarantee here.
  simdjson::dom::element root;
  const auto error = json.empty() ? simdjson::EMPTY  // never hand simdjson a null pointer
                                  : im.parser.parse(json.data(), json.size()).get(root);
  if (error) {
    AddError(errors, "", "JSON decode error: " + im.DescribeParseError(error, json),
             "json_invalid");
    return false;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    AddError(errors, "", kMsgNotObject, "model_attributes_type");
    return false;
  }

  // Pass 1: route each key to its schema slot, in whatever order keys come.
  uint64_t seen = 0;
  uint64_t duplicated = 0;
  im.extras.clear();
  // Drop the set rather than clear() it: after a hostile record its bucket array is huge, and
  // clear() would wipe that array on every later record.
  if (!im.extras_seen.empty()) std::unordered_set<std::string_view>().swap(im.extras_seen);
  size_t next_in_order = 0;
  for (const simdjson::dom::key_value_pair kv : object) {
    // Clients usually send keys in schema order: try the next field first, then search.
    std::optional<size_t> index;
    if (next_in_order < schema.fields.size() && schema.fields[next_in_order].name == kv.key) {
      index = next_in_order;
    } else {
      index = schema.FieldIndex(kv.key);
    }
    if (index) {
      next_in_order = *index + 1;
      const uint64_t bit = uint64_t{1} << *index;
      if (seen & bit) duplicated |= bit;
      seen |= bit;
      im.slots[*index] = kv.value;
    } else if (im.extras_seen.insert(kv.key).second) {
      im.extras.push_back(kv.key);
    }
  }

  // Pass 2: check and write each field in schema order, so errors come out in a stable order
  // and the output is canonical.
  // Without `out` nothing is serialised; the canonical appends below all go through `canon`,
  // which then points at a buffer that is only cleared (cheap, never grows past one record).
  std::string& canon = im.canonical;
  canon.clear();
  canon.push_back('{');
  const bool build_canonical = out != nullptr;
  im.value_count = schema.fields.size();
  bool first = true;
  int64_t key_value = 0;
  std::string reason;
  for (size_t i = 0; i < schema.fields.size(); ++i) {
    const FieldSpec& spec = schema.fields[i];
    const uint64_t bit = uint64_t{1} << i;
    if (duplicated & bit) {
      // pydantic would silently keep the last value; we refuse, since the two copies may differ
      // and downstream JSON parsers disagree on which one wins.
      AddError(errors, spec.name, kMsgDuplicate, "duplicate_key");
      continue;
    }
    FieldValue& field_value = im.values[i];
    field_value.type = FieldValue::Type::kAbsent;
    if (!(seen & bit)) {
      if (spec.required) AddError(errors, spec.name, kMsgMissing, "missing");
      continue;
    }
    const simdjson::dom::element value = im.slots[i];
    const size_t mark = canon.size();
    if (build_canonical) {
      if (!first) canon.push_back(',');
      AppendJsonString(spec.name, &canon);
      canon.push_back(':');
    }
    bool ok = true;
    switch (spec.type) {
      case FieldType::kInt:
      case FieldType::kNumber: {
        const element_type type = value.type();
        const bool is_int = type == element_type::INT64 || type == element_type::UINT64;
        if (spec.type == FieldType::kInt ? !is_int : !(is_int || type == element_type::DOUBLE)) {
          AddError(errors, spec.name, spec.type == FieldType::kInt ? kMsgIntType : kMsgFloatType,
                   spec.type == FieldType::kInt ? "int_type" : "float_type");
          ok = false;
          break;
        }
        // Range checks in double are exact for our bounds (small integers and degrees); a
        // UINT64 above INT64_MAX is far above every bound.
        double as_double = 0;
        if (type == element_type::INT64) {
          as_double = static_cast<double>(value.get_int64().value_unsafe());
        } else if (type == element_type::UINT64) {
          as_double = static_cast<double>(value.get_uint64().value_unsafe());
        } else {
          as_double = value.get_double().value_unsafe();
        }
        if (as_double < spec.min) {
          AddError(errors, spec.name,
                   "Input should be greater than or equal to " + FormatBound(spec.min),
                   "greater_than_equal");
          ok = false;
        } else if (as_double > spec.max) {
          AddError(errors, spec.name,
                   "Input should be less than or equal to " + FormatBound(spec.max),
                   "less_than_equal");
          ok = false;
        } else if (type == element_type::INT64) {
          const int64_t v = value.get_int64().value_unsafe();
          if (spec.name == schema.key_field) key_value = v;
          field_value.type = FieldValue::Type::kInt;
          field_value.int_value = v;
          if (build_canonical) AppendInt(v, &canon);
        } else if (type == element_type::UINT64) {
          // Only reachable for wide bounds; exposed as a double.
          field_value.type = FieldValue::Type::kDouble;
          field_value.double_value = as_double;
          if (build_canonical) AppendInt(value.get_uint64().value_unsafe(), &canon);
        } else {
          field_value.type = FieldValue::Type::kDouble;
          field_value.double_value = as_double;
          if (build_canonical) AppendDouble(as_double, &canon);
        }
        break;
      }
      case FieldType::kString:
      case FieldType::kUuid:
      case FieldType::kTimestamp: {
        std::string_view s;
        if (value.get_string().get(s) != simdjson::SUCCESS) {
          if (spec.type == FieldType::kUuid) {
            AddError(errors, spec.name, kMsgUuidType, "uuid_type");
          } else if (spec.type == FieldType::kTimestamp) {
            AddError(errors, spec.name, kMsgDatetimeType, "datetime_type");
          } else {
            AddError(errors, spec.name, kMsgStringType, "string_type");
          }
          ok = false;
          break;
        }
        // simdjson decodes \u0000 into a real NUL byte; PostgreSQL text rejects it at COPY time,
        // far from the client, so refuse it here.
        if (std::memchr(s.data(), '\0', s.size()) != nullptr) {
          AddError(errors, spec.name, kMsgNul, "string_nul");
          ok = false;
          break;
        }
        if (spec.type == FieldType::kUuid && !IsUuid(s, &reason)) {
          AddError(errors, spec.name, "Input should be a valid UUID, " + reason, "uuid_parsing");
          ok = false;
          break;
        }
        if (spec.type == FieldType::kTimestamp) {
          CivilTimestamp ts;
          std::string_view why;
          if (!ParseTimestamp(s, &ts, &why)) {
            AddError(errors, spec.name, "Input should be a valid datetime, " + std::string(why),
                     "datetime_parsing");
            ok = false;
            break;
          }
        }
        field_value.type = FieldValue::Type::kString;
        field_value.string_value = s;
        if (build_canonical) AppendJsonString(s, &canon);
        break;
      }
    }
    if (ok) {
      first = false;
    } else {
      canon.resize(mark);
    }
  }
  for (std::string_view extra : im.extras) AddError(errors, extra, kMsgExtra, "extra_forbidden");

  if (errors->size() != errors_before) return false;
  if (!build_canonical) return true;
  canon.push_back('}');
  out->kind = kind;
  out->key.clear();
  AppendInt(key_value, &out->key);
  out->canonical_json.assign(canon);
  return true;
}

std::span<const FieldValue> RecordValidator::values() const {
  return {impl_->values.data(), impl_->value_count};
}

}  // namespace pinpipe::core
