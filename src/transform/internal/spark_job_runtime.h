// The static part of the generated Spark job (spark_job_runtime.py), embedded at build time by
// src/transform/CMakeLists.txt. Internal to src/transform: use transform/spark_export.h.
#pragma once

#include <string_view>

namespace pinpipe::transform::internal {

extern const std::string_view kSparkJobRuntime;

}  // namespace pinpipe::transform::internal
