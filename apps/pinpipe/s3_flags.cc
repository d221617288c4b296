#include "s3_flags.h"

namespace pinpipe::app {

lake::S3Options S3Flags::ToOptions() const {
  lake::S3Options s3;
  s3.endpoint = endpoint;
  s3.region = region;
  s3.addressing = addressing == "path"      ? lake::S3Addressing::kPath
                  : addressing == "virtual" ? lake::S3Addressing::kVirtualHosted
                                            : lake::S3Addressing::kAuto;
  return s3;
}

void AddS3Flags(CLI::App& sub, S3Flags* flags) {
  sub.add_option("--s3-endpoint", flags->endpoint,
                 "S3 endpoint for s3:// lakes (default: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the "
                 "AWS profile, else AWS)")
      ->envname("PINPIPE_S3_ENDPOINT");
  sub.add_option("--s3-region", flags->region,
                 "S3 region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile, else us-east-1)")
      ->envname("PINPIPE_S3_REGION");
  sub.add_option("--s3-addressing", flags->addressing, "S3 addressing: auto, path or virtual")
      ->envname("PINPIPE_S3_ADDRESSING")
      ->check(CLI::IsMember({"auto", "path", "virtual"}))
      ->capture_default_str();
}

}  // namespace pinpipe::app
