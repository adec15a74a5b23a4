// Label and field selectors with the semantics of k8s.io/apimachinery/pkg/labels and
// pkg/fields: `?labelSelector=`, `?fieldSelector=`, and the metav1.LabelSelector objects
// in workload specs (Deployment.spec.selector, ...).
//
// Thread safety: immutable values once built; const methods may be called concurrently.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::api {

// Label syntax checks (upstream validation.IsQualifiedName / IsValidLabelValue).
// Return "" when valid, else the reason. A key is an optional DNS-1123 subdomain prefix
// (<= 253 chars) and '/', then a name of 1..63 chars of [A-Za-z0-9-_.] starting and
// ending alphanumeric. A value is empty or such a name.
std::string LabelKeyError(std::string_view key);
std::string LabelValueError(std::string_view value);

class LabelSelector {
 public:
  LabelSelector() = default;  // matches everything

  // Parses the string form, e.g. "a=b,c!=d,e in (x,y),f notin (z),g,!h,n>5". Operators:
  // = == != in notin, bare key (exists), !key (does not exist), > < (integer values).
  // "x=" and "x in ()" require the empty value. Keys and values are validated; any error
  // is BadRequest. "" matches everything.
  static Result<LabelSelector> Parse(std::string_view s);
  // From a metav1.LabelSelector object {matchLabels:{k:v}, matchExpressions:[{key,
  // operator: In|NotIn|Exists|DoesNotExist, values:[...]}]}, as upstream
  // LabelSelectorAsSelector: nullptr or JSON null matches nothing, {} matches
  // everything. Malformed or invalid content is BadRequest.
  static Result<LabelSelector> FromJson(const Value* selector);

  bool Matches(const std::map<std::string, std::string>& labels) const;
  // The selector from a nil metav1.LabelSelector.
  bool MatchesNothing() const { return nothing_; }
  // True when it places no restriction (matches everything); false for MatchesNothing.
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  // Canonical form as upstream Selector.String(): requirements ordered by key, values
  // sorted, e.g. "app=web,tier in (a,b),!canary". "" for Empty() and MatchesNothing()
  // alike. Used for scale status.selector.
  std::string ToString() const;

 private:
  enum class Op { kIn, kNotIn, kEquals, kDoubleEquals, kNotEquals, kExists, kDoesNotExist,
                  kGreaterThan, kLessThan };
  struct Requirement {
    std::string key;
    Op op;
    std::vector<std::string> values;  // sorted
  };
  class Parser;

  // Validates as upstream NewRequirement.
  static Result<Requirement> MakeRequirement(std::string key, Op op,
                                             std::vector<std::string> values);
  static bool RequirementMatches(const Requirement& r,
                                 const std::map<std::string, std::string>& labels);
  void SortRequirements();

  std::vector<Requirement> requirements_;  // all must match; ordered by key
  bool nothing_ = false;
};

// Field selectors: "metadata.name=x,spec.nodeName!=y" with = / == (equal) and !=.
// In values, '\' escapes '\', ',' and '='; an unescaped '=' or any other escape is an
// error. Field names are not checked here (which fields a resource supports is the
// caller's business).
class FieldSelector {
 public:
  struct Requirement {
    std::string field;
    std::string value;  // unescaped
    bool negate;        // true for !=
  };

  // "" (and empty terms, as in "a=b,") select everything. Errors are BadRequest.
  static Result<FieldSelector> Parse(std::string_view s);

  // In upstream order (sorted by the raw term text).
  const std::vector<Requirement>& requirements() const { return requirements_; }
  // `field_value` returns the object's value for a field name, "" when absent.
  bool Matches(const std::function<std::string(std::string_view field)>& field_value) const;
  bool Empty() const { return requirements_.empty(); }

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace kubepp::api
