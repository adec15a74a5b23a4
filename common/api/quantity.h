// Kubernetes resource quantities ("100m", "0.5", "128Mi", "1G", "1e3"), as in
// k8s.io/apimachinery/pkg/api/resource, for components that compare requests with
// capacity (scheduler, kubelet). The apiserver's admission has the same parser
// (apiserver/admission.h ParseQuantity); this is the shared home for it.
// Thread safety: stateless.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::api {

// The value in base units (cores, bytes). Anything not matching upstream's syntax
// ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$ with a known suffix is BadRequest, and so
// is an exponent beyond what a double holds ("1e400").
Result<double> ParseQuantity(std::string_view s);

// Upstream Quantity.MilliValue() (rounded up): cpu "100m" -> 100, "1" -> 1000.
// Both saturate at the int64 range (and give 0 for NaN).
int64_t MilliValue(double quantity);
// Upstream Quantity.Value() (rounded up): memory "1Ki" -> 1024.
int64_t WholeValue(double quantity);

// A quantity in a JSON object (string, or a number as some clients send): its
// MilliValue / WholeValue, or 0 when absent or malformed (admission rejects those).
int64_t MilliValueOf(const Value& v);
int64_t WholeValueOf(const Value& v);

}  // namespace kubepp::api
