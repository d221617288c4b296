#include "lake/internal/crypto.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/check.h"
#include "core/hex.h"

namespace pinpipe::lake::internal {
namespace {

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure or a broken OpenSSL: an invariant, not input.
  PINPIPE_CHECK(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr) == 1)
      << "EVP_Digest failed";
  return std::string(reinterpret_cast<const char*>(out), len);
}

}  // namespace

std::string Sha256Raw(std::string_view data) { return Digest(EVP_sha256(), data); }
std::string Sha256Hex(std::string_view data) { return core::HexEncode(Sha256Raw(data)); }
std::string Md5Raw(std::string_view data) { return Digest(EVP_md5(), data); }
std::string Md5Hex(std::string_view data) { return core::HexEncode(Md5Raw(data)); }

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const unsigned char* result =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  PINPIPE_CHECK(result != nullptr) << "HMAC failed";
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()),
                                static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

}  // namespace pinpipe::lake::internal
