// Defaulting and validation of the objects the apiserver stores, with upstream's
// semantics and messages (k8s.io/kubernetes/pkg/apis/*/v1/defaults.go,
// pkg/apis/*/validation, the registry strategies, and the DefaultTolerationSeconds,
// Priority and ServiceAccount admission plugins' defaulting).
//
// On create the apiserver calls ApplyDefaults, ValidateCreate, then (once metadata.uid is
// assigned) PrepareForCreate; on update ApplyDefaults, then ValidateUpdate.
// The object must already carry apiVersion/kind and, for namespaced resources,
// metadata.namespace taken from the URL (upstream fills it the same way before
// validating, and reports "metadata.namespace: Required value" when it is missing).
// ValidateUpdate takes a service clusterIP/clusterIPs the client omits to be the old ones,
// as upstream's registry does; keeping them in the stored object is the allocator's job.
//
// Bad values in messages are printed as Go's `%#v` would print them for the common
// cases (strings, numbers, label maps, label selectors, int-or-string); other composite
// values are printed as JSON. Quantities are echoed as written (upstream prints their
// canonical form).
//
// Thread safety: stateless; all functions may be called concurrently.
#pragma once

#include <string_view>

#include "apiserver/resources.h"
#include "common/api/json.h"
#include "common/status.h"

namespace kubepp::apiserver {

// Fills upstream's defaults in place for an object of resource `info`. Only fields that
// are absent (or null) are filled; it is therefore safe on create and on update.
// Objects of resources without defaults, and values of unexpected JSON types, are left
// alone (validation reports the latter).
void ApplyDefaults(const ResourceInfo& info, api::Document& obj);

// What upstream's strategies do once on create, after validation and after the server
// has set metadata.uid: resets status (pods get {phase: Pending, qosClass}, namespaces
// {phase: Active}; nodes keep theirs), adds the "kubernetes" finalizer to namespaces, and
// generates a Job's selector and template labels from its uid unless manualSelector;
// PersistentVolumes and PersistentVolumeClaims start Pending with the
// kubernetes.io/pv-protection or pvc-protection finalizer (StorageObjectInUseProtection).
void PrepareForCreate(const ResourceInfo& info, api::Document& obj);

// Validates a new object (metadata + spec). Returns OK or an Invalid Status:
//   Deployment.apps "x" is invalid: [metadata.name: Invalid value: "A_b": ..., spec...]
// (a single cause is not bracketed; identical messages are reported once), with every
// cause in details().causes and details name/group/kind set.
Status ValidateCreate(const ResourceInfo& info, const api::Value& obj);

// Everything ValidateCreate checks, plus the fields upstream keeps immutable against
// `old_obj`: metadata name/namespace/uid; workload selectors; Job template, completions
// and completionMode; StatefulSet spec except replicas/template/updateStrategy/
// persistentVolumeClaimRetentionPolicy/minReadySeconds/ordinals; pod spec except images,
// activeDeadlineSeconds (decrease only) and tolerations (additions only); service
// clusterIP(s) unless either side is ExternalName; ConfigMap/Secret data when immutable;
// Secret type; EndpointSlice addressType.
Status ValidateUpdate(const ResourceInfo& info, const api::Value& new_obj,
                      const api::Value& old_obj);

// Name syntax, also used by the router for names in URLs.
// <= 253 chars of dot-separated RFC 1123 labels: [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.<same>)*
bool IsDns1123Subdomain(std::string_view s);
// <= 63 chars of [a-z0-9]([-a-z0-9]*[a-z0-9])?
bool IsDns1123Label(std::string_view s);


}  // namespace kubepp::apiserver
