// Plain HTTP request/response values shared by the server and the client. No Boost
// here: this header is included widely.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kubepp::http {

// Header names are compared case-insensitively; the map keeps them lower-cased.
using Headers = std::map<std::string, std::string>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // raw request target: path + "?" + query
  std::string path;    // percent-decoded path, no query
  // Query parameters, percent-decoded. A repeated key keeps its first value.
  std::map<std::string, std::string> query;
  Headers headers;     // lower-cased names
  std::string body;
  std::string remote_address;
  // TLS only: the client certificate the handshake verified against the server's
  // client CA (subject CN and O values); empty without one.
  std::string peer_cn;
  std::vector<std::string> peer_orgs;
  // Who sent the request, set by the server's authentication layer (empty until then).
  std::string user;
  std::vector<std::string> groups;

  // The header value or "" (name must be lower case).
  std::string_view Header(const std::string& lower_name) const;
  // The query value or `fallback`.
  std::string Query(const std::string& key, const std::string& fallback = "") const;
  bool HasQuery(const std::string& key) const { return query.count(key) > 0; }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  std::string body;
};

// Splits "/a/b?x=1&y=%20" into path "/a/b" and decoded query {x:1, y:" "}.
// Returns false on malformed percent-encoding.
bool ParseTarget(std::string_view target, std::string* path,
                 std::map<std::string, std::string>* query);
std::string PercentDecode(std::string_view s, bool plus_as_space, bool* ok);
std::string PercentEncode(std::string_view s);
std::string ToLower(std::string_view s);

}  // namespace kubepp::http
