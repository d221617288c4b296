// Hashes for SigV4 and S3 (OpenSSL's EVP one-shot functions). Hex output is lowercase.
// Pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace pinpipe::lake::internal {

std::string Sha256Raw(std::string_view data);  // 32 bytes
std::string Sha256Hex(std::string_view data);
std::string Md5Raw(std::string_view data);  // 16 bytes
std::string Md5Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // 32 raw bytes
std::string Base64Encode(std::string_view bytes);

}  // namespace pinpipe::lake::internal
