// SparkExport: the batch job as a PySpark program, generated from a compiled Transform
// (`pinpipe export-spark`, docs/design.md "Scaling out"). Nothing in the output is a second copy
// of a rule: the generator walks the compiled columns (Transform::DescribeColumns), the record
// schemas (core::SchemaFor), the validator's messages (core::validator_messages) and the value
// rules' tables (transform/value_rules.h: the trim set, the count suffixes) and writes them as
// Python: one SCHEMAS entry per record kind and one clean_<kind>(values) function per table whose
// statements are the column rules in the order Apply() runs them, then drop_if_null. A fixed
// runtime (internal/spark_job_runtime.py, embedded at build time) holds the primitives those
// statements call (trim, the count-suffix and timestamp parsers, the validator's checks) and the
// job itself: list one or more days of the lake (<topic>/dt=D/hr=HH/<partition>-<first>.jsonl.zst
// or .jsonl.gz, local or s3a), clean every object in parallel (sc.binaryFiles: the exact bytes,
// so dead letters keep the object key, the line number and the raw record, as the batch job's),
// keep the first copy of each dedup key per day in (object key, line) order, and write
//   <out>/table=<table>/dt=D/part-*.txt          rows in PostgreSQL COPY text format
//   <out>/table=_rejected_<kind>/dt=D/part-*.txt  dead letters, the batch job's JSON lines
// Pure function of the transform; thread-safe.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "core/record_schema.h"
#include "core/status.h"
#include "transform/transform.h"

namespace pinpipe::transform {

struct SparkExportOptions {
  std::string source_name = "transforms/pinterest.toml";  // named in the header comment
  // Default topics of the pin, geo and user records (the job's --topics).
  std::array<std::string, 3> topics = core::DefaultTopics();
};

// The job's Python text. Errors: InvalidArgument for a column the generator cannot state (none
// today: every compiled rule and cast has a Python form; a new one must be added here first).
StatusOr<std::string> ExportSparkJob(const Transform& transform, const SparkExportOptions& options);

}  // namespace pinpipe::transform
