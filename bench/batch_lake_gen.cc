// batch_lake_gen: writes a synthetic archive into a lake, in the archiver's layout, for
// bench/batch_bench.sh:
//   <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first offset:20>.jsonl.zst   (zstd frames of ~1 MiB
//   of JSON lines, objects cut at --object-mib of raw JSON, as the archiver's defaults)
//   <topic>/dt=YYYY-MM-DD/_SUCCESS
// The records are those of the emulator: posts drawn with replacement from a synthetic source
// data set of --posts rows (src/emulate/synthetic.h: the real data's placeholders, suffixes,
// non-ASCII text, broken rows), each draw giving the post's pin, geo and user record, spread
// evenly over the days and their 24 hours; partition = index mod --partitions.
//
//   batch_lake_gen --lake DIR --from 2024-01-01 --days 1 --gib 1 [--posts 100000] [--seed 1]
//                  [--partitions 3] [--object-mib 64] [--level 3] [--threads N] [--kinds
//                  pin,geo,user]
//
// Prints one line: records, raw (uncompressed) bytes, compressed bytes, per kind.
#include <zstd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "archive/archive_layout.h"
#include "core/record_schema.h"
#include "emulate/record_json.h"
#include "emulate/synthetic.h"
#include "lake/object_store.h"

namespace {

struct Options {
  std::string lake;
  std::string from = "2024-01-01";
  int days = 1;
  double gib = 1.0;
  int posts = 100000;
  uint64_t seed = 1;
  int partitions = 3;
  int64_t object_mib = 64;
  int level = 3;
  int threads = 0;
  bool kinds[3] = {true, true, true};
};

const std::array<std::string, 3> kTopics = pinpipe::core::DefaultTopics();
constexpr size_t kFrameBytes = 1 << 20;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "batch_lake_gen: %s\n", message.c_str());
  std::exit(2);
}

// splitmix64: the draw of post n of a task, reproducible whatever the thread count.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// One open object of one (topic, hour, partition): lines are gathered into ~1 MiB frames.
class ObjectSink {
 public:
  ObjectSink(pinpipe::lake::ObjectStore* store, ZSTD_CCtx* cctx, int level, int64_t max_raw)
      : store_(store), cctx_(cctx), level_(level), max_raw_(max_raw) {}

  void Add(const std::string& topic, int64_t hour, int partition, int64_t offset,
           const std::string& line) {
    if (!writer_) {
      key_ = pinpipe::archive::SegmentObjectKey(topic, hour, pinpipe::kafka::Partition{partition},
                                                pinpipe::kafka::Offset{offset});
      auto w = store_->NewWriter(key_, {});
      if (!w.ok()) Die(key_ + ": " + w.status().ToString());
      writer_ = std::move(*w);
      raw_ = 0;
    }
    frame_ += line;
    frame_ += '\n';
    raw_ += static_cast<int64_t>(line.size()) + 1;
    if (frame_.size() >= kFrameBytes) Flush();
    if (raw_ >= max_raw_) Close();
  }

  void Close() {
    if (!writer_) return;
    Flush();
    if (pinpipe::Status s = writer_->Close(); !s.ok()) Die(key_ + ": " + s.ToString());
    writer_.reset();
  }

  int64_t compressed() const { return compressed_; }

 private:
  void Flush() {
    if (frame_.empty()) return;
    out_.resize(ZSTD_compressBound(frame_.size()));
    ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_);
    const size_t n = ZSTD_compress2(cctx_, out_.data(), out_.size(), frame_.data(), frame_.size());
    if (ZSTD_isError(n)) Die(ZSTD_getErrorName(n));
    if (pinpipe::Status s = writer_->Append(std::string_view(out_.data(), n)); !s.ok()) {
      Die(key_ + ": " + s.ToString());
    }
    compressed_ += static_cast<int64_t>(n);
    frame_.clear();
  }

  pinpipe::lake::ObjectStore* store_;
  ZSTD_CCtx* cctx_;
  int level_;
  int64_t max_raw_;
  std::unique_ptr<pinpipe::lake::ObjectWriter> writer_;
  std::string key_;
  std::string frame_;
  std::string out_;
  int64_t raw_ = 0;
  int64_t compressed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--lake")
      o.lake = value();
    else if (arg == "--from")
      o.from = value();
    else if (arg == "--days")
      o.days = std::stoi(value());
    else if (arg == "--gib")
      o.gib = std::stod(value());
    else if (arg == "--posts")
      o.posts = std::stoi(value());
    else if (arg == "--seed")
      o.seed = std::stoull(value());
    else if (arg == "--partitions")
      o.partitions = std::stoi(value());
    else if (arg == "--object-mib")
      o.object_mib = std::stoll(value());
    else if (arg == "--level")
      o.level = std::stoi(value());
    else if (arg == "--threads")
      o.threads = std::stoi(value());
    else if (arg == "--kinds") {
      const std::string kinds = value();
      for (int k = 0; k < 3; ++k) {
        o.kinds[k] = kinds.find(k == 0 ? "pin" : k == 1 ? "geo" : "user") != std::string::npos;
      }
    } else {
      Die("unknown option " + arg + " (see the comment at the top of bench/batch_lake_gen.cc)");
    }
  }
  if (o.lake.empty()) Die("--lake is required");
  const auto first_day = pinpipe::core::ParseDate(o.from);
  if (!first_day) Die("--from is not a date");
  if (o.threads <= 0)
    o.threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  auto store = pinpipe::lake::OpenObjectStore(o.lake);
  if (!store.ok()) Die(store.status().ToString());

  // The source rows as JSON, once: a draw copies three strings.
  const pinpipe::emulate::SyntheticDataSet data =
      pinpipe::emulate::GenerateDataSet(o.posts, o.seed);
  std::vector<std::string> json[3];
  double post_bytes = 0;
  for (size_t i = 0; i < data.pins.size(); ++i) {
    json[0].push_back(pinpipe::emulate::PinJson(data.pins[i]));
    json[1].push_back(pinpipe::emulate::GeoJson(data.geos[i]));
    json[2].push_back(pinpipe::emulate::UserJson(data.users[i]));
    for (int k = 0; k < 3; ++k) {
      if (o.kinds[k]) post_bytes += static_cast<double>(json[k].back().size() + 1);
    }
  }
  post_bytes /= static_cast<double>(data.pins.size());
  const auto draws_total = static_cast<int64_t>(o.gib * 1073741824.0 / post_bytes);
  const int64_t tasks = static_cast<int64_t>(o.days) * 24;  // one per (day, hour)
  const int64_t draws_per_task = (draws_total + tasks - 1) / tasks;

  std::atomic<int64_t> next_task{0};
  std::atomic<int64_t> records[3] = {0, 0, 0};
  std::atomic<int64_t> raw[3] = {0, 0, 0};
  std::atomic<int64_t> compressed[3] = {0, 0, 0};
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&] {
      ZSTD_CCtx* cctx = ZSTD_createCCtx();
      for (int64_t task = next_task++; task < tasks; task = next_task++) {
        const int64_t hour = *first_day * 24 + task;
        for (int k = 0; k < 3; ++k) {
          if (!o.kinds[k]) continue;
          std::vector<ObjectSink> sinks;
          for (int p = 0; p < o.partitions; ++p) {
            sinks.emplace_back(store->get(), cctx, o.level, o.object_mib << 20);
          }
          // Offsets: each (hour, partition) continues where the previous hour's left off, so
          // names are unique and sort like offsets.
          std::vector<int64_t> offset(static_cast<size_t>(o.partitions), task * draws_per_task);
          for (int64_t n = 0; n < draws_per_task; ++n) {
            const uint64_t draw =
                Mix(o.seed ^ (static_cast<uint64_t>(task) << 32) ^ static_cast<uint64_t>(n));
            const size_t row = static_cast<size_t>(draw % json[0].size());
            const int partition = static_cast<int>(row % static_cast<size_t>(o.partitions));
            const std::string& line = json[k][row];
            sinks[static_cast<size_t>(partition)].Add(
                kTopics[k], hour, partition, offset[static_cast<size_t>(partition)]++, line);
            records[k]++;
            raw[k] += static_cast<int64_t>(line.size()) + 1;
          }
          for (ObjectSink& s : sinks) {
            s.Close();
            compressed[k] += s.compressed();
          }
        }
      }
      ZSTD_freeCCtx(cctx);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int64_t d = 0; d < o.days; ++d) {
    for (int k = 0; k < 3; ++k) {
      if (!o.kinds[k]) continue;
      if (pinpipe::Status s =
              (*store)->Put(pinpipe::archive::SuccessKey(kTopics[k], *first_day + d), "");
          !s.ok()) {
        Die(s.ToString());
      }
    }
  }
  int64_t total_records = 0, total_raw = 0, total_compressed = 0;
  for (int k = 0; k < 3; ++k) {
    total_records += records[k];
    total_raw += raw[k];
    total_compressed += compressed[k];
  }
  std::printf(
      "batch_lake_gen: records=%lld raw_bytes=%lld compressed_bytes=%lld pin_records=%lld "
      "pin_raw_bytes=%lld pin_compressed_bytes=%lld days=%d posts=%d\n",
      static_cast<long long>(total_records), static_cast<long long>(total_raw),
      static_cast<long long>(total_compressed), static_cast<long long>(records[0].load()),
      static_cast<long long>(raw[0].load()), static_cast<long long>(compressed[0].load()), o.days,
      o.posts);
  return 0;
}
