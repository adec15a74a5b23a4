#include "kubelet/runtime/image_reference.h"

#include <algorithm>
#include <cctype>

namespace kubepp::kubelet {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// path-component: [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
bool ValidPathComponent(const std::string& c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size();) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !IsLowerAlnum(c[j])) ++j;
    std::string sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
    i = j;
  }
  return true;
}

// domain: component(.component)*(:port)? or [ipv6](:port)?
bool ValidDomain(const std::string& d) {
  std::string host = d, port;
  if (!d.empty() && d.front() == '[') {
    size_t close = d.find(']');
    if (close == std::string::npos || close == 1) return false;
    for (char c : d.substr(1, close - 1)) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
    std::string rest = d.substr(close + 1);
    if (rest.empty()) return true;
    if (rest.front() != ':') return false;
    port = rest.substr(1);
    host.clear();
  } else if (size_t colon = d.find(':'); colon != std::string::npos) {
    host = d.substr(0, colon);
    port = d.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!port.empty() || d.find(':') != std::string::npos) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) {
      return false;
    }
  }
  if (d.front() == '[') return true;
  if (host.empty()) return false;
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string c = host.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (c.empty() || c.front() == '-' || c.back() == '-') return false;
    for (char ch : c) {
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-') return false;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return true;
}

// tag: [\w][\w.-]{0,127}
bool ValidTag(const std::string& t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace

std::string ImageReference::String() const {
  std::string s = Repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

std::string ImageReference::RegistryHost() const {
  return domain == "docker.io" ? "registry-1.docker.io" : domain;
}

Result<ImageReference> ParseImageReference(const std::string& text) {
  auto bad = [&](const std::string& why) {
    return BadRequest("invalid image reference \"" + text + "\": " + why);
  };
  if (text.empty()) return bad("empty");
  if (text.size() > 255 + 1 + 128 + 1 + 7 + 128) return bad("too long");
  ImageReference ref;
  std::string name = text;
  if (size_t at = name.find('@'); at != std::string::npos) {
    ref.digest = name.substr(at + 1);
    name = name.substr(0, at);
    if (ref.digest.rfind("sha256:", 0) != 0) return bad("digest must be sha256:<64 hex digits>");
    std::string hex = ref.digest.substr(7);
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
      return bad("digest must be sha256:<64 lower-case hex digits>");
    }
  }
  size_t last_slash = name.rfind('/');
  size_t colon = name.rfind(':');
  if (colon != std::string::npos && (last_slash == std::string::npos || colon > last_slash)) {
    ref.tag = name.substr(colon + 1);
    name = name.substr(0, colon);
    if (!ValidTag(ref.tag)) return bad("tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
  }
  if (name.empty()) return bad("no repository name");
  size_t slash = name.find('/');
  std::string first = slash == std::string::npos ? "" : name.substr(0, slash);
  bool is_domain = !first.empty() &&
                   (first.find_first_of(".:") != std::string::npos || first == "localhost" ||
                    std::any_of(first.begin(), first.end(), [](char c) { return c >= 'A' && c <= 'Z'; }));
  if (is_domain) {
    ref.domain = first;
    ref.path = name.substr(slash + 1);
    if (!ValidDomain(ref.domain)) return bad("malformed registry host \"" + ref.domain + "\"");
  } else {
    ref.domain = "docker.io";
    ref.path = name;
  }
  // Docker Hub's old names for itself.
  if (ref.domain == "index.docker.io") ref.domain = "docker.io";
  if (ref.domain == "docker.io" && ref.path.find('/') == std::string::npos) ref.path = "library/" + ref.path;
  size_t start = 0;
  while (true) {
    size_t next = ref.path.find('/', start);
    std::string comp = ref.path.substr(start, next == std::string::npos ? std::string::npos : next - start);
    if (!ValidPathComponent(comp)) {
      return bad("repository name component \"" + comp +
                 "\" must be lower-case letters and digits separated by '.', '_', '__' or '-'");
    }
    if (next == std::string::npos) break;
    start = next + 1;
  }
  if (ref.Repository().size() > 255) return bad("repository name longer than 255 characters");
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

std::string DefaultPullPolicy(const std::string& image) {
  auto ref = ParseImageReference(image);
  if (!ref.ok()) return "IfNotPresent";  // the pull fails either way, with the parse error
  return ref->tag == "latest" ? "Always" : "IfNotPresent";
}

}  // namespace kubepp::kubelet
