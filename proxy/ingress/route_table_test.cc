#include "proxy/ingress/route_table.h"

#include <catch2/catch.hpp>

namespace kubepp::proxy::ingress {
namespace {

Route To(const std::string& name) {
  return {name, std::make_shared<const Upstream>(BackendRef{"ns", name, 80, ""},
                                                 std::vector<Endpoint>{}),
          nullptr, false};
}

std::string Find(const RouteTable& t, std::string_view host, std::string_view path) {
  const Route* r = t.Lookup(host, path);
  return r ? r->ingress : "<none>";
}

TEST_CASE("wildcard hosts match exactly one label") {
  CHECK(HostMatches("*.example.com", "a.example.com"));
  CHECK_FALSE(HostMatches("*.example.com", "a.b.example.com"));
  CHECK_FALSE(HostMatches("*.example.com", "example.com"));
  CHECK_FALSE(HostMatches("*.example.com", ".example.com"));
  CHECK(HostMatches("foo.com", "foo.com"));
  CHECK_FALSE(HostMatches("foo.com", "a.foo.com"));
}

TEST_CASE("prefix paths match whole elements (upstream's examples)") {
  CHECK(PrefixMatches("/", "/anything"));
  CHECK(PrefixMatches("/foo", "/foo"));
  CHECK(PrefixMatches("/foo", "/foo/"));
  CHECK(PrefixMatches("/foo/", "/foo"));
  CHECK(PrefixMatches("/foo/", "/foo/"));
  CHECK_FALSE(PrefixMatches("/aaa/bb", "/aaa/bbb"));
  CHECK(PrefixMatches("/aaa/bbb", "/aaa/bbb/"));
  CHECK(PrefixMatches("/aaa/bbb", "/aaa/bbb/ccc"));
  CHECK_FALSE(PrefixMatches("/aaa/bbb", "/aaa/bbbxyz"));
  CHECK_FALSE(PrefixMatches("/aaa", "/ccc"));
}

TEST_CASE("NormalizeHost strips the port, case and a trailing dot") {
  CHECK(NormalizeHost("Foo.Example.COM:8080") == "foo.example.com");
  CHECK(NormalizeHost("foo.example.com.") == "foo.example.com");
  CHECK(NormalizeHost("[::1]:80") == "[::1]");
  CHECK(NormalizeHost("") == "");
}

TEST_CASE("longest path wins, Exact beats Prefix of equal length") {
  RouteTable t;
  t.Add("", "/", PathType::kPrefix, To("root"));
  t.Add("", "/aaa", PathType::kPrefix, To("aaa"));
  t.Add("", "/aaa/bbb", PathType::kPrefix, To("aaa-bbb"));
  t.Add("", "/foo", PathType::kPrefix, To("foo-prefix"));
  t.Add("", "/foo", PathType::kExact, To("foo-exact"));
  CHECK(Find(t, "x", "/aaa/ccc") == "aaa");
  CHECK(Find(t, "x", "/aaa/bbb") == "aaa-bbb");
  CHECK(Find(t, "x", "/aaa/bbb/ccc") == "aaa-bbb");
  CHECK(Find(t, "x", "/aaa/bbbxyz") == "aaa");
  CHECK(Find(t, "x", "/ccc") == "root");
  CHECK(Find(t, "x", "/foo") == "foo-exact");
  CHECK(Find(t, "x", "/foo/") == "foo-prefix");
  CHECK(Find(t, "x", "/foo/bar") == "foo-prefix");
}

TEST_CASE("Exact matches only the whole path") {
  RouteTable t;
  t.Add("", "/foo", PathType::kExact, To("exact"));
  CHECK(Find(t, "x", "/foo") == "exact");
  CHECK(Find(t, "x", "/foo/") == "<none>");
  CHECK(Find(t, "x", "/bar") == "<none>");
  CHECK(Find(t, "x", "/FOO") == "<none>");
}

TEST_CASE("exact host before wildcard before any host, then the default backend") {
  RouteTable t;
  t.Add("foo.example.com", "/", PathType::kPrefix, To("exact-host"));
  t.Add("*.example.com", "/", PathType::kPrefix, To("wildcard"));
  t.Add("*.example.com", "/w", PathType::kPrefix, To("wildcard-w"));
  t.Add("", "/api", PathType::kPrefix, To("any-host"));
  CHECK(Find(t, "foo.example.com", "/w") == "exact-host");
  CHECK(Find(t, "bar.example.com", "/") == "wildcard");
  CHECK(Find(t, "bar.example.com", "/w/x") == "wildcard-w");
  CHECK(Find(t, "a.bar.example.com", "/api") == "any-host");
  CHECK(Find(t, "a.bar.example.com", "/") == "<none>");
  CHECK(Find(t, "example.com", "/") == "<none>");
  CHECK_FALSE(t.has_default());
  CHECK(t.SetDefault(To("default")));
  CHECK_FALSE(t.SetDefault(To("later-default")));
  CHECK(Find(t, "other.org", "/") == "default");
  CHECK(Find(t, "a.bar.example.com", "/x") == "default");
}

TEST_CASE("a host whose paths do not match falls through to host-less rules") {
  RouteTable t;
  t.Add("foo.com", "/bar", PathType::kPrefix, To("foo-bar"));
  t.Add("", "/", PathType::kPrefix, To("catch-all"));
  CHECK(Find(t, "foo.com", "/bar") == "foo-bar");
  CHECK(Find(t, "foo.com", "/baz") == "catch-all");
}

TEST_CASE("the first rule for the same host, path and type wins") {
  RouteTable t;
  CHECK(t.Add("h", "/p/", PathType::kPrefix, To("older")));
  CHECK_FALSE(t.Add("h", "/p", PathType::kPrefix, To("newer")));
  CHECK(t.Add("h", "/p", PathType::kExact, To("exact")));
  CHECK(Find(t, "h", "/p/x") == "older");
  CHECK(t.size() == 2);
}

TEST_CASE("round robin cursor advances") {
  Upstream up({"ns", "s", 80, ""}, {{"10.0.0.1", 80}, {"10.0.0.2", 80}});
  size_t a = up.NextIndex(), b = up.NextIndex();
  CHECK(b == a + 1);
  CHECK(up.ref().ToString() == "ns/s:80");
}

TEST_CASE("SelectByHost: exact, then the wildcard of the parent domain") {
  std::map<std::string, std::string, std::less<>> certs{
      {"a.example.com", "a"}, {"*.example.com", "wild"}, {"example.com", "apex"}};
  auto pick = [&](std::string_view h) {
    const std::string* v = SelectByHost(certs, h);
    return v ? *v : "<default>";
  };
  CHECK(pick("a.example.com") == "a");
  CHECK(pick("b.example.com") == "wild");
  CHECK(pick("example.com") == "apex");
  CHECK(pick("x.b.example.com") == "<default>");
  CHECK(pick("other.org") == "<default>");
  CHECK(pick("localhost") == "<default>");
}

}  // namespace
}  // namespace kubepp::proxy::ingress
