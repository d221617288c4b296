// A minimal XML reader for S3's small response documents (errors, ListObjectsV2, multipart).
// Builds a tree of elements with their decoded text; attributes, comments, processing
// instructions and the DOCTYPE are skipped, CDATA is kept as text, namespaces are ignored (the
// local name is used). Not a validating parser: it accepts what S3-compatible servers send and
// answers nullopt for anything malformed. Pure; safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pinpipe::lake::internal {

struct XmlElement {
  std::string name;  // local name: "Key" for <s3:Key>
  std::string text;  // concatenated, entity-decoded character data directly inside
  std::vector<XmlElement> children;

  // The first child named `name`, or nullptr.
  const XmlElement* Child(std::string_view child_name) const;
  // The text of the first child named `name`, or "" when absent.
  std::string ChildText(std::string_view child_name) const;
};

// The root element, or nullopt when `document` is not well-formed enough to read.
std::optional<XmlElement> ParseXml(std::string_view document);

// Escapes &, <, >, " and ' for element text.
std::string XmlEscape(std::string_view text);

}  // namespace pinpipe::lake::internal
