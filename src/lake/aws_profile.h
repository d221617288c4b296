// The AWS shared configuration files (~/.aws/credentials, ~/.aws/config), as the AWS CLI and
// SDKs read them: INI sections, "[name]" in the credentials file, "[default]" or
// "[profile name]" in the config file; "key = value" lines; '#' and ';' start comment lines;
// an indented line under "s3 =" is a nested setting, kept as "s3.<key>". Keys are lowercased.
// Pure parsing; the caller reads the files.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pinpipe::lake {

using AwsProfile = std::map<std::string, std::string>;  // "aws_access_key_id" -> "AKIA..."

enum class AwsFileKind { kCredentials, kConfig };

// The settings of `profile` in a file's text, or nullopt when the file has no such section.
// Malformed lines are ignored, as the AWS CLI does.
std::optional<AwsProfile> FindAwsProfile(std::string_view text, std::string_view profile,
                                         AwsFileKind kind);

}  // namespace pinpipe::lake
