// The S3 settings of the commands that open a lake (`pinpipe archive`, `pinpipe batch`): one set
// of flags, environment variables and defaults for both.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "lake/s3_options.h"

namespace pinpipe::app {

struct S3Flags {
  std::string endpoint;
  std::string region;
  std::string addressing = "auto";  // auto | path | virtual

  lake::S3Options ToOptions() const;
};

// Adds --s3-endpoint, --s3-region and --s3-addressing (PINPIPE_S3_ENDPOINT, PINPIPE_S3_REGION,
// PINPIPE_S3_ADDRESSING) to `sub`, bound to `*flags`.
void AddS3Flags(CLI::App& sub, S3Flags* flags);

}  // namespace pinpipe::app
