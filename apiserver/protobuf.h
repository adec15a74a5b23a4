// Kubernetes protobuf request bodies, decoded into the JSON object model.
//
// client-go's typed clients (and so kubectl's `create deployment|configmap|secret|
// service|namespace|job|cronjob|ingress|serviceaccount`, `drain`'s evictions) POST
// `Content-Type: application/vnd.kubernetes.protobuf` with no JSON fallback, while they
// accept JSON answers. So the apiserver turns such a body into the JSON object the same
// client would have sent, and everything after that (admission, storage, responses)
// stays JSON.
//
// Wire format: the magic "k8s\0", then a runtime.Unknown {typeMeta{apiVersion=1, kind=2}=1,
// raw=2, contentEncoding=3, contentType=4} whose `raw` is the object's message, decoded
// with a schema of the built-in kinds' messages (field numbers of k8s.io/api v1.33).
//
// Thread safety: stateless (the schema is built once, thread-safely, on first use).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

inline constexpr std::string_view kProtobufContentType = "application/vnd.kubernetes.protobuf";

// Returns the JSON object for a protobuf body: apiVersion and kind from typeMeta, then the
// object's fields under their JSON names, as Go's encoding/json would print the decoded
// object: scalars that are Go values (not pointers) are omitted when zero (omitempty),
// Go pointer scalars are kept when present even if zero (`spec.replicas: 0`), present
// messages are objects (`status: {}`), Time is RFC 3339 ("2026-01-02T03:04:05Z", omitted
// when zero), MicroTime has 6 fraction digits, IntOrString is a number or a string,
// Quantity a string, FieldsV1 its raw JSON, bytes (Secret.data, ConfigMap.binaryData)
// base64. Kinds: v1 Pod Service Endpoints ConfigMap Secret Event ServiceAccount Namespace
// Node PersistentVolumeClaim; apps/v1 Deployment ReplicaSet DaemonSet StatefulSet; batch/v1 Job CronJob;
// networking.k8s.io/v1 Ingress IngressClass; coordination.k8s.io/v1 Lease;
// discovery.k8s.io/v1 EndpointSlice; policy/v1 Eviction; rbac.authorization.k8s.io/v1
// Role RoleBinding ClusterRole ClusterRoleBinding; authentication.k8s.io/v1 TokenRequest
// TokenReview SelfSubjectReview; authorization.k8s.io/v1
// SelfSubjectAccessReview SelfSubjectRulesReview SubjectAccessReview
// LocalSubjectAccessReview.
// Errors: a malformed body (bad magic, truncated data, a field of the wrong wire type,
// FieldsV1 that is not JSON) is BadRequest naming the problem. Nothing is ever dropped:
// another kind, a compressed or non-protobuf `raw`, or a field number our schema does not
// know (named with its message) is UnsupportedMedia, so the client can resend JSON.
Result<api::Document> DecodeProtobufObject(std::string_view body);

// The same schema knows every JSON field the built-in kinds declare. Returns the paths
// ("spec.template.spec.containers[0].imagee") of the members of `obj` that its kind does
// not declare, for `fieldValidation=Strict`; empty for kinds outside the schema.
std::vector<std::string> UnknownFields(std::string_view api_version, std::string_view kind,
                                       const api::Value& obj);

}  // namespace kubepp::apiserver
