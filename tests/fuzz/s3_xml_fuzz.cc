// libFuzzer target for the S3 response reader (lake/internal/xml.h): the one parser of outside
// input (what an S3-compatible server answers) that had no fuzz target. Besides "no crash, no
// sanitizer report" (the recursion is bounded at 64 levels), it checks the reader's promises on a
// success: every element has a non-empty local name (no '>', '/' or whitespace), and
// escaping any bytes and reading them back as an element's text gives the same bytes.
// Seed corpus: tests/fuzz/corpus/s3_xml/ (S3's error, ListObjectsV2 and multipart documents).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "lake/internal/xml.h"

namespace {

void CheckElement(const pinpipe::lake::internal::XmlElement& e, int depth) {
  PINPIPE_CHECK(depth <= 65) << "depth " << depth;
  PINPIPE_CHECK(!e.name.empty());
  PINPIPE_CHECK(e.name.find_first_of(">/ \t\r\n") == std::string::npos) << e.name;
  for (const auto& child : e.children) CheckElement(child, depth + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto root = pinpipe::lake::internal::ParseXml(text)) CheckElement(*root, 0);
  // Whatever the bytes, escaped text reads back unchanged.
  const std::string doc = "<Key>" + pinpipe::lake::internal::XmlEscape(text) + "</Key>";
  auto back = pinpipe::lake::internal::ParseXml(doc);
  PINPIPE_CHECK(back.has_value()) << doc;
  PINPIPE_CHECK(back->name == "Key");
  PINPIPE_CHECK(back->text == text) << doc;
  return 0;
}
