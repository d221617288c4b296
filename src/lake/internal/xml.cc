#include "lake/internal/xml.h"

#include <cstdint>

namespace pinpipe::lake::internal {
namespace {

constexpr int kMaxDepth = 64;  // S3 documents are 3-4 levels deep; bounds the recursion

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes character data with entity references into `out`; false on a malformed reference.
bool DecodeText(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      *out += s[i];
      continue;
    }
    const size_t semi = s.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12) return false;
    const std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") {
      *out += '&';
    } else if (ent == "lt") {
      *out += '<';
    } else if (ent == "gt") {
      *out += '>';
    } else if (ent == "quot") {
      *out += '"';
    } else if (ent == "apos") {
      *out += '\'';
    } else if (ent.size() >= 2 && ent[0] == '#') {
      uint32_t cp = 0;
      const bool is_hex = ent[1] == 'x' || ent[1] == 'X';
      const std::string_view digits = ent.substr(is_hex ? 2 : 1);
      if (digits.empty()) return false;
      for (char c : digits) {
        uint32_t d;
        if (c >= '0' && c <= '9') {
          d = static_cast<uint32_t>(c - '0');
        } else if (is_hex && c >= 'a' && c <= 'f') {
          d = static_cast<uint32_t>(c - 'a' + 10);
        } else if (is_hex && c >= 'A' && c <= 'F') {
          d = static_cast<uint32_t>(c - 'A' + 10);
        } else {
          return false;
        }
        cp = cp * (is_hex ? 16u : 10u) + d;
        if (cp > 0x10FFFF) return false;
      }
      AppendUtf8(cp, out);
    } else {
      return false;
    }
    i = semi;
  }
  return true;
}

class Parser {
 public:
  explicit Parser(std::string_view doc) : doc_(doc) {}

  std::optional<XmlElement> Document() {
    if (!SkipMisc()) return std::nullopt;
    if (pos_ >= doc_.size() || doc_[pos_] != '<') return std::nullopt;
    XmlElement root;
    if (!Element(&root, 0)) return std::nullopt;
    return root;
  }

 private:
  bool StartsWith(std::string_view prefix) const {
    return doc_.substr(pos_, prefix.size()) == prefix;
  }

  bool SkipPast(std::string_view terminator) {
    const size_t end = doc_.find(terminator, pos_);
    if (end == std::string_view::npos) return false;
    pos_ = end + terminator.size();
    return true;
  }

  void SkipSpace() {
    while (pos_ < doc_.size() &&
           (doc_[pos_] == ' ' || doc_[pos_] == '\t' || doc_[pos_] == '\r' || doc_[pos_] == '\n')) {
      ++pos_;
    }
  }

  // Skips the prolog: whitespace, <?xml ...?>, comments, <!DOCTYPE ...>.
  bool SkipMisc() {
    for (;;) {
      SkipSpace();
      if (StartsWith("<?")) {
        if (!SkipPast("?>")) return false;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return false;
      } else if (StartsWith("<!DOCTYPE")) {
        if (!SkipPast(">")) return false;
      } else {
        return true;
      }
    }
  }

  static std::string_view LocalName(std::string_view qname) {
    const size_t colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
  }

  // At '<' of a start tag: parses the element and its content into `out`.
  bool Element(XmlElement* out, int depth) {
    if (depth > kMaxDepth) return false;
    ++pos_;  // '<'
    const size_t name_start = pos_;
    while (pos_ < doc_.size() && doc_[pos_] != '>' && doc_[pos_] != '/' && doc_[pos_] != ' ' &&
           doc_[pos_] != '\t' && doc_[pos_] != '\r' && doc_[pos_] != '\n') {
      ++pos_;
    }
    const std::string_view qname = doc_.substr(name_start, pos_ - name_start);
    out->name = std::string(LocalName(qname));
    if (out->name.empty()) return false;  // "<>", "<s3:>"
    // Attributes: skipped, but quoted values may contain '>' or '/'.
    for (;;) {
      if (pos_ >= doc_.size()) return false;
      const char c = doc_[pos_];
      if (c == '"' || c == '\'') {
        const size_t close = doc_.find(c, pos_ + 1);
        if (close == std::string_view::npos) return false;
        pos_ = close + 1;
      } else if (c == '/') {
        if (!StartsWith("/>")) return false;
        pos_ += 2;
        return true;  // empty element
      } else if (c == '>') {
        ++pos_;
        break;
      } else {
        ++pos_;
      }
    }
    // Content.
    for (;;) {
      const size_t lt = doc_.find('<', pos_);
      if (lt == std::string_view::npos) return false;
      if (!DecodeText(doc_.substr(pos_, lt - pos_), &out->text)) return false;
      pos_ = lt;
      if (StartsWith("</")) {
        pos_ += 2;
        const size_t gt = doc_.find('>', pos_);
        if (gt == std::string_view::npos) return false;
        std::string_view end_name = doc_.substr(pos_, gt - pos_);
        while (!end_name.empty() && (end_name.back() == ' ' || end_name.back() == '\t' ||
                                     end_name.back() == '\r' || end_name.back() == '\n')) {
          end_name.remove_suffix(1);
        }
        if (end_name != qname) return false;
        pos_ = gt + 1;
        return true;
      }
      if (StartsWith("<![CDATA[")) {
        pos_ += 9;
        const size_t end = doc_.find("]]>", pos_);
        if (end == std::string_view::npos) return false;
        out->text.append(doc_.substr(pos_, end - pos_));
        pos_ = end + 3;
      } else if (StartsWith("<!--")) {
        if (!SkipPast("-->")) return false;
      } else if (StartsWith("<?")) {
        if (!SkipPast("?>")) return false;
      } else {
        XmlElement child;
        if (!Element(&child, depth + 1)) return false;
        out->children.push_back(std::move(child));
      }
    }
  }

  std::string_view doc_;
  size_t pos_ = 0;
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& c : children) {
    if (c.name == child_name) return &c;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* c = Child(child_name);
  return c == nullptr ? std::string() : c->text;
}

std::optional<XmlElement> ParseXml(std::string_view document) {
  return Parser(document).Document();
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace pinpipe::lake::internal
