// Volumes the kubelet fills from the API (upstream pkg/volume/configmap, secret,
// downwardapi, projected): their file set is computed from the pod and the ConfigMaps and
// Secrets it names, then written with WriteAtomically into
// <root-dir>/pods/<uid>/volumes/<plugin>/<volume>, which containers bind-mount read-only.
// Re-running SetUpApiVolumes on every pod sync is what carries later changes of those
// objects (and of the pod's labels and annotations) into running containers.
//
// Semantics as upstream: all keys of the object, or only `items` (key -> path, per-item
// `mode`); `defaultMode` (default 0644); secret `data` and configMap `binaryData`
// base64-decoded; a missing object or key is an error unless `optional`; downwardAPI
// `fieldRef` (metadata.name, namespace, uid, labels, annotations and single
// labels['k'] / annotations['k']) and `resourceFieldRef`.
//
// Thread safety: stateless functions; SetUpApiVolumes must not run twice at once for one
// pod (the pod workers never sync one pod on two threads).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/api/json.h"
#include "common/status.h"
#include "kubelet/atomic_writer.h"
#include "kubelet/container_config.h"

namespace kubepp::kubelet {

// Reads ConfigMap (`secret` false) or Secret `name` of the pod's namespace; NotFound
// when it does not exist.
using ObjectGetter = std::function<Result<api::Document>(bool secret, const std::string& name)>;

// A service account token for `pod` (its namespace and spec.serviceAccountName), bound
// to the pod, for `audience` ("": the apiserver's) and `expiration_seconds`.
using TokenGetter = std::function<Result<std::string>(const api::Value& pod, const std::string& audience,
                                                      int64_t expiration_seconds)>;

// The volume plugin directory of a configMap, secret, downwardAPI or projected volume
// ("kubernetes.io~configmap", ...); "" for any other volume.
std::string ApiVolumePlugin(const api::Value& volume);

// The files of `volume` (an element of the pod's spec.volumes with one of the four
// sources). Errors say what is missing or wrong, upstream's way (`configmap "x" not
// found`, `configmap references non-existent config key: k`). A serviceAccountToken
// source becomes the file `path` (mode defaultMode) holding what `token` answers
// (expirationSeconds default 3600); without a `token` getter it is an error. Sources the
// kubelet cannot project yet (clusterTrustBundle) are skipped with a note in `*notes`.
Result<Payload> VolumePayload(const api::Value& pod, const api::Value& volume,
                              const ObjectGetter& get, std::vector<std::string>* notes,
                              const TokenGetter& token = nullptr);

// Writes every API-object volume of `pod` under `paths`. A volume that cannot be set up
// and was never written fails the call (its containers cannot start yet): the first such
// error is returned as `MountVolume.SetUp failed for volume "v" : <why>`. A volume
// written before that fails to refresh keeps its content, with a note in `*notes`.
Status SetUpApiVolumes(const api::Value& pod, const PodPaths& paths, const ObjectGetter& get,
                       std::vector<std::string>* notes, const TokenGetter& token = nullptr);

// Whether the pod has any volume SetUpApiVolumes writes.
bool HasApiVolumes(const api::Value& pod);

// Reads PersistentVolumeClaim `name` of the pod's namespace (`volume` false) or
// PersistentVolume `name` (`volume` true); NotFound when it does not exist.
using ClaimGetter = std::function<Result<api::Document>(bool volume, const std::string& name)>;

// Whether the pod has a persistentVolumeClaim volume.
bool HasClaimVolumes(const api::Value& pod);

// The pod with each persistentVolumeClaim volume replaced by the source of the
// PersistentVolume its claim is bound to, so that the rest of the kubelet mounts it as
// any hostPath: a hostPath volume keeps its path (type DirectoryOrCreate unless the
// volume sets one: all of kubepp's nodes share this machine, so the directory may be
// made on first use), a `local` volume becomes a hostPath of its path. The volume's
// other fields (name) stay. Until that can be done the pod waits: a missing claim,
// one not yet Bound or being deleted, or a volume of another kind is an error whose
// message is upstream's volume manager's:
//   error processing PVC <ns>/<claim>: PVC is not bound
// (failed to fetch PVC from API server: ..., PVC is being deleted, PVC has empty
// pvc.Spec.VolumeName, failed to fetch PV <pv> from API server: ...; for another
// volume source BadRequest "... is not supported by this kubelet").
Result<api::Document> ResolveClaimVolumes(const api::Value& pod, const ClaimGetter& get);

// The downwardAPI volume content of a fieldPath: labels and annotations as upstream's
// sorted `key="value"` lines (Go %q quoting, no final newline).
Result<std::string> DownwardVolumeField(const api::Value& pod, const std::string& path);
std::string FormatMap(const std::map<std::string, std::string>& m);

// Standard base64 (padded), as the API encodes Secret data and ConfigMap binaryData.
Result<std::string> DecodeBase64(const std::string& in);

}  // namespace kubepp::kubelet
