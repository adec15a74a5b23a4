#include "common/util/strings.h"

#include <cstdint>
#include <cstdio>

namespace kubepp::util {

namespace {

// unicode.IsPrint for a code point >= 0x80, short of the unassigned ones (see the header).
bool IsPrintable(uint32_t cp) {
  if (cp < 0xa0) return false;  // C1 controls
  // Spaces other than U+0020 (Zs), line and paragraph separators (Zl, Zp).
  if (cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x2028 ||
      cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000) {
    return false;
  }
  // Format characters (Cf).
  if (cp == 0xad || (cp >= 0x600 && cp <= 0x605) || cp == 0x61c || cp == 0x6dd ||
      cp == 0x70f || (cp >= 0x890 && cp <= 0x891) || cp == 0x8e2 || cp == 0x180e ||
      (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x206f) || cp == 0xfeff ||
      (cp >= 0xfff9 && cp <= 0xfffb) || cp == 0x110bd || cp == 0x110cd ||
      (cp >= 0x13430 && cp <= 0x1343f) || (cp >= 0x1bca0 && cp <= 0x1bca3) ||
      (cp >= 0x1d173 && cp <= 0x1d17a) || cp == 0xe0001 || (cp >= 0xe0020 && cp <= 0xe007f)) {
    return false;
  }
  // Private use (Co) and noncharacters (unassigned).
  if ((cp >= 0xe000 && cp <= 0xf8ff) || cp >= 0xf0000 || (cp >= 0xfdd0 && cp <= 0xfdef) ||
      (cp & 0xfffe) == 0xfffe) {
    return false;
  }
  return true;
}

// The length of the valid UTF-8 sequence at the start of `s` (2 to 4) and its code
// point, or 0 when it is not one (overlong, a surrogate, beyond U+10FFFF, truncated).
size_t DecodeUtf8(std::string_view s, uint32_t* cp) {
  auto c = static_cast<unsigned char>(s[0]);
  size_t len = c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
  if (len == 0 || len > s.size()) return 0;
  uint32_t v = len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[k]);
    if ((cc & 0xc0) != 0x80) return 0;
    v = (v << 6) | (cc & 0x3f);
  }
  if ((len == 3 && (v < 0x800 || (v >= 0xd800 && v < 0xe000))) ||
      (len == 4 && (v < 0x10000 || v > 0x10ffff))) {
    return 0;
  }
  *cp = v;
  return len;
}

}  // namespace

void AppendGoQuoted(std::string* out, std::string_view s) {
  char buf[16];
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': *out += "\\\""; break;
        case '\\': *out += "\\\\"; break;
        case '\a': *out += "\\a"; break;
        case '\b': *out += "\\b"; break;
        case '\f': *out += "\\f"; break;
        case '\n': *out += "\\n"; break;
        case '\r': *out += "\\r"; break;
        case '\t': *out += "\\t"; break;
        case '\v': *out += "\\v"; break;
        default:
          if (c < 0x20 || c == 0x7f) {
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            *out += buf;
          } else {
            *out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = DecodeUtf8(s.substr(i), &cp);
    if (len == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      *out += buf;
      ++i;
    } else {
      if (IsPrintable(cp)) {
        out->append(s.substr(i, len));
      } else {
        std::snprintf(buf, sizeof buf, cp < 0x10000 ? "\\u%04x" : "\\U%08x", cp);
        *out += buf;
      }
      i += len;
    }
  }
  *out += '"';
}

std::string GoQuote(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendGoQuoted(&out, s);
  return out;
}

std::string AsciiLower(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

}  // namespace kubepp::util
