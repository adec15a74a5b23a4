#include "proxy/ingress/route_table.h"

#include <cctype>

namespace kubepp::proxy::ingress {

std::string BackendRef::ToString() const {
  return ns + "/" + service + ":" + (port_name.empty() ? std::to_string(port_number) : port_name);
}

bool HostMatches(std::string_view pattern, std::string_view host) {
  if (pattern.size() < 2 || pattern.substr(0, 2) != "*.") return pattern == host;
  std::string_view suffix = pattern.substr(1);  // ".example.com"
  if (host.size() <= suffix.size()) return false;
  std::string_view label = host.substr(0, host.size() - suffix.size());
  return host.substr(label.size()) == suffix && label.find('.') == std::string_view::npos;
}

bool PrefixMatches(std::string_view rule, std::string_view path) {
  while (!rule.empty() && rule.back() == '/') rule.remove_suffix(1);
  if (rule.empty()) return true;  // "/" matches every path
  if (path.size() < rule.size() || path.substr(0, rule.size()) != rule) return false;
  // The rule must end on an element boundary of the request path.
  return path.size() == rule.size() || path[rule.size()] == '/';
}

std::string NormalizeHost(std::string_view h) {
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close != std::string_view::npos) h = h.substr(0, close + 1);
  } else if (size_t colon = h.rfind(':'); colon != std::string_view::npos) {
    h = h.substr(0, colon);
  }
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  std::string out(h);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool RouteTable::AddTo(Rules& rules, std::string path, PathType type, Route route) {
  if (path.empty()) path = "/";
  if (type == PathType::kPrefix) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
  }
  for (const auto& r : rules) {
    if (r.path == path && r.type == type) return false;
  }
  rules.push_back({std::move(path), type, std::move(route)});
  return true;
}

bool RouteTable::Add(const std::string& host, std::string path, PathType type, Route route) {
  bool added = AddTo(host.empty() ? any_host_ : hosts_[host], std::move(path), type,
                     std::move(route));
  if (added) ++rules_;
  return added;
}

bool RouteTable::SetDefault(Route route) {
  if (default_) return false;
  default_ = std::move(route);
  return true;
}

const Route* RouteTable::Best(const Rules& rules, std::string_view path) {
  const PathRule* best = nullptr;
  for (const auto& r : rules) {
    bool match = r.type == PathType::kExact ? r.path == path : PrefixMatches(r.path, path);
    if (!match) continue;
    // "/" as a prefix is the shortest match of all ("" in element terms).
    size_t len = (r.type == PathType::kPrefix && r.path == "/") ? 0 : r.path.size();
    size_t best_len = !best ? 0
                      : (best->type == PathType::kPrefix && best->path == "/") ? 0
                                                                               : best->path.size();
    if (!best || len > best_len ||
        (len == best_len && r.type == PathType::kExact && best->type != PathType::kExact)) {
      best = &r;
    }
  }
  return best ? &best->route : nullptr;
}

const Route* RouteTable::Lookup(std::string_view host, std::string_view path) const {
  if (path.empty()) path = "/";
  if (auto it = hosts_.find(host); it != hosts_.end()) {
    if (const Route* r = Best(it->second, path)) return r;
  }
  if (size_t dot = host.find('.'); dot != std::string_view::npos && dot > 0) {
    std::string wildcard = "*" + std::string(host.substr(dot));
    if (auto it = hosts_.find(wildcard); it != hosts_.end()) {
      if (const Route* r = Best(it->second, path)) return r;
    }
  }
  if (const Route* r = Best(any_host_, path)) return r;
  return default_ ? &*default_ : nullptr;
}

}  // namespace kubepp::proxy::ingress
