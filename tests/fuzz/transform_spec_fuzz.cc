// libFuzzer target for the transform file compiler (Transform::FromToml). Besides "no crash, no
// sanitizer report" on any input, a file that compiles must be usable: it is applied to one valid
// record of each kind and the row is written in every output format, and CreateTableSql runs.
// Seed corpus: tests/fuzz/corpus/transform_spec/ (the default file and variants).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "core/record_schema.h"
#include "transform/transform.h"

namespace {

constexpr std::string_view kRecords[] = {
    R"({"index": 7528, "unique_id": "fbe53c66-3442-4773-b19e-d3ec6f54dddf", "title": " T\u00a0",)"
    R"( "description": "d…\u00a0", "poster_name": "User Info Error", "follower_count": "1.2k",)"
    R"( "tag_list": "a,b", "is_image_or_video": "image", "image_src": "Image src error.",)"
    R"( "downloaded": 1, "save_location": "Local save in /data/art", "category": "art"})",
    R"({"ind": 7528, "timestamp": "2020-08-28T03:52:47.5+02:00", "latitude": -89.9787,)"
    R"( "longitude": 45, "country": "Albania"})",
    R"({"ind": 7528, "first_name": "Abigail ", "last_name": "Ali", "age": 20,)"
    R"( "date_joined": "2015-10-24 11:23:51"})",
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pinpipe::transform::Outcome;
  using pinpipe::transform::Transform;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto compiled = Transform::FromToml(text, "fuzz.toml");
  if (!compiled.ok()) {
    PINPIPE_CHECK(compiled.status().code() == pinpipe::StatusCode::kInvalidArgument)
        << compiled.status().ToString();
    return 0;
  }
  const Transform& transform = **compiled;
  Transform::Scratch scratch;
  pinpipe::transform::Row row;
  std::string reason;
  std::vector<pinpipe::core::FieldError> errors;
  pinpipe::transform::QualityStats stats;
  std::string out;
  for (pinpipe::core::RecordKind kind : pinpipe::core::kAllRecordKinds) {
    const pinpipe::transform::TableDef& def = transform.table(kind);
    PINPIPE_CHECK(!def.columns.empty());
    out += transform.CreateTableSql(kind);
    const Outcome outcome = transform.Apply(kind, kRecords[static_cast<size_t>(kind)], &scratch,
                                            &row, &reason, &errors, &stats);
    PINPIPE_CHECK(outcome != Outcome::kInvalid) << "a valid record was refused";
    if (outcome == Outcome::kRow) {
      PINPIPE_CHECK(row.cells.size() == def.columns.size());
      Transform::AppendCopyLine(row, &out);
      transform.AppendCsvLine(kind, row, &out);
      transform.AppendJsonLine(kind, row, &out);
    }
  }
  return 0;
}
