#include "pg/copy_out.h"

#include <cstring>
#include <limits>
#include <string>

namespace pinpipe::pg {
namespace {

constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the terminating NUL: 11 bytes
constexpr size_t kSignatureBytes = 11;
// PostgreSQL's epoch (2000-01-01) in the Unix epoch's units.
constexpr int32_t kPgEpochDays = 10957;
constexpr int64_t kPgEpochMicros = int64_t{kPgEpochDays} * 86400 * 1000000;

uint32_t ReadU32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | uint32_t{b[3]};
}

uint64_t ReadU64(const char* p) { return (uint64_t{ReadU32(p)} << 32) | ReadU32(p + 4); }

int16_t ReadI16(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return static_cast<int16_t>((b[0] << 8) | b[1]);
}

Status WrongLength(size_t i, size_t got, std::string_view type) {
  return InvalidArgument("binary COPY: field " + std::to_string(i) + " has " + std::to_string(got) +
                         " bytes, not a " + std::string(type) + " (cast it in the query)");
}

}  // namespace

StatusOr<bool> BinaryRow::Parse(std::string_view message, bool expect_header, bool* at_end) {
  *at_end = false;
  fields_.clear();
  const char* p = message.data();
  const char* end = p + message.size();
  auto need = [&](size_t n) { return static_cast<size_t>(end - p) >= n; };
  if (expect_header) {
    if (!need(kSignatureBytes + 8) || std::memcmp(p, kSignature, kSignatureBytes) != 0) {
      return DataLoss("binary COPY: missing file header");
    }
    p += kSignatureBytes + 4;  // signature, flags (no flag we act on: OIDs are never asked for)
    const uint32_t extension = ReadU32(p);
    p += 4;
    if (!need(extension)) return DataLoss("binary COPY: truncated header extension");
    p += extension;
  }
  if (!need(2)) return DataLoss("binary COPY: truncated tuple");
  const int16_t count = ReadI16(p);
  p += 2;
  if (count == -1) {
    *at_end = true;
    return false;
  }
  if (count < 0) return DataLoss("binary COPY: negative field count");
  fields_.reserve(static_cast<size_t>(count));
  for (int16_t i = 0; i < count; ++i) {
    if (!need(4)) return DataLoss("binary COPY: truncated field length");
    const int32_t length = static_cast<int32_t>(ReadU32(p));
    p += 4;
    if (length == -1) {
      fields_.emplace_back();
      continue;
    }
    if (length < 0 || !need(static_cast<size_t>(length))) {
      return DataLoss("binary COPY: truncated field");
    }
    fields_.emplace_back(std::string_view(p, static_cast<size_t>(length)));
    p += length;
  }
  if (p != end) return DataLoss("binary COPY: bytes after the tuple");
  return true;
}

StatusOr<std::optional<int32_t>> BinaryRow::Int4(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<int32_t>();
  if (f->size() != 4) return WrongLength(i, f->size(), "int4");
  return std::optional<int32_t>(static_cast<int32_t>(ReadU32(f->data())));
}

StatusOr<std::optional<int64_t>> BinaryRow::Int8(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<int64_t>();
  if (f->size() != 8) return WrongLength(i, f->size(), "int8");
  return std::optional<int64_t>(static_cast<int64_t>(ReadU64(f->data())));
}

StatusOr<std::optional<bool>> BinaryRow::Bool(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<bool>();
  if (f->size() != 1) return WrongLength(i, f->size(), "bool");
  return std::optional<bool>((*f)[0] != 0);
}

StatusOr<std::optional<double>> BinaryRow::Float8(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<double>();
  if (f->size() != 8) return WrongLength(i, f->size(), "float8");
  const uint64_t bits = ReadU64(f->data());
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return std::optional<double>(value);
}

StatusOr<std::optional<int32_t>> BinaryRow::Date(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<int32_t>();
  if (f->size() != 4) return WrongLength(i, f->size(), "date");
  const int32_t days = static_cast<int32_t>(ReadU32(f->data()));
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  if (days == kMin || days == kMax) return std::optional<int32_t>(days);
  return std::optional<int32_t>(days + kPgEpochDays);
}

StatusOr<std::optional<int64_t>> BinaryRow::Timestamp(size_t i) const {
  const auto& f = fields_[i];
  if (!f) return std::optional<int64_t>();
  if (f->size() != 8) return WrongLength(i, f->size(), "timestamp");
  const int64_t micros = static_cast<int64_t>(ReadU64(f->data()));
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (micros == kMin || micros == kMax) return std::optional<int64_t>(micros);
  return std::optional<int64_t>(micros + kPgEpochMicros);
}

StatusOr<CopyOut> CopyOut::Start(Connection& conn, const std::string& copy_sql) {
  auto result = conn.Check(PQexec(conn.raw(), copy_sql.c_str()), PGRES_COPY_OUT, PGRES_COPY_OUT);
  if (!result.ok()) return result.status();
  return CopyOut(&conn);
}

CopyOut::CopyOut(CopyOut&& other) noexcept
    : conn_(other.conn_), buffer_(other.buffer_), header_(other.header_), rows_(other.rows_) {
  other.conn_ = nullptr;
  other.buffer_ = nullptr;
}

CopyOut::~CopyOut() {
  FreeBuffer();
  Abort();
}

void CopyOut::FreeBuffer() {
  if (buffer_ != nullptr) PQfreemem(buffer_);
  buffer_ = nullptr;
}

void CopyOut::Abort() {
  if (conn_ == nullptr) return;
  PGconn* raw = conn_->raw();
  conn_ = nullptr;
  // Ask the server to stop sending, then read what is already on the way: the connection leaves
  // COPY OUT state only once the server's CopyDone/ErrorResponse has been read.
  if (PGcancel* cancel = PQgetCancel(raw)) {
    char error[256];
    PQcancel(cancel, error, sizeof(error));
    PQfreeCancel(cancel);
  }
  char* data = nullptr;
  while (PQgetCopyData(raw, &data, 0) > 0) PQfreemem(data);
  while (PGresult* result = PQgetResult(raw)) PQclear(result);
}

Status CopyOut::Finish() {
  Connection* conn = conn_;
  conn_ = nullptr;
  auto result = conn->Check(PQgetResult(conn->raw()), PGRES_COMMAND_OK, PGRES_COMMAND_OK);
  while (PGresult* extra = PQgetResult(conn->raw())) PQclear(extra);
  return result.status();
}

StatusOr<bool> CopyOut::Next(BinaryRow* row) {
  if (conn_ == nullptr) return FailedPrecondition("COPY OUT: not in progress");
  FreeBuffer();
  // Blocking read of one CopyData message (libpq returns one row per call).
  const int n = PQgetCopyData(conn_->raw(), &buffer_, 0);
  if (n == -1) {
    // The COPY is over: the final result says whether the query succeeded.
    RETURN_IF_ERROR(Finish());
    return false;
  }
  if (n < 0) {
    // -2: the connection failed. Check() of the next result classifies it.
    Connection* conn = conn_;
    Status failed = Finish();
    if (failed.ok()) failed = Unavailable("COPY OUT: " + conn->ErrorMessage());
    return failed;
  }
  bool at_end = false;
  auto parsed = row->Parse(std::string_view(buffer_, static_cast<size_t>(n)), header_, &at_end);
  header_ = false;
  if (!parsed.ok()) {
    Abort();
    return parsed.status();
  }
  if (at_end) {
    // The trailer; the server ends the COPY right after it.
    FreeBuffer();
    char* rest = nullptr;
    while (PQgetCopyData(conn_->raw(), &rest, 0) > 0) PQfreemem(rest);
    RETURN_IF_ERROR(Finish());
    return false;
  }
  ++rows_;
  return true;
}

}  // namespace pinpipe::pg
