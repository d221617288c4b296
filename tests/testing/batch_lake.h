// Helpers for the batch job's tests: archive-layout objects built by hand (zstd JSONL, as the
// archiver writes them: <topic>/dt=YYYY-MM-DD/hr=HH/<partition>-<first offset:20>.jsonl.zst and
// <topic>/dt=YYYY-MM-DD/_SUCCESS), hand-written records, and reading the lake back.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/object_store.h"
#include "transform/transform.h"

namespace pinpipe::testing {

// `lines` joined with '\n' (each line ends in one), compressed with zstd. With
// lines_per_frame > 0 the object is several independent frames, as the archiver writes them.
std::string ZstdJsonl(const std::vector<std::string>& lines, size_t lines_per_frame = 0,
                      int level = 3);
// `text` as one zstd frame, exactly (no newline added).
std::string ZstdFrame(const std::string& text, int level = 3);

// The archive key of a segment ("pinterest/dt=2024-01-01/hr=05/0-00000000000000000042.jsonl.zst").
std::string SegmentKey(const std::string& topic, const std::string& date, int hour, int partition,
                       int64_t first_offset);

// Puts one segment object of `lines`; returns its key.
StatusOr<std::string> PutSegment(lake::ObjectStore* store, const std::string& topic,
                                 const std::string& date, int hour, int partition,
                                 int64_t first_offset, const std::vector<std::string>& lines);
// Puts <topic>/dt=<date>/_SUCCESS.
Status PutSuccess(lake::ObjectStore* store, const std::string& topic, const std::string& date);

// Hand-written records, all fields given (strings are inserted as they are: pass JSON-safe text).
std::string PinJson(int ind, const std::string& unique_id, const std::string& poster_name,
                    const std::string& follower_count, const std::string& category,
                    const std::string& title = "A title");
std::string GeoJson(int ind, const std::string& timestamp, const std::string& country,
                    double latitude = 12.5, double longitude = -3.25);
std::string UserJson(int ind, const std::string& first_name, const std::string& last_name, int age,
                     const std::string& date_joined);

// A day's raw records of each kind (pin, geo, user) for the differential tests of the batch job:
// `replays` records drawn from `distinct` synthetic posts of the emulator (seed `seed`, so with
// duplicates), then every case of tests/data/transform (NBSP, emoji, backslashes, k/M/decimal
// counts, placeholders, invalid records; one line each, CR/LF as spaces, as the archiver writes),
// then broken lines (empty, not an object, truncated, a BOM, 1e999, a lone surrogate, invalid
// UTF-8, duplicate keys).
std::array<std::vector<std::string>, 3> TrickyDayRecords(int distinct, int replays, uint64_t seed);

// transforms/pinterest.toml with its dedup_key lines left out (so no record loses to another of the
// same key): the differential tests compare every record's row with it.
StatusOr<std::shared_ptr<const transform::Transform>> DefaultTransformWithoutDedup();

// Every object under `prefix` (key -> bytes). Errors: the store's.
StatusOr<std::map<std::string, std::string>> ReadAll(lake::ObjectStore* store,
                                                     const std::string& prefix);

}  // namespace pinpipe::testing
