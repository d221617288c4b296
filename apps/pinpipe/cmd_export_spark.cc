// `pinpipe export-spark`: writes the batch job as a PySpark program generated from the transform
// definition (transform/spark_export.h; docs/design.md "Scaling out").
#include <sys/stat.h>

#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "command.h"
#include "core/status.h"
#include "log/logger.h"
#include "topic_flags.h"
#include "transform/spark_export.h"
#include "transform/transform.h"

namespace pinpipe::app {
namespace {

const log::Logger kExportSparkLog("export-spark");

struct ExportSparkFlags {
  std::string transform_file;
  std::string out;
  transform::SparkExportOptions options;
};

Status ExportSpark(const ExportSparkFlags& f) {
  std::shared_ptr<const transform::Transform> t = transform::Transform::Default();
  transform::SparkExportOptions options = f.options;
  if (!f.transform_file.empty()) {
    ASSIGN_OR_RETURN(t, transform::Transform::FromFile(f.transform_file));
    options.source_name = f.transform_file;
  }
  ASSIGN_OR_RETURN(std::string job, transform::ExportSparkJob(*t, options));
  if (f.out.empty() || f.out == "-") {
    std::cout << job;
    std::cout.flush();
    return std::cout ? Status::Ok() : Internal("cannot write the job to standard output");
  }
  const std::string tmp = f.out + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return NotFound(fmt::format("cannot create {}", tmp));
    out << job;
    out.close();
    if (!out) return Internal(fmt::format("cannot write {}", tmp));
  }
  ::chmod(tmp.c_str(), 0755);
  if (std::rename(tmp.c_str(), f.out.c_str()) != 0) {
    return Internal(fmt::format("cannot rename {} to {}", tmp, f.out));
  }
  return Status::Ok();
}

CommandRegistration kExportSpark(
    "export-spark", "Write the batch job as a PySpark program generated from the transform rules",
    [](CLI::App& sub) {
      auto f = std::make_shared<ExportSparkFlags>();
      sub.add_option("--transform-file", f->transform_file,
                     "Transform rules (TOML); default: the built-in transforms/pinterest.toml")
          ->envname("PINPIPE_TRANSFORM_FILE");
      sub.add_option("--out", f->out, "Where to write the job (default: standard output)");
      AddTopicFlags(sub, {&f->options.topics[0], &f->options.topics[1], &f->options.topics[2]},
                    "Default topic of {} records in the job");
      return CommandRunner([f] {
        const Status s = ExportSpark(*f);
        if (!s.ok()) {
          kExportSparkLog.Error("{}", s.ToString());
          return 2;
        }
        return 0;
      });
    });

}  // namespace
}  // namespace pinpipe::app
