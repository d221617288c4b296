#include "core/record_validator.h"

#include <simdjson.h>

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/ascii.h"
#include "core/byte_scan.h"
#include "core/check.h"
#include "core/hex.h"
#include "core/timestamp_parser.h"
#include "core/uuid_text.h"

namespace pinpipe::core {
namespace {

// Every schema fits in a fixed slot array and a 64-bit "seen" mask; checked at construction.
constexpr size_t kMaxFields = 32;

// pydantic v2 messages (record_validator.h).
constexpr std::string_view kMsgMissing = validator_messages::kMissing;
constexpr std::string_view kMsgIntType = validator_messages::kIntType;
constexpr std::string_view kMsgFloatType = validator_messages::kFloatType;
constexpr std::string_view kMsgStringType = validator_messages::kStringType;
constexpr std::string_view kMsgUuidType = validator_messages::kUuidType;
constexpr std::string_view kMsgDatetimeType = validator_messages::kDatetimeType;
constexpr std::string_view kMsgExtra = validator_messages::kExtra;
constexpr std::string_view kMsgDuplicate = validator_messages::kDuplicate;
constexpr std::string_view kMsgNul = validator_messages::kNul;
constexpr std::string_view kMsgNotObject = validator_messages::kNotObject;

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

constexpr bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// kHexDigit[c] is 1 for [0-9a-fA-F], else 0.
constexpr std::array<uint8_t, 256> kHexDigit = [] {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) table[c] = IsHex(static_cast<char>(c)) ? 1 : 0;
  return table;
}();

// 8-4-4-4-12 hex digits, any case. On failure sets `*reason` (owned string: it names the byte).
// The common case (a valid UUID) is checked without a branch per byte; the byte-by-byte loop
// only runs to name the first wrong byte.
bool IsUuid(std::string_view s, std::string* reason) {
  if (s.size() != 36) {
    *reason = "invalid length: expected 36 characters, found " + std::to_string(s.size());
    return false;
  }
  unsigned all = static_cast<unsigned>(s[8] == '-') & static_cast<unsigned>(s[13] == '-') &
                 static_cast<unsigned>(s[18] == '-') & static_cast<unsigned>(s[23] == '-');
  static constexpr uint8_t kHexPositions[32] = {0,  1,  2,  3,  4,  5,  6,  7,  9,  10, 11,
                                                12, 14, 15, 16, 17, 19, 20, 21, 22, 24, 25,
                                                26, 27, 28, 29, 30, 31, 32, 33, 34, 35};
  for (const uint8_t i : kHexPositions) all &= kHexDigit[static_cast<unsigned char>(s[i])];
  if (all != 0) return true;
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

std::string FieldErrorsText(const std::vector<FieldError>& errors, std::string_view fallback) {
  if (errors.empty()) return std::string(fallback.empty() ? "invalid record" : fallback);
  std::string out;
  for (const FieldError& e : errors) {
    if (!out.empty()) out.append("; ");
    out.append(e.field.empty() ? std::string_view("body") : std::string_view(e.field));
    out.append(": ");
    out.append(e.msg);
    out.append(" (");
    out.append(e.type);
    out.push_back(')');
  }
  return out;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  // Copy runs of bytes that need no escaping in one append; records are mostly such runs.
  size_t run_start = 0;
  for (size_t i = FindJsonStringSpecial(s, 0); i != std::string_view::npos;
       i = FindJsonStringSpecial(s, i + 1)) {
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
        const char escape[] = {'\\', 'u', '0', '0', HexDigit(c >> 4), HexDigit(c & 0xF)};
        out->append(escape, sizeof(escape));
      }
    }
  }
  out->append(s.data() + run_start, s.size() - run_start);
  out->push_back('"');
}

// A schema field's value as either parser found it, before the schema's checks.
struct RawValue {
  enum class Type : uint8_t { kInt64, kUint64, kDouble, kString, kOther };
  Type type = Type::kOther;  // kOther: true, false, null, an array or an object
  // False when the string came from the fast path, which only takes strings without escapes:
  // such a string cannot hold a NUL byte (a raw control byte is not valid JSON).
  bool may_hold_nul = true;
  int64_t int64_value = 0;
  uint64_t uint64_value = 0;
  double double_value = 0;
  std::string_view string_value;  // unescaped
};

struct RecordValidator::Impl {
  explicit Impl(RecordValidator::Parser p) : parser_choice(p) {}

  RecordValidator::Parser parser_choice;
  // Reused across records: after the first few records it has grown to the usual size and
  // parse() no longer allocates (it keeps its padded input copy and tape).
  simdjson::dom::parser parser;
  // Per record: the value of each schema field, by schema index.
  std::array<RawValue, kMaxFields> slots;
  // Per record: the decoded value of each schema field (see values()).
  std::array<FieldValue, kMaxFields> values;
  size_t value_count = 0;
  // Each kind's key field (RecordSchema::key_field) as a schema index.
  std::array<size_t, std::size(kAllRecordKinds)> key_index{};
  // Output is built here and copied to the caller only on success, so `out` is untouched on
  // failure.
  std::string canonical;
  // Unknown keys in order of first appearance, and a set to dedupe them in linear time (a hostile
  // body may have many thousands). Error path only.
  std::vector<std::string_view> extras;
  std::unordered_set<std::string_view> extras_seen;
  RecordValidator::ParserCounts counts;

  bool FastScan(const RecordSchema& schema, std::string_view json, uint64_t* seen);
  bool DomScan(const RecordSchema& schema, std::string_view json, uint64_t* seen,
               uint64_t* duplicated, std::vector<FieldError>* errors);
  std::string DescribeParseError(simdjson::error_code error, std::string_view json);
};

namespace {

// a == b for the short strings of field names, without a call to memcmp.
bool SameName(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  const auto load8 = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  const auto load4 = [](const char* p) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    return w;
  };
  // Two overlapping words cover 4-16 bytes with no loop, so the branches depend only on the
  // size (which repeats record after record), not on the bytes.
  if (n >= 8 && n <= 16) {
    return ((load8(x) ^ load8(y)) | (load8(x + n - 8) ^ load8(y + n - 8))) == 0;
  }
  if (n >= 4 && n < 8) return ((load4(x) ^ load4(y)) | (load4(x + n - 4) ^ load4(y + n - 4))) == 0;
  return std::memcmp(x, y, n) == 0;
}

// Scans one JSON number at `*p` (strict RFC 8259 grammar) into `*v`, exactly as simdjson would
// decode it, and moves `*p` past it. Returns false (the caller then falls back to simdjson) for
// anything it does not take: not a number, integers of more than 18 digits, "-0", and floats
// that are zero, subnormal, infinite or not parsed in full.
bool ScanNumber(const char** p, const char* end, RawValue* v) {
  const char* const start = *p;
  const char* q = start;
  const bool negative = *q == '-';
  if (negative) ++q;
  if (q == end) return false;
  const char* const digits = q;
  if (*q == '0') {
    ++q;
  } else if (IsAsciiDigit(*q)) {
    while (q != end && IsAsciiDigit(*q)) ++q;
  } else {
    return false;
  }
  const char* const int_end = q;
  bool is_float = false;
  if (q != end && *q == '.') {
    is_float = true;
    ++q;
    if (q == end || !IsAsciiDigit(*q)) return false;
    while (q != end && IsAsciiDigit(*q)) ++q;
  }
  if (q != end && (*q == 'e' || *q == 'E')) {
    is_float = true;
    ++q;
    if (q != end && (*q == '+' || *q == '-')) ++q;
    if (q == end || !IsAsciiDigit(*q)) return false;
    while (q != end && IsAsciiDigit(*q)) ++q;
  }
  if (!is_float) {
    const size_t count = static_cast<size_t>(int_end - digits);
    if (count > 18) return false;  // may not fit in int64: simdjson decides
    int64_t n = 0;
    for (const char* d = digits; d != int_end; ++d) n = n * 10 + (*d - '0');
    if (negative && n == 0) return false;  // "-0"
    v->type = RawValue::Type::kInt64;
    v->int64_value = negative ? -n : n;
  } else {
    // Both from_chars and simdjson round correctly, so a finite normal result is the same
    // double; zero, subnormal and overflowing values are left to simdjson's own rules.
    double d = 0;
    const auto [ptr, ec] = std::from_chars(start, q, d);
    if (ec != std::errc() || ptr != q || !std::isnormal(d)) return false;
    v->type = RawValue::Type::kDouble;
    v->double_value = d;
  }
  *p = q;
  return true;
}

// Whether `json` has a `\` or a control byte below 0x20 (returns false then) and a byte above
// 0x7F (`*high`). The fast path does not take escapes, and outside strings the only control bytes
// JSON allows are \t, \n and \r (rare in records). SSE2 (every x86-64) tests 16 bytes per step
// and ORs the results into two vectors that are looked at once, so there is no branch but the
// loop's; elsewhere a byte loop. (A quote index built in the same pass, an AVX2 variant and
// unconditional position writes measured no faster than the walk below.)
bool ScanSpecial(std::string_view json, bool* high) {
  size_t i = 0;
  unsigned special = 0;
  unsigned high_bits = 0;
  const char* const data = json.data();
#if defined(__SSE2__)
  const __m128i slash = _mm_set1_epi8('\\');
  const __m128i low = _mm_set1_epi8(0x1F);  // c <= 0x1F is max(c, 0x1F) == 0x1F
  __m128i special_any = _mm_setzero_si128();
  __m128i high_any = _mm_setzero_si128();
  for (; i + 16 <= json.size(); i += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    special_any = _mm_or_si128(
        special_any,
        _mm_or_si128(_mm_cmpeq_epi8(v, slash), _mm_cmpeq_epi8(_mm_max_epu8(v, low), low)));
    high_any = _mm_or_si128(high_any, v);
  }
  special = static_cast<unsigned>(_mm_movemask_epi8(special_any));
  high_bits = static_cast<unsigned>(_mm_movemask_epi8(high_any));
#endif
  for (; i < json.size(); ++i) {
    const auto c = static_cast<unsigned char>(data[i]);
    special |= static_cast<unsigned>(c < 0x20 || c == '\\');
    high_bits |= c & 0x80u;
  }
  *high = high_bits != 0;
  return special == 0;
}

// The first `"` at or after `p` (before `end`), or null; 16 bytes per step with SSE2. Narrower
// than core::FindJsonStringSpecial (which also stops at `\` and control bytes): ScanSpecial has
// ruled those out for the whole record, and the one-byte test made validation ~15% faster than
// calling that helper here (BM_ValidatePin, alternated runs).
const char* FindQuote(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"');
  for (; end - p >= 16; p += 16) {
    const auto mask = static_cast<unsigned>(_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)), quote)));
    if (mask != 0) return p + std::countr_zero(mask);
  }
#endif
  for (; p != end; ++p) {
    if (*p == '"') return p;
  }
  return nullptr;
}

}  // namespace

// The fast path: the common record in one branch-free pass for escapes, control and high bytes,
// plus a walk from string to string, with no tape and no copy. It returns true only when `json` is
// a single JSON object (white space around it allowed) whose keys are distinct schema fields and
// whose values are numbers or strings, with no escapes and no control bytes anywhere, in valid
// UTF-8; the slots of the fields seen are then filled exactly as DomScan fills them. Anything else
// (errors, unknown or repeated keys, escapes, literals, nested values) returns false and the record
// goes through simdjson, so errors and their messages have one source. The fuzz target compares
// both paths on every input.
bool RecordValidator::Impl::FastScan(const RecordSchema& schema, std::string_view json,
                                     uint64_t* seen_out) {
  bool high = false;
  if (!ScanSpecial(json, &high)) return false;
  const char* p = json.data();
  const char* const end = p + json.size();
  // At `p` == '"': the string's contents, `p` moved past its closing quote (with no backslash in
  // the record, the next quote closes it). False if it never closes.
  std::string_view text;
  const auto take_string = [&]() -> bool {
    const char* const close = FindQuote(p + 1, end);
    if (close == nullptr) return false;
    text = std::string_view(p + 1, static_cast<size_t>(close - p - 1));
    p = close + 1;
    return true;
  };
  // JSON's other white space (\t, \n, \r) is a control byte: ScanSpecial refused it already.
  const auto skip_space = [&] {
    while (p != end && *p == ' ') ++p;
  };
  skip_space();
  if (p == end || *p != '{') return false;
  ++p;
  skip_space();
  uint64_t seen = 0;
  size_t next_in_order = 0;
  const size_t field_count = schema.fields.size();
  if (p != end && *p == '}') {
    ++p;
  } else {
    while (true) {
      if (p == end || *p != '"' || !take_string()) return false;
      size_t index;
      if (next_in_order < field_count && SameName(schema.fields[next_in_order].name, text)) {
        index = next_in_order;
      } else {
        const std::optional<size_t> found = schema.FieldIndex(text);
        if (!found) return false;
        index = *found;
      }
      const uint64_t bit = uint64_t{1} << index;
      if (seen & bit) return false;
      seen |= bit;
      next_in_order = index + 1;
      skip_space();
      if (p == end || *p != ':') return false;
      ++p;
      skip_space();
      if (p == end) return false;
      RawValue& value = slots[index];
      if (*p == '"') {
        if (!take_string()) return false;
        value.type = RawValue::Type::kString;
        value.may_hold_nul = false;
        value.string_value = text;
      } else if (!ScanNumber(&p, end, &value)) {
        return false;
      }
      skip_space();
      if (p == end) return false;
      if (*p == ',') {
        ++p;
        skip_space();
        continue;
      }
      if (*p != '}') return false;
      ++p;
      break;
    }
  }
  skip_space();
  if (p != end) return false;
  // Bytes above 0x7F can only be inside strings here; their UTF-8 is checked on the whole input.
  if (high && !simdjson::validate_utf8(json.data(), json.size())) return false;
  *seen_out = seen;
  return true;
}

// The general path: simdjson's DOM parser validates the whole input (structure, UTF-8, escapes,
// no trailing bytes) before we look at any field, which is what makes "valid JSON" a hard
// guarantee here. Fills the slots of the fields seen, the duplicate mask and the unknown keys;
// returns false (with the one error) when the input is not a JSON object.
bool RecordValidator::Impl::DomScan(const RecordSchema& schema, std::string_view json,
                                    uint64_t* seen_out, uint64_t* duplicated_out,
                                    std::vector<FieldError>* errors) {
  using simdjson::dom::element_type;
  simdjson::dom::element root;
  const auto error = json.empty() ? simdjson::EMPTY  // never hand simdjson a null pointer
                                  : parser.parse(json.data(), json.size()).get(root);
  if (error) {
    AddError(errors, "",
             std::string(validator_messages::kJsonInvalidPrefix) + DescribeParseError(error, json),
             "json_invalid");
    return false;
  }
  simdjson::dom::object object;
  if (root.get_object().get(object) != simdjson::SUCCESS) {
    AddError(errors, "", kMsgNotObject, "model_attributes_type");
    return false;
  }

  // Route each key to its schema slot, in whatever order keys come.
  uint64_t seen = 0;
  uint64_t duplicated = 0;
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
      RawValue& value = slots[*index];
      value.may_hold_nul = true;
      switch (kv.value.type()) {
        case element_type::INT64:
          value.type = RawValue::Type::kInt64;
          value.int64_value = kv.value.get_int64().value_unsafe();
          break;
        case element_type::UINT64:
          value.type = RawValue::Type::kUint64;
          value.uint64_value = kv.value.get_uint64().value_unsafe();
          break;
        case element_type::DOUBLE:
          value.type = RawValue::Type::kDouble;
          value.double_value = kv.value.get_double().value_unsafe();
          break;
        case element_type::STRING:
          value.type = RawValue::Type::kString;
          value.string_value = kv.value.get_string().value_unsafe();
          break;
        default: value.type = RawValue::Type::kOther;
      }
    } else if (extras_seen.insert(kv.key).second) {
      extras.push_back(kv.key);
    }
  }
  *seen_out = seen;
  *duplicated_out = duplicated;
  return true;
}

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

RecordValidator::RecordValidator(Parser parser) : impl_(new Impl(parser)) {
  for (RecordKind kind : kAllRecordKinds) {
    const RecordSchema& schema = SchemaFor(kind);
    PINPIPE_CHECK(schema.fields.size() <= kMaxFields) << "schema too wide";
    const std::optional<size_t> key = schema.FieldIndex(schema.key_field);
    PINPIPE_CHECK(key.has_value()) << "schema " << schema.name << " has no key field";
    impl_->key_index[static_cast<size_t>(kind)] = *key;
  }
  impl_->canonical.reserve(1024);
}

RecordValidator::~RecordValidator() { delete impl_; }

bool RecordValidator::Validate(RecordKind kind, std::string_view json, ValidatedRecord* out,
                               std::vector<FieldError>* errors) {
  Impl& im = *impl_;
  const RecordSchema& schema = SchemaFor(kind);
  const size_t errors_before = errors->size();

  uint64_t seen = 0;
  uint64_t duplicated = 0;
  im.extras.clear();
  // Drop the set rather than clear() it: after a hostile record its bucket array is huge, and
  // clear() would wipe that array on every later record.
  if (!im.extras_seen.empty()) std::unordered_set<std::string_view>().swap(im.extras_seen);
  // Pass 1: find each schema field's value (fast path first; see FastScan).
  if (im.parser_choice != Parser::kSimdjsonOnly && im.FastScan(schema, json, &seen)) {
    ++im.counts.fast_path;
  } else {
    ++im.counts.simdjson;
    if (!im.DomScan(schema, json, &seen, &duplicated, errors)) return false;
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
    const RawValue& value = im.slots[i];
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
        const RawValue::Type type = value.type;
        const bool is_int = type == RawValue::Type::kInt64 || type == RawValue::Type::kUint64;
        if (spec.type == FieldType::kInt ? !is_int : !(is_int || type == RawValue::Type::kDouble)) {
          AddError(errors, spec.name, spec.type == FieldType::kInt ? kMsgIntType : kMsgFloatType,
                   spec.type == FieldType::kInt ? "int_type" : "float_type");
          ok = false;
          break;
        }
        // Range checks in double are exact for our bounds (small integers and degrees); a
        // UINT64 above INT64_MAX is far above every bound.
        double as_double = 0;
        if (type == RawValue::Type::kInt64) {
          as_double = static_cast<double>(value.int64_value);
        } else if (type == RawValue::Type::kUint64) {
          as_double = static_cast<double>(value.uint64_value);
        } else {
          as_double = value.double_value;
        }
        if (as_double < spec.min) {
          AddError(errors, spec.name,
                   std::string(validator_messages::kGreaterEqualPrefix) + FormatBound(spec.min),
                   "greater_than_equal");
          ok = false;
        } else if (as_double > spec.max) {
          AddError(errors, spec.name,
                   std::string(validator_messages::kLessEqualPrefix) + FormatBound(spec.max),
                   "less_than_equal");
          ok = false;
        } else if (type == RawValue::Type::kInt64) {
          const int64_t v = value.int64_value;
          if (i == im.key_index[static_cast<size_t>(kind)]) key_value = v;
          field_value.type = FieldValue::Type::kInt;
          field_value.int_value = v;
          if (build_canonical) AppendInt(v, &canon);
        } else if (type == RawValue::Type::kUint64) {
          // Only reachable for wide bounds; exposed as a double.
          field_value.type = FieldValue::Type::kDouble;
          field_value.double_value = as_double;
          if (build_canonical) AppendInt(value.uint64_value, &canon);
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
        if (value.type != RawValue::Type::kString) {
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
        const std::string_view s = value.string_value;
        // simdjson decodes \u0000 into a real NUL byte; PostgreSQL text rejects it at COPY time,
        // far from the client, so refuse it here.
        if (value.may_hold_nul && std::memchr(s.data(), '\0', s.size()) != nullptr) {
          AddError(errors, spec.name, kMsgNul, "string_nul");
          ok = false;
          break;
        }
        if (spec.type == FieldType::kUuid && !IsUuid(s, &reason)) {
          AddError(errors, spec.name, std::string(validator_messages::kUuidParsingPrefix) + reason,
                   "uuid_parsing");
          ok = false;
          break;
        }
        if (spec.type == FieldType::kTimestamp) {
          CivilTimestamp ts;
          std::string_view why;
          if (!ParseTimestamp(s, &ts, &why)) {
            AddError(errors, spec.name,
                     std::string(validator_messages::kDatetimeParsingPrefix) + std::string(why),
                     "datetime_parsing");
            ok = false;
            break;
          }
        }
        field_value.type = FieldValue::Type::kString;
        field_value.string_value = s;
        if (build_canonical) {
          if (spec.type == FieldType::kUuid) {
            // The answer spells a UUID in lower case, as pydantic's UUID type does (its hex
            // digits and dashes need no escaping); values() keep the bytes as sent.
            canon.push_back('"');
            AppendLowerCaseUuid(s, &canon);
            canon.push_back('"');
          } else {
            AppendJsonString(s, &canon);
          }
        }
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

RecordValidator::ParserCounts RecordValidator::parser_counts() const { return impl_->counts; }

std::span<const FieldValue> RecordValidator::values() const {
  return {impl_->values.data(), impl_->value_count};
}

}  // namespace pinpipe::core
