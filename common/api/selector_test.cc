#include "common/api/selector.h"

#include <catch2/catch.hpp>

namespace kubepp::api {
namespace {

using Labels = std::map<std::string, std::string>;

LabelSelector MustParse(std::string_view s) {
  auto sel = LabelSelector::Parse(s);
  INFO(s);
  REQUIRE(sel.ok());
  return *sel;
}

bool Selects(std::string_view selector, const Labels& labels) {
  return MustParse(selector).Matches(labels);
}

std::string ParseError(std::string_view s) {
  auto sel = LabelSelector::Parse(s);
  INFO(s);
  REQUIRE(!sel.ok());
  CHECK(sel.status().code() == Code::kBadRequest);
  return sel.status().message();
}

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST_CASE("Label selector equality operators") {
  Labels web{{"app", "web"}, {"tier", "frontend"}};
  CHECK(Selects("app=web", web));
  CHECK(Selects("app==web", web));
  CHECK(Selects("app = web , tier=frontend", web));
  CHECK_FALSE(Selects("app=db", web));
  CHECK_FALSE(Selects("missing=x", web));
  CHECK(Selects("app!=db", web));
  CHECK_FALSE(Selects("app!=web", web));
  CHECK(Selects("missing!=x", web));  // != also matches when the label is absent
  CHECK(Selects("empty=", {{"empty", ""}}));
  CHECK_FALSE(Selects("empty=", web));
  CHECK(Selects("empty=,app", {{"empty", ""}, {"app", "x"}}));
}

TEST_CASE("Label selector set and existence operators") {
  Labels web{{"app", "web"}, {"env", "prod"}};
  CHECK(Selects("env in (prod,staging)", web));
  CHECK(Selects("env in(prod)", web));
  CHECK_FALSE(Selects("env in (dev)", web));
  CHECK_FALSE(Selects("missing in (x)", web));
  CHECK(Selects("env notin (dev,qa)", web));
  CHECK_FALSE(Selects("env notin (prod)", web));
  CHECK(Selects("missing notin (x)", web));
  CHECK(Selects("app", web));
  CHECK_FALSE(Selects("missing", web));
  CHECK(Selects("!missing", web));
  CHECK_FALSE(Selects("!app", web));
  CHECK(Selects("x in ()", {{"x", ""}}));  // "()" is the set holding the empty value
  CHECK(Selects("x in (a,)", {{"x", ""}}));
  CHECK(Selects("in in (in, notin)", {{"in", "notin"}}));  // keywords as key and values
}

TEST_CASE("Label selector numeric comparison") {
  CHECK(Selects("n>5", {{"n", "6"}}));
  CHECK_FALSE(Selects("n>5", {{"n", "5"}}));
  CHECK(Selects("n<5", {{"n", "4"}}));
  CHECK_FALSE(Selects("n<5", {{"n", "x"}}));  // non-integer label never matches
  CHECK_FALSE(Selects("n<5", {}));
  CHECK(Contains(ParseError("n>x"), "integer"));
}

TEST_CASE("Label selector empty and multi-requirement") {
  LabelSelector all = MustParse("");
  CHECK(all.Empty());
  CHECK_FALSE(all.MatchesNothing());
  CHECK(all.Matches({}));
  CHECK(all.Matches({{"a", "b"}}));
  CHECK(MustParse("  ").Empty());
  CHECK(LabelSelector().Empty());

  LabelSelector sel = MustParse("a=b,c!=d,e in (x,y),f notin (z),g,!h");
  CHECK_FALSE(sel.Empty());
  CHECK(sel.Matches({{"a", "b"}, {"e", "x"}, {"g", ""}}));
  CHECK_FALSE(sel.Matches({{"a", "b"}, {"e", "x"}, {"g", ""}, {"h", "1"}}));
  CHECK_FALSE(sel.Matches({{"a", "b"}, {"e", "x"}}));
  CHECK_FALSE(sel.Matches({{"a", "b"}, {"e", "x"}, {"g", ""}, {"f", "z"}}));
}

TEST_CASE("Label selector canonical string") {
  CHECK(MustParse("z=1,!y,a in (c,b,c),m notin (q),k==v,j!=w,n>3,o<4,e").ToString() ==
        "a in (b,c),e,j!=w,k==v,m notin (q),n>3,o<4,!y,z=1");
  CHECK(MustParse("x in ()").ToString() == "x in ()");
  CHECK(MustParse("x=").ToString() == "x=");
  CHECK(MustParse("example.com/app = web").ToString() == "example.com/app=web");
  CHECK(MustParse("").ToString().empty());
}

TEST_CASE("Label selector parse errors") {
  CHECK(Contains(ParseError("a=b,"), "expected: identifier after ','"));
  CHECK(Contains(ParseError(",a"), "found ','"));
  CHECK(Contains(ParseError("a=b c"), "found 'c', expected: ',' or end of string"));
  CHECK(Contains(ParseError("a in b"), "expected: '('"));
  CHECK(Contains(ParseError("a in (b"), "found end of string, expected: ',' or ')'"));
  CHECK(Contains(ParseError("a in (b c)"), "found 'c'"));
  CHECK(Contains(ParseError("a (b)"), "expected: in, notin, =, ==, !=, >, <"));
  CHECK(Contains(ParseError("a=(b)"), "expected: identifier"));
  CHECK(Contains(ParseError("!a=b"), "found '='"));
  CHECK(Contains(ParseError("!"), "expected: identifier"));
  CHECK(Contains(ParseError("a==="), "found '='"));
  CHECK(Contains(ParseError("a b"), "found 'b'"));
  // The message names the selector.
  CHECK(Contains(ParseError("a=b,"), "\"a=b,\""));
}

TEST_CASE("Label selector validates keys and values") {
  CHECK(Contains(ParseError("-a=b"), "name part must consist of alphanumeric"));
  CHECK(Contains(ParseError("a-=b"), "invalid label key \"a-\""));
  CHECK(Contains(ParseError(std::string(64, 'k') + "=v"), "no more than 63 characters"));
  CHECK(Contains(ParseError("a/b/c=d"), "a qualified name"));
  CHECK(Contains(ParseError("/b=d"), "prefix part must be non-empty"));
  CHECK(Contains(ParseError("Example.com/b=d"), "prefix part must be a lowercase RFC 1123"));
  CHECK(Contains(ParseError("ex..com/b=d"), "RFC 1123"));
  CHECK(Contains(ParseError("example.com/=d"), "name part must be non-empty"));
  CHECK(Contains(ParseError("a=b@c"), "invalid label value \"b@c\" for key \"a\""));
  CHECK(Contains(ParseError("a=" + std::string(64, 'v')), "no more than 63 characters"));
  CHECK(Contains(ParseError("a in (ok,-bad)"), "\"-bad\""));
  MustParse("kubernetes.io/hostname=node-1.example_X");
  MustParse(std::string(63, 'k') + "=" + std::string(63, 'v'));
  MustParse(std::string(253 - 4, 'p') + ".com/" + std::string(63, 'n'));

  CHECK(LabelKeyError("app.kubernetes.io/name").empty());
  CHECK(LabelKeyError("A_b.C-9").empty());
  CHECK_FALSE(LabelKeyError("").empty());
  CHECK(LabelValueError("").empty());
  CHECK_FALSE(LabelValueError("a b").empty());
  CHECK_FALSE(LabelValueError("_a").empty());
}

Document Json(std::string_view s) {
  auto d = ParseJson(s);
  REQUIRE(d.ok());
  return std::move(*d);
}

TEST_CASE("LabelSelector::FromJson follows LabelSelectorAsSelector") {
  auto nil = LabelSelector::FromJson(nullptr);
  REQUIRE(nil.ok());
  CHECK(nil->MatchesNothing());
  CHECK_FALSE(nil->Empty());
  CHECK_FALSE(nil->Matches({}));
  CHECK(nil->ToString().empty());

  Document null_doc = Json("null");
  CHECK(LabelSelector::FromJson(&null_doc)->MatchesNothing());

  Document empty = Json("{}");
  auto all = LabelSelector::FromJson(&empty);
  REQUIRE(all.ok());
  CHECK(all->Empty());
  CHECK(all->Matches({{"x", "y"}}));

  Document empty_lists = Json(R"({"matchLabels":{},"matchExpressions":[]})");
  CHECK(LabelSelector::FromJson(&empty_lists)->Empty());

  Document full = Json(R"({"matchLabels":{"app":"web","tier":"fe"},"matchExpressions":[
      {"key":"env","operator":"In","values":["prod","dev"]},
      {"key":"track","operator":"NotIn","values":["canary"]},
      {"key":"owner","operator":"Exists"},
      {"key":"legacy","operator":"DoesNotExist","values":[]}]})");
  auto sel = LabelSelector::FromJson(&full);
  REQUIRE(sel.ok());
  CHECK(sel->ToString() == "app=web,env in (dev,prod),!legacy,owner,tier=fe,track notin (canary)");
  Labels good{{"app", "web"}, {"tier", "fe"}, {"env", "dev"}, {"owner", "me"}};
  CHECK(sel->Matches(good));
  Labels canary = good;
  canary["track"] = "canary";
  CHECK_FALSE(sel->Matches(canary));
  Labels legacy = good;
  legacy["legacy"] = "";
  CHECK_FALSE(sel->Matches(legacy));
  Labels wrong_env = good;
  wrong_env["env"] = "qa";
  CHECK_FALSE(sel->Matches(wrong_env));
}

TEST_CASE("LabelSelector::FromJson errors") {
  auto error_of = [](std::string_view json) {
    Document d = Json(json);
    auto sel = LabelSelector::FromJson(&d);
    INFO(json);
    REQUIRE(!sel.ok());
    CHECK(sel.status().code() == Code::kBadRequest);
    return sel.status().message();
  };
  CHECK(Contains(error_of(R"("app=web")"), "must be an object"));
  CHECK(Contains(error_of(R"({"matchLabels":{"a":1}})"), "matchLabels.a must be a string"));
  CHECK(Contains(error_of(R"({"matchLabels":{"a b":"c"}})"), "invalid label key"));
  CHECK(Contains(error_of(R"({"matchLabels":{"a":"c d"}})"), "invalid label value"));
  CHECK(Contains(error_of(R"({"matchExpressions":[{"key":"a","operator":"Gt","values":["1"]}]})"),
                 "\"Gt\" is not a valid label selector operator"));
  CHECK(Contains(error_of(R"({"matchExpressions":[{"key":"a","operator":"In","values":[]}]})"),
                 "values set can't be empty"));
  CHECK(Contains(error_of(R"({"matchExpressions":[{"key":"a","operator":"In"}]})"),
                 "values set can't be empty"));
  CHECK(Contains(
      error_of(R"({"matchExpressions":[{"key":"a","operator":"Exists","values":["x"]}]})"),
      "values set must be empty"));
  CHECK(Contains(error_of(R"({"matchExpressions":[{"operator":"Exists"}]})"),
                 "key must be a string"));
  CHECK(Contains(error_of(R"({"matchExpressions":{}})"), "must be an array"));
  CHECK(Contains(error_of(R"({"matchExpressions":[{"key":"a","operator":"In","values":[1]}]})"),
                 "values must be strings"));
}

FieldSelector MustParseFields(std::string_view s) {
  auto sel = FieldSelector::Parse(s);
  INFO(s);
  REQUIRE(sel.ok());
  return *sel;
}

TEST_CASE("Field selector parsing") {
  FieldSelector sel = MustParseFields("spec.nodeName!=n1,metadata.name=x,status.phase==Running");
  REQUIRE(sel.requirements().size() == 3);
  // Sorted by raw term, as upstream.
  CHECK(sel.requirements()[0].field == "metadata.name");
  CHECK(sel.requirements()[0].value == "x");
  CHECK_FALSE(sel.requirements()[0].negate);
  CHECK(sel.requirements()[1].field == "spec.nodeName");
  CHECK(sel.requirements()[1].value == "n1");
  CHECK(sel.requirements()[1].negate);
  CHECK(sel.requirements()[2].field == "status.phase");
  CHECK(sel.requirements()[2].value == "Running");
  CHECK_FALSE(sel.requirements()[2].negate);

  CHECK(MustParseFields("").Empty());
  CHECK(MustParseFields(",").Empty());
  CHECK(MustParseFields("a=b,").requirements().size() == 1);
  CHECK(MustParseFields("spec.nodeName=").requirements()[0].value.empty());
  CHECK(MustParseFields("a=!b").requirements()[0].value == "!b");
}

TEST_CASE("Field selector escapes") {
  FieldSelector sel = MustParseFields(R"(metadata.name=a\,b\=c\\d,x=y)");
  REQUIRE(sel.requirements().size() == 2);
  CHECK(sel.requirements()[0].value == R"(a,b=c\d)");
  CHECK(sel.requirements()[1].value == "y");

  auto error_of = [](std::string_view s) {
    auto sel = FieldSelector::Parse(s);
    INFO(s);
    REQUIRE(!sel.ok());
    CHECK(sel.status().code() == Code::kBadRequest);
    return sel.status().message();
  };
  CHECK(Contains(error_of("a=b=c"), "unescaped character in value: ="));
  CHECK(Contains(error_of(R"(a=b\n)"), R"(invalid escape sequence: \n)"));
  CHECK(Contains(error_of(R"(a=b\)"), R"(invalid escape sequence: \)"));
  CHECK(Contains(error_of("metadata.name"), "can't understand 'metadata.name'"));
  CHECK(Contains(error_of("a=b,c"), "can't understand 'c'"));
}

TEST_CASE("Field selector matching") {
  std::map<std::string, std::string> fields{{"metadata.name", "web-1"}, {"spec.nodeName", "n1"}};
  auto lookup = [&](std::string_view f) {
    auto it = fields.find(std::string(f));
    return it == fields.end() ? std::string() : it->second;
  };
  CHECK(MustParseFields("").Matches(lookup));
  CHECK(MustParseFields("metadata.name=web-1").Matches(lookup));
  CHECK(MustParseFields("metadata.name==web-1,spec.nodeName!=n2").Matches(lookup));
  CHECK_FALSE(MustParseFields("metadata.name=web-2").Matches(lookup));
  CHECK_FALSE(MustParseFields("spec.nodeName!=n1").Matches(lookup));
  CHECK(MustParseFields("spec.nodeName=n1,metadata.name!=x").Matches(lookup));
  // An absent field reads as "": unscheduled pods are "spec.nodeName=".
  CHECK(MustParseFields("status.podIP=").Matches(lookup));
  CHECK_FALSE(MustParseFields("status.podIP!=").Matches(lookup));
}

}  // namespace
}  // namespace kubepp::api
