// Transform throughput: Apply() on realistic pin/geo/user records (validation included), and
// Apply() + AppendCopyLine (what the speed layer does per record), and the speed layer's per-row
// event day. One thread; the batch layer's
// goal is >= 1,000,000 pin records/s per core. Run: build/<preset>/bench/transform_bench
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "core/event_time.h"
#include "core/record_validator.h"
#include "transform/transform.h"

namespace {

using pinpipe::core::RecordKind;
using pinpipe::transform::Outcome;
using pinpipe::transform::Transform;

// A mix shaped like the real data (../shared/DATA_FACTS.md): suffixes, NBSP after an ellipsis,
// placeholders, one fully broken row (dropped).
std::vector<std::string> PinRecords() {
  const char* follower[] = {"12k", "999", "1.2k", "3M", "451k", "87", "15M", "User Info Error"};
  const char* description[] = {
      "Bring the season home with this festive wreath made from pine, berries and a little "
      "patience. Step by step instructions for beginners and a list of everything you "
      "need…\xC2\xA0",
      "No description available Story format",
      "Easy DIY ideas for the whole family, with templates to print at home and tips from our "
      "readers on what worked best for them.",
  };
  std::vector<std::string> records;
  for (int i = 0; i < 64; ++i) {
    const std::string fc = follower[i % 8];
    const bool broken = fc == "User Info Error";
    records.push_back(
        "{\"index\": " + std::to_string(1000 + i) +
        ", \"unique_id\": \"fbe53c66-3442-4773-b19e-d3ec6f54dd" + std::to_string(10 + i) +
        "\", \"title\": \"" +
        (broken ? "No Title Data Available" : "Festive Christmas Wreath Ideas ") +
        "\", \"description\": \"" + description[i % 3] + "\", \"poster_name\": \"" +
        (broken ? "User Info Error" : "Holiday Ideas Daily") + "\", \"follower_count\": \"" + fc +
        "\", \"tag_list\": \"Christmas Wreath,Diy Wreath,Holiday Decor,Pine,Berries,Door Decor,"
        "Winter,Crafts,Home\", \"is_image_or_video\": \"image\", \"image_src\": \"" +
        (broken ? "Image src error."
                : "https://i.pinimg.com/originals/0d/a5/3b/0da53b4f2b8c1d.jpg") +
        "\", \"downloaded\": " + (broken ? "0" : "1") +
        ", \"save_location\": \"Local save in /data/christmas\", \"category\": \"christmas\"}");
  }
  return records;
}

std::vector<std::string> GeoRecords() {
  return {
      R"({"ind": 7528, "timestamp": "2020-08-28 03:52:47", "latitude": -89.9787, "longitude": -173.293, "country": "Albania"})",
      R"({"ind": 2863, "timestamp": "2020-04-27T13:34:16", "latitude": -5.34445, "longitude": -177.924, "country": "Armenia"})"};
}

std::vector<std::string> UserRecords() {
  return {
      R"({"ind": 7528, "first_name": "Abigail", "last_name": "Ali", "age": 20, "date_joined": "2015-10-24 11:23:51"})",
      R"({"ind": 2863, "first_name": "Dylan", "last_name": "Holmes", "age": 32, "date_joined": "2016-10-23T14:06:51"})"};
}

void Run(benchmark::State& state, RecordKind kind, const std::vector<std::string>& records,
         bool write_copy) {
  const std::shared_ptr<const Transform> transform = Transform::Default();
  Transform::Scratch scratch;
  pinpipe::transform::Row row;
  std::string reason;
  std::vector<pinpipe::core::FieldError> errors;
  pinpipe::transform::QualityTally tally;  // as the batch and speed layers count
  std::string out;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& record = records[i++ % records.size()];
    bytes += static_cast<int64_t>(record.size());
    const Outcome outcome =
        transform->ApplyToTally(kind, record, &scratch, &row, &reason, &errors, &tally);
    if (write_copy && outcome == Outcome::kRow) {
      if (out.size() > (1 << 20)) out.clear();
      Transform::AppendCopyLine(row, &out);
    }
    benchmark::DoNotOptimize(outcome);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
}

void BM_ApplyPin(benchmark::State& state) { Run(state, RecordKind::kPin, PinRecords(), false); }
void BM_ApplyPinAndCopyLine(benchmark::State& state) {
  Run(state, RecordKind::kPin, PinRecords(), true);
}
void BM_ApplyGeoAndCopyLine(benchmark::State& state) {
  Run(state, RecordKind::kGeo, GeoRecords(), true);
}
void BM_ApplyUserAndCopyLine(benchmark::State& state) {
  Run(state, RecordKind::kUser, UserRecords(), true);
}
// The validator alone, with its fast path (the default) and with simdjson only.
void Validate(benchmark::State& state, pinpipe::core::RecordValidator::Parser parser) {
  const std::vector<std::string> records = PinRecords();
  pinpipe::core::RecordValidator validator(parser);
  std::vector<pinpipe::core::FieldError> errors;
  size_t i = 0;
  int64_t bytes = 0;
  for (auto _ : state) {
    const std::string& record = records[i++ % records.size()];
    bytes += static_cast<int64_t>(record.size());
    errors.clear();
    benchmark::DoNotOptimize(validator.Validate(RecordKind::kPin, record, nullptr, &errors));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.counters["fast_path_share"] =
      static_cast<double>(validator.parser_counts().fast_path) /
      static_cast<double>(validator.parser_counts().fast_path + validator.parser_counts().simdjson);
}
void BM_ValidatePin(benchmark::State& state) {
  Validate(state, pinpipe::core::RecordValidator::Parser::kFastPathFirst);
}
void BM_ValidatePinSimdjsonOnly(benchmark::State& state) {
  Validate(state, pinpipe::core::RecordValidator::Parser::kSimdjsonOnly);
}

// The speed layer's dt per row (core::EventTimeExtractor on the raw record, the archiver's rule):
// an On-Demand lookup of the one field for geo and user records, nothing for pins.
void EventDay(benchmark::State& state, RecordKind kind, const std::vector<std::string>& records) {
  pinpipe::core::EventTimeExtractor extractor(pinpipe::core::EventTimePolicy{});
  const int64_t kafka_ms = 1598586767000;  // 2020-08-28T03:52:47Z: the records' own times count
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(extractor.Day(kind, records[i++ % records.size()], kafka_ms));
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_EventDayPin(benchmark::State& state) { EventDay(state, RecordKind::kPin, PinRecords()); }
void BM_EventDayGeo(benchmark::State& state) { EventDay(state, RecordKind::kGeo, GeoRecords()); }
void BM_EventDayUser(benchmark::State& state) { EventDay(state, RecordKind::kUser, UserRecords()); }

BENCHMARK(BM_ValidatePin);
BENCHMARK(BM_ValidatePinSimdjsonOnly);
BENCHMARK(BM_ApplyPin);
BENCHMARK(BM_ApplyPinAndCopyLine);
BENCHMARK(BM_ApplyGeoAndCopyLine);
BENCHMARK(BM_ApplyUserAndCopyLine);
BENCHMARK(BM_EventDayPin);
BENCHMARK(BM_EventDayGeo);
BENCHMARK(BM_EventDayUser);

}  // namespace

BENCHMARK_MAIN();
