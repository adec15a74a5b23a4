#include "kubelet/volumes.h"

#include <openssl/evp.h>

#include <cstdio>

#include "common/util/strings.h"

namespace kubepp::kubelet {

namespace {

constexpr uint32_t kDefaultMode = 0644;

// `mode` / `defaultMode` fields: decimal integers of permission bits (0..0777).
Result<uint32_t> ModeOf(const api::Value& v, std::string_view field, uint32_t fallback) {
  const api::Value* m = api::FindMember(v, field);
  if (m == nullptr || m->IsNull()) return fallback;
  if (!m->IsInt64() || m->GetInt64() < 0 || m->GetInt64() > 0777) {
    return BadRequest(std::string(field) + " must be a file mode between 0 and 0777 (decimal 0-511)");
  }
  return static_cast<uint32_t>(m->GetInt64());
}

// The key -> content of a ConfigMap (data, binaryData) or a Secret (data), decoded.
Result<std::map<std::string, std::string>> DataOf(const api::Value& obj, bool secret) {
  std::map<std::string, std::string> out;
  if (secret) {
    for (auto& [k, v] : api::GetStringMap(obj, "data")) {
      auto d = DecodeBase64(v);
      if (!d.ok()) return BadRequest("secret key " + k + ": " + d.status().message());
      out[k] = std::move(d).value();
    }
    return out;
  }
  out = api::GetStringMap(obj, "data");
  for (auto& [k, v] : api::GetStringMap(obj, "binaryData")) {
    auto d = DecodeBase64(v);
    if (!d.ok()) return BadRequest("configmap binaryData key " + k + ": " + d.status().message());
    out[k] = std::move(d).value();
  }
  return out;
}

// A configMap or secret source (a volume's or a projection's) into `out`.
Status ProjectObject(const api::Value& source, bool secret, const std::string& name,
                     uint32_t default_mode, const ObjectGetter& get, Payload& out) {
  const char* kind = secret ? "secret" : "configmap";
  bool optional = api::GetBool(source, "optional");
  if (name.empty()) return BadRequest(std::string(kind) + " source without a name");
  auto obj = get(secret, name);
  if (!obj.ok()) {
    if (obj.status().code() == Code::kNotFound) {
      if (optional) return Status::Ok();
      return NotFound(std::string(kind) + " \"" + name + "\" not found");
    }
    return obj.status();
  }
  ASSIGN_OR_RETURN(auto data, DataOf(*obj, secret));
  const api::Value* items = api::FindMember(source, "items");
  if (items == nullptr || !items->IsArray() || items->Empty()) {
    for (auto& [k, v] : data) out[k] = FileProjection{v, default_mode};
    return Status::Ok();
  }
  for (auto& item : items->GetArray()) {
    std::string key = api::GetString(item, "key");
    auto it = data.find(key);
    if (it == data.end()) {
      if (optional) continue;
      return NotFound(std::string(kind) + (secret ? " references non-existent secret key: "
                                                  : " references non-existent config key: ") + key);
    }
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(item, "mode", default_mode));
    out[api::GetString(item, "path")] = FileProjection{it->second, mode};
  }
  return Status::Ok();
}

const api::Value* ContainerNamed(const api::Value& pod, const std::string& name) {
  for (const char* list : {"spec.containers", "spec.initContainers"}) {
    const api::Value* cs = api::Find(pod, list);
    if (cs == nullptr || !cs->IsArray()) continue;
    for (auto& c : cs->GetArray()) {
      if (api::GetString(c, "name") == name) return &c;
    }
  }
  return nullptr;
}

// A downwardAPI source (items of fieldRef / resourceFieldRef) into `out`.
Status ProjectDownward(const api::Value& pod, const api::Value& source, uint32_t default_mode,
                       Payload& out) {
  const api::Value* items = api::FindMember(source, "items");
  if (items == nullptr || !items->IsArray()) return Status::Ok();
  for (auto& item : items->GetArray()) {
    std::string path = api::GetString(item, "path");
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(item, "mode", default_mode));
    std::string value;
    if (const api::Value* ref = api::FindMember(item, "fieldRef")) {
      ASSIGN_OR_RETURN(value, DownwardVolumeField(pod, api::GetString(*ref, "fieldPath")));
    } else if (const api::Value* ref = api::FindMember(item, "resourceFieldRef")) {
      std::string cname = api::GetString(*ref, "containerName");
      const api::Value* c = ContainerNamed(pod, cname);
      if (c == nullptr) {
        return BadRequest("downwardAPI item " + path + ": resourceFieldRef names no container of the pod (containerName \"" + cname + "\")");
      }
      ASSIGN_OR_RETURN(value, ResourceFieldValue(*c, *ref));
    } else {
      return BadRequest("downwardAPI item " + path + " has neither fieldRef nor resourceFieldRef");
    }
    out[path] = FileProjection{std::move(value), mode};
  }
  return Status::Ok();
}

// "metadata.labels['app']" -> {"metadata.labels", "app"}; false for a plain path.
bool SplitSubscript(const std::string& path, std::string* base, std::string* key) {
  if (path.size() < 4 || path.compare(path.size() - 2, 2, "']") != 0) return false;
  auto open = path.find("['");
  if (open == std::string::npos || open == 0) return false;
  *base = path.substr(0, open);
  *key = path.substr(open + 2, path.size() - open - 4);
  return true;
}

}  // namespace

Result<std::string> DecodeBase64(const std::string& in) {
  if (in.empty()) return std::string();
  if (in.size() % 4 != 0) return BadRequest("illegal base64 data: length is not a multiple of 4");
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return BadRequest("illegal base64 data");
  size_t pad = 0;
  for (size_t i = in.size(); i > 0 && in[i - 1] == '=' && pad < 2; --i) ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string FormatMap(const std::map<std::string, std::string>& m) {
  std::string out;
  for (auto& [k, v] : m) {  // std::map: sorted keys, as upstream
    if (!out.empty()) out += '\n';
    out += k + "=";
    util::AppendGoQuoted(&out, v);  // as upstream's %q
  }
  return out;
}

Result<std::string> DownwardVolumeField(const api::Value& pod, const std::string& path) {
  if (path == "metadata.name" || path == "metadata.namespace" || path == "metadata.uid") {
    return api::GetString(pod, path);
  }
  if (path == "metadata.labels" || path == "metadata.annotations") {
    return FormatMap(api::GetStringMap(pod, path));
  }
  std::string base, key;
  if (SplitSubscript(path, &base, &key) &&
      (base == "metadata.labels" || base == "metadata.annotations")) {
    auto m = api::GetStringMap(pod, base);
    auto it = m.find(key);
    return it == m.end() ? std::string() : it->second;
  }
  return BadRequest("unsupported fieldPath \"" + path +
                    "\" in a downwardAPI volume (metadata.name, metadata.namespace, metadata.uid, "
                    "metadata.labels, metadata.annotations)");
}

std::string ApiVolumePlugin(const api::Value& volume) {
  if (api::FindMember(volume, "configMap")) return "kubernetes.io~configmap";
  if (api::FindMember(volume, "secret")) return "kubernetes.io~secret";
  if (api::FindMember(volume, "downwardAPI")) return "kubernetes.io~downward-api";
  if (api::FindMember(volume, "projected")) return "kubernetes.io~projected";
  return "";
}

bool HasApiVolumes(const api::Value& pod) {
  const api::Value* vols = api::Find(pod, "spec.volumes");
  if (vols == nullptr || !vols->IsArray()) return false;
  for (auto& v : vols->GetArray()) {
    if (!ApiVolumePlugin(v).empty()) return true;
  }
  return false;
}

Result<Payload> VolumePayload(const api::Value& pod, const api::Value& volume,
                              const ObjectGetter& get, std::vector<std::string>* notes,
                              const TokenGetter& token) {
  Payload out;
  if (const api::Value* src = api::FindMember(volume, "configMap")) {
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(*src, "defaultMode", kDefaultMode));
    RETURN_IF_ERROR(ProjectObject(*src, false, api::GetString(*src, "name"), mode, get, out));
  } else if (const api::Value* src = api::FindMember(volume, "secret")) {
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(*src, "defaultMode", kDefaultMode));
    RETURN_IF_ERROR(ProjectObject(*src, true, api::GetString(*src, "secretName"), mode, get, out));
  } else if (const api::Value* src = api::FindMember(volume, "downwardAPI")) {
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(*src, "defaultMode", kDefaultMode));
    RETURN_IF_ERROR(ProjectDownward(pod, *src, mode, out));
  } else if (const api::Value* src = api::FindMember(volume, "projected")) {
    ASSIGN_OR_RETURN(uint32_t mode, ModeOf(*src, "defaultMode", kDefaultMode));
    const api::Value* sources = api::FindMember(*src, "sources");
    if (sources != nullptr && sources->IsArray()) {
      for (auto& s : sources->GetArray()) {
        // Each source writes its own paths; API validation keeps them apart, and a
        // later source's path replaces an earlier one's here.
        if (const api::Value* cm = api::FindMember(s, "configMap")) {
          RETURN_IF_ERROR(ProjectObject(*cm, false, api::GetString(*cm, "name"), mode, get, out));
        } else if (const api::Value* sec = api::FindMember(s, "secret")) {
          RETURN_IF_ERROR(ProjectObject(*sec, true, api::GetString(*sec, "name"), mode, get, out));
        } else if (const api::Value* dw = api::FindMember(s, "downwardAPI")) {
          RETURN_IF_ERROR(ProjectDownward(pod, *dw, mode, out));
        } else if (const api::Value* tok = api::FindMember(s, "serviceAccountToken")) {
          if (!token) return Status(Code::kUnavailable, "no service account token source");
          ASSIGN_OR_RETURN(std::string t, token(pod, api::GetString(*tok, "audience"),
                                                api::GetInt(*tok, "expirationSeconds", 3600)));
          out[api::GetString(*tok, "path")] = FileProjection{std::move(t), mode};
        } else if (api::FindMember(s, "clusterTrustBundle")) {
          if (notes) notes->push_back("clusterTrustBundle projection skipped: not supported yet");
        } else {
          return BadRequest("projected volume source of an unknown type: " + api::ToJson(s));
        }
      }
    }
  } else {
    return BadRequest("volume " + api::GetString(volume, "name") +
                      " is not a configMap, secret, downwardAPI or projected volume");
  }
  for (auto& [path, f] : out) RETURN_IF_ERROR(ValidatePayloadPath(path));
  return out;
}

bool HasClaimVolumes(const api::Value& pod) {
  const api::Value* vols = api::Find(pod, "spec.volumes");
  if (vols == nullptr || !vols->IsArray()) return false;
  for (auto& v : vols->GetArray()) {
    if (api::FindMember(v, "persistentVolumeClaim") != nullptr) return true;
  }
  return false;
}

Result<api::Document> ResolveClaimVolumes(const api::Value& pod, const ClaimGetter& get) {
  api::Document out = api::Clone(pod);
  auto& a = out.GetAllocator();
  api::Value* vols = api::FindMutable(out, "spec.volumes");
  if (vols == nullptr || !vols->IsArray()) return out;
  std::string ns = api::GetString(pod, "metadata.namespace");
  for (auto& v : vols->GetArray()) {
    const api::Value* src = api::FindMember(v, "persistentVolumeClaim");
    if (src == nullptr) continue;
    std::string claim_name = api::GetString(*src, "claimName");
    std::string prefix = "error processing PVC " + ns + "/" + claim_name + ": ";
    auto claim = get(false, claim_name);
    if (!claim.ok()) {
      return Status(claim.status().code(),
                    prefix + "failed to fetch PVC from API server: " + claim.status().message());
    }
    if (api::Has(*claim, "metadata.deletionTimestamp")) {
      return Unavailable(prefix + "PVC is being deleted");
    }
    if (api::GetString(*claim, "status.phase") != "Bound") {
      return Unavailable(prefix + "PVC is not bound");
    }
    std::string volume_name = api::GetString(*claim, "spec.volumeName");
    if (volume_name.empty()) return Unavailable(prefix + "PVC has empty pvc.Spec.VolumeName");
    auto pv = get(true, volume_name);
    if (!pv.ok()) {
      return Status(pv.status().code(), prefix + "failed to fetch PV " + volume_name +
                                            " from API server: " + pv.status().message());
    }
    std::string path, type;
    if (const api::Value* hp = api::Find(*pv, "spec.hostPath")) {
      path = api::GetString(*hp, "path");
      type = api::GetString(*hp, "type", "DirectoryOrCreate");
    } else if (const api::Value* local = api::Find(*pv, "spec.local")) {
      path = api::GetString(*local, "path");
    } else {
      return BadRequest(prefix + "the source of PersistentVolume " + volume_name +
                        " is not supported by this kubelet (hostPath and local are)");
    }
    if (path.empty()) return BadRequest(prefix + "PersistentVolume " + volume_name + " has no path");
    api::Value host(rapidjson::kObjectType);
    host.AddMember("path", api::Str(path, a), a);
    if (!type.empty()) host.AddMember("type", api::Str(type, a), a);
    v.RemoveMember("persistentVolumeClaim");
    v.AddMember("hostPath", std::move(host), a);
  }
  return out;
}

Status SetUpApiVolumes(const api::Value& pod, const PodPaths& paths, const ObjectGetter& get,
                       std::vector<std::string>* notes, const TokenGetter& token) {
  const api::Value* vols = api::Find(pod, "spec.volumes");
  if (vols == nullptr || !vols->IsArray()) return Status::Ok();
  Status first = Status::Ok();
  for (auto& v : vols->GetArray()) {
    std::string plugin = ApiVolumePlugin(v);
    if (plugin.empty()) continue;
    std::string name = api::GetString(v, "name");
    std::string dir = paths.VolumeDir(plugin, name);
    auto payload = VolumePayload(pod, v, get, notes, token);
    Status st = payload.ok() ? WriteAtomically(dir, *payload).status() : payload.status();
    if (st.ok()) continue;
    Status wrapped(st.code(), "MountVolume.SetUp failed for volume \"" + name + "\" : " + st.message());
    if (!HasAtomicData(dir)) {
      if (first.ok()) first = wrapped;
    } else if (notes) {
      notes->push_back(wrapped.message() + " (the volume keeps its previous content)");
    }
  }
  return first;
}

}  // namespace kubepp::kubelet
