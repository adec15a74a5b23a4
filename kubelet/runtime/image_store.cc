#include "kubelet/runtime/image_store.h"

#include <archive.h>
#include <archive_entry.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/api/json.h"
#include "common/log.h"
#include "common/util/file.h"
#include "common/util/random.h"
#include "common/util/time.h"
#include "kubelet/runtime/image_reference.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueWhiteout = ".wh..wh..opq";


Result<std::string> Sha256File(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound("cannot read " + path);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  char buf[1 << 16];
  while (f) {
    f.read(buf, sizeof(buf));
    if (f.gcount() > 0) EVP_DigestUpdate(ctx, buf, static_cast<size_t>(f.gcount()));
  }
  unsigned char md[32];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < len; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

// A tar member path made safe to join under a directory: no leading "/", no "..".
Result<std::string> CleanPath(std::string p) {
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  while (!p.empty() && p[0] == '/') p = p.substr(1);
  if (!p.empty() && p.back() == '/') p.pop_back();
  std::stringstream ss(p);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part == "..") return BadRequest("tar member escapes its root: " + p);
  }
  return p;
}

std::string ArchiveError(archive* a, const std::string& what) {
  const char* e = archive_error_string(a);
  return what + ": " + (e ? e : "unknown libarchive error");
}

// Extracts `tarball` under `dest`. With `whiteouts`, OCI whiteout members are turned into
// overlayfs ones instead of being written as files.
Status Extract(const std::string& tarball, const std::string& dest, bool whiteouts) {
  archive* in = archive_read_new();
  archive_read_support_format_tar(in);
  archive_read_support_format_gnutar(in);
  archive_read_support_filter_all(in);
  archive* out = archive_write_disk_new();
  archive_write_disk_set_options(out, ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_OWNER |
                                          ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                                          ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                                          ARCHIVE_EXTRACT_UNLINK);
  auto done = [&](Status st) {
    archive_read_free(in);
    archive_write_free(out);
    return st;
  };
  if (archive_read_open_filename(in, tarball.c_str(), 1 << 16) != ARCHIVE_OK) {
    return done(BadRequest(ArchiveError(in, "opening " + tarball)));
  }
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(in, &entry);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN) return done(BadRequest(ArchiveError(in, "reading " + tarball)));
    auto rel = CleanPath(archive_entry_pathname(entry));
    if (!rel.ok()) return done(rel.status());
    if (rel->empty()) continue;
    fs::path target = fs::path(dest) / *rel;
    std::string base = target.filename().string();
    if (whiteouts && base.rfind(kWhiteoutPrefix, 0) == 0) {
      fs::create_directories(target.parent_path());
      if (base == kOpaqueWhiteout) {
        if (setxattr(target.parent_path().c_str(), "trusted.overlay.opaque", "y", 1, 0) != 0) {
          return done(Internal("marking " + target.parent_path().string() + " opaque: " + std::strerror(errno)));
        }
      } else {
        fs::path hidden = target.parent_path() / base.substr(std::strlen(kWhiteoutPrefix));
        std::error_code ec;
        fs::remove_all(hidden, ec);
        if (mknod(hidden.c_str(), S_IFCHR | 0000, makedev(0, 0)) != 0) {
          return done(Internal("whiteout " + hidden.string() + ": " + std::strerror(errno)));
        }
      }
      continue;
    }
    archive_entry_set_pathname(entry, target.c_str());
    if (const char* link = archive_entry_hardlink(entry)) {
      auto lrel = CleanPath(link);
      if (!lrel.ok()) return done(lrel.status());
      archive_entry_set_hardlink(entry, (fs::path(dest) / *lrel).c_str());
    }
    r = archive_write_header(out, entry);
    if (r < ARCHIVE_WARN) return done(Internal(ArchiveError(out, "writing " + target.string())));
    if (archive_entry_size(entry) > 0) {
      const void* buf;
      size_t size;
      la_int64_t offset;
      while ((r = archive_read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK) {
        if (archive_write_data_block(out, buf, size, offset) < ARCHIVE_WARN) {
          return done(Internal(ArchiveError(out, "writing " + target.string())));
        }
      }
      if (r != ARCHIVE_EOF) return done(BadRequest(ArchiveError(in, "reading " + tarball)));
    }
    if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
      return done(Internal(ArchiveError(out, "finishing " + target.string())));
    }
  }
  return done(Status::Ok());
}

std::vector<std::string> StringArray(const api::Value* v) {
  std::vector<std::string> out;
  if (v != nullptr && v->IsArray()) {
    for (auto& s : v->GetArray()) out.emplace_back(api::View(s));
  }
  return out;
}

std::string BlobPath(const std::string& dir, const std::string& digest) {
  auto colon = digest.find(':');
  return dir + "/blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

}  // namespace

std::string NormalizeImageName(const std::string& name) {
  if (name.rfind("sha256:", 0) == 0) return name;
  auto ref = ParseImageReference(name);
  return ref.ok() ? ref->String() : name;
}

ImageInfo InfoOf(const Image& image) {
  ImageInfo info{image.id, image.repo_tags, image.size_bytes, image.repo_digests};
  info.stored_at = image.stored_at;
  info.last_used_at = image.last_used_at;
  return info;
}

Status UnpackLayer(const std::string& tarball, const std::string& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  if (ec) return Internal("creating " + dest + ": " + ec.message());
  return Extract(tarball, dest, true);
}

Result<std::unique_ptr<ImageStore>> ImageStore::Open(const std::string& root) {
  std::error_code ec;
  for (const char* d : {"/layers", "/images", "/tmp"}) fs::create_directories(root + d, ec);
  if (ec) return Internal("creating image store " + root + ": " + ec.message());
  std::unique_ptr<ImageStore> store(new ImageStore(root));
  RETURN_IF_ERROR(store->Load());
  return store;
}

Status ImageStore::Load() {
  std::lock_guard lock(mu_);
  std::error_code ec;
  for (auto& e : fs::directory_iterator(root_ + "/tmp", ec)) {
    // Layers a removal had moved out of the way when the process ended.
    if (e.path().filename().string().rfind("removing-", 0) == 0) fs::remove_all(e.path(), ec);
  }
  for (auto& e : fs::directory_iterator(root_ + "/images")) {
    if (e.path().extension() != ".json") continue;
    ASSIGN_OR_RETURN(auto text, util::ReadFile(e.path().string()));
    auto doc = api::ParseJson(text);
    if (!doc.ok()) {
      LOG(WARNING) << "skipping corrupt image record " << e.path() << ": " << doc.status().message();
      continue;
    }
    Image img;
    img.id = api::GetString(*doc, "id");
    img.repo_tags = StringArray(api::Find(*doc, "repoTags"));
    img.repo_digests = StringArray(api::Find(*doc, "repoDigests"));
    for (auto& l : StringArray(api::Find(*doc, "layers"))) img.layer_dirs.push_back(root_ + "/layers/" + l);
    img.former_layers = StringArray(api::Find(*doc, "formerLayers"));
    img.config.entrypoint = StringArray(api::Find(*doc, "config.Entrypoint"));
    img.config.cmd = StringArray(api::Find(*doc, "config.Cmd"));
    img.config.env = StringArray(api::Find(*doc, "config.Env"));
    img.config.working_dir = api::GetString(*doc, "config.WorkingDir");
    img.config.user = api::GetString(*doc, "config.User");
    img.size_bytes = api::GetInt(*doc, "size");
    img.stored_at = api::GetInt(*doc, "storedAt");
    if (img.stored_at == 0) {  // a record from before storedAt: its file's age
      struct stat st{};
      if (stat(e.path().c_str(), &st) == 0) {
        img.stored_at = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000 + st.st_mtim.tv_nsec / 1000;
      }
    }
    img.last_used_at = api::GetInt(*doc, "lastUsed");
    images_[img.id] = std::move(img);
  }
  return Status::Ok();
}

bool ImageStore::HasLayer(const std::string& digest) const {
  if (digest.rfind("sha256:", 0) != 0) return false;
  std::error_code ec;
  return fs::is_directory(root_ + "/layers/" + digest.substr(7), ec);
}

namespace {

// "repo@sha256:x" -> "repo".
std::string RepoOf(const std::string& repo_digest) { return repo_digest.substr(0, repo_digest.find('@')); }

void PutStrings(api::Document& doc, const char* key, const std::vector<std::string>& values) {
  auto& a = doc.GetAllocator();
  api::Value v(rapidjson::kArrayType);
  for (auto& s : values) v.PushBack(api::Str(s, a), a);
  if (doc.HasMember(key)) {
    doc[key] = v;
  } else {
    doc.AddMember(api::Str(key, a), v, a);
  }
}

}  // namespace

Result<ImageInfo> ImageStore::AddImage(const std::string& config_path, const std::vector<LayerSource>& layers,
                                       std::vector<std::string> tags, std::vector<std::string> repo_digests) {
  ASSIGN_OR_RETURN(std::string config_text, util::ReadFile(config_path));
  ASSIGN_OR_RETURN(auto config, api::ParseJson(config_text));
  ASSIGN_OR_RETURN(std::string config_digest, Sha256File(config_path));
  std::vector<std::string> layer_keys;
  // The layers stay pending (safe from Remove) until the record naming them is in place.
  struct Pending {
    ImageStore* store;
    std::vector<std::string> keys;
    void Add(const std::string& k) {
      std::lock_guard lock(store->mu_);
      store->pending_layers_.insert(k);
      keys.push_back(k);
    }
    ~Pending() {
      std::lock_guard lock(store->mu_);
      for (auto& k : keys) store->pending_layers_.erase(store->pending_layers_.find(k));
    }
  } pending{this, {}};
  int64_t size = 0;
  for (auto& layer : layers) {
    std::string key;
    if (layer.digest.rfind("sha256:", 0) == 0) {
      key = layer.digest.substr(7);
    } else {
      ASSIGN_OR_RETURN(key, Sha256File(layer.path));
    }
    pending.Add(key);
    std::error_code ec;
    if (layer.size >= 0) {
      size += layer.size;
    } else if (!layer.path.empty()) {
      size += static_cast<int64_t>(fs::file_size(layer.path, ec));
    }
    std::string final_dir = root_ + "/layers/" + key;
    if (!fs::exists(final_dir)) {
      if (layer.path.empty()) return NotFound("layer sha256:" + key + " is neither in the store nor given");
      std::string tmp = root_ + "/tmp/layer-" + key + "-" + util::RandomSuffix(6);
      Status st = UnpackLayer(layer.path, tmp);
      if (!st.ok()) {
        fs::remove_all(tmp, ec);
        return st;
      }
      fs::rename(tmp, final_dir, ec);
      if (ec) fs::remove_all(tmp, ec);  // another import won the race: same content
    }
    layer_keys.push_back(key);
  }
  for (auto& t : tags) t = NormalizeImageName(t);

  api::Document rec(rapidjson::kObjectType);
  auto& a = rec.GetAllocator();
  std::string id = "sha256:" + config_digest;
  rec.AddMember("id", api::Str(id, a), a);
  std::lock_guard lock(mu_);
  // A tag moves to the new image, as `docker load` does.
  for (auto& [other_id, other] : images_) {
    if (other_id == id) continue;
    std::erase_if(other.repo_tags, [&](auto& t) { return std::find(tags.begin(), tags.end(), t) != tags.end(); });
  }
  auto existing = images_.find(id);
  int64_t stored_at = util::NowUnixMicros();
  int64_t last_used_at = 0;
  std::vector<std::string> former_layers;
  if (existing != images_.end()) {
    stored_at = existing->second.stored_at;
    last_used_at = existing->second.last_used_at;
    // Layers it had and has no more: containers made from it before may still use them.
    former_layers = existing->second.former_layers;
    for (auto& d : existing->second.layer_dirs) former_layers.push_back(fs::path(d).filename().string());
    std::erase_if(former_layers, [&](auto& k) { return std::find(layer_keys.begin(), layer_keys.end(), k) != layer_keys.end(); });
    std::sort(former_layers.begin(), former_layers.end());
    former_layers.erase(std::unique(former_layers.begin(), former_layers.end()), former_layers.end());
    for (auto& t : existing->second.repo_tags) {
      if (std::find(tags.begin(), tags.end(), t) == tags.end()) tags.push_back(t);
    }
    for (auto& d : existing->second.repo_digests) {
      bool replaced = std::any_of(repo_digests.begin(), repo_digests.end(),
                                  [&](auto& n) { return RepoOf(n) == RepoOf(d); });
      if (!replaced) repo_digests.push_back(d);
    }
  }
  PutStrings(rec, "repoTags", tags);
  PutStrings(rec, "repoDigests", repo_digests);
  PutStrings(rec, "layers", layer_keys);
  if (!former_layers.empty()) PutStrings(rec, "formerLayers", former_layers);
  api::Value cfg(rapidjson::kObjectType);
  if (const api::Value* c = api::Find(config, "config"); c && c->IsObject()) cfg.CopyFrom(*c, a);
  rec.AddMember("config", cfg, a);
  rec.AddMember("size", size, a);
  rec.AddMember("storedAt", stored_at, a);
  rec.AddMember("lastUsed", last_used_at, a);
  RETURN_IF_ERROR(util::WriteFileAtomic(root_ + "/images/" + config_digest + ".json", api::ToJson(rec)));

  Image img;
  img.id = id;
  img.repo_tags = tags;
  img.repo_digests = repo_digests;
  for (auto& k : layer_keys) img.layer_dirs.push_back(root_ + "/layers/" + k);
  img.former_layers = former_layers;
  img.config.entrypoint = StringArray(api::Find(rec, "config.Entrypoint"));
  img.config.cmd = StringArray(api::Find(rec, "config.Cmd"));
  img.config.env = StringArray(api::Find(rec, "config.Env"));
  img.config.working_dir = api::GetString(rec, "config.WorkingDir");
  img.config.user = api::GetString(rec, "config.User");
  img.size_bytes = size;
  img.stored_at = stored_at;
  img.last_used_at = last_used_at;
  images_[id] = img;
  // Rewrite records whose tags moved away.
  for (auto& [other_id, other] : images_) {
    if (other_id == id) continue;
    std::string p = root_ + "/images/" + other_id.substr(7) + ".json";
    auto text = util::ReadFile(p);
    if (!text.ok()) continue;
    auto doc = api::ParseJson(*text);
    if (!doc.ok() || !doc->IsObject()) continue;
    if (StringArray(api::Find(*doc, "repoTags")) == other.repo_tags) continue;
    PutStrings(*doc, "repoTags", other.repo_tags);
    (void)util::WriteFileAtomic(p, api::ToJson(*doc));
  }
  return InfoOf(img);
}

Result<std::vector<ImageInfo>> ImageStore::Import(const std::string& tarball) {
  std::string dir = root_ + "/tmp/import-" + util::RandomSuffix(8);
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } cleanup{dir};
  RETURN_IF_ERROR(Extract(tarball, dir, false));
  std::vector<ImageInfo> out;
  if (fs::exists(dir + "/manifest.json")) {  // docker save
    ASSIGN_OR_RETURN(auto text, util::ReadFile(dir + "/manifest.json"));
    ASSIGN_OR_RETURN(auto manifest, api::ParseJson(text));
    if (!manifest.IsArray()) return BadRequest(tarball + ": manifest.json is not a list");
    for (auto& m : manifest.GetArray()) {
      ASSIGN_OR_RETURN(auto config, CleanPath(api::GetString(m, "Config")));
      std::vector<LayerSource> layers;
      for (auto& l : StringArray(api::FindMember(m, "Layers"))) {
        ASSIGN_OR_RETURN(auto clean, CleanPath(l));
        layers.push_back({"", dir + "/" + clean});
      }
      ASSIGN_OR_RETURN(auto info, AddImage(dir + "/" + config, layers,
                                           StringArray(api::FindMember(m, "RepoTags"))));
      out.push_back(std::move(info));
    }
    return out;
  }
  if (fs::exists(dir + "/index.json") && fs::exists(dir + "/oci-layout")) {
    ASSIGN_OR_RETURN(auto text, util::ReadFile(dir + "/index.json"));
    ASSIGN_OR_RETURN(auto index, api::ParseJson(text));
    const api::Value* manifests = api::Find(index, "manifests");
    if (manifests == nullptr || !manifests->IsArray()) return BadRequest(tarball + ": index.json has no manifests");
    for (auto& desc : manifests->GetArray()) {
      ASSIGN_OR_RETURN(auto mtext, util::ReadFile(BlobPath(dir, api::GetString(desc, "digest"))));
      ASSIGN_OR_RETURN(auto m, api::ParseJson(mtext));
      if (api::Has(m, "manifests")) {
        return BadRequest(tarball + ": multi-platform image indexes are not supported yet");
      }
      std::vector<LayerSource> layers;
      if (const api::Value* ls = api::Find(m, "layers"); ls && ls->IsArray()) {
        for (auto& l : ls->GetArray()) layers.push_back({"", BlobPath(dir, api::GetString(l, "digest"))});
      }
      std::vector<std::string> tags;
      auto ann = api::GetStringMap(desc, "annotations");
      if (auto it = ann.find("io.containerd.image.name"); it != ann.end()) {
        tags.push_back(it->second);
      } else if (auto it2 = ann.find("org.opencontainers.image.ref.name"); it2 != ann.end()) {
        tags.push_back(it2->second);
      }
      ASSIGN_OR_RETURN(auto info, AddImage(BlobPath(dir, api::GetString(m, "config.digest")), layers, tags));
      out.push_back(std::move(info));
    }
    return out;
  }
  return BadRequest(tarball + ": neither a docker-save (manifest.json) nor an OCI layout (index.json) tarball");
}

Result<Image> ImageStore::Resolve(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::string want = NormalizeImageName(name);
  // "repo:tag@digest" is pinned by its digest.
  if (auto ref = ParseImageReference(name); ref.ok() && !ref->digest.empty()) {
    want = ref->Repository() + "@" + ref->digest;
  }
  for (auto& [id, img] : images_) {
    if (id == want) return img;
    for (auto& t : img.repo_tags) {
      if (t == want) return img;
    }
    for (auto& d : img.repo_digests) {
      if (d == want) return img;
    }
  }
  if (name.size() >= 12 && name.find_first_not_of("0123456789abcdef") == std::string::npos) {
    for (auto& [id, img] : images_) {
      if (id.compare(7, name.size(), name) == 0) return img;
    }
  }
  return NotFound("image \"" + name + "\" not present in the node's image store");
}

std::vector<ImageInfo> ImageStore::List() const {
  std::lock_guard lock(mu_);
  std::vector<ImageInfo> out;
  for (auto& [id, img] : images_) out.push_back(InfoOf(img));
  return out;
}

namespace {

std::string RecordPath(const std::string& root, const std::string& id) {
  return root + "/images/" + id.substr(std::string("sha256:").size()) + ".json";
}

// Bytes a directory tree takes on disk (allocated blocks, hard links counted once).
int64_t DiskUsage(const std::string& dir) {
  int64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> seen;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    struct stat st{};
    if (lstat(it->path().c_str(), &st) != 0) continue;
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !seen.insert({st.st_dev, st.st_ino}).second) continue;
    total += static_cast<int64_t>(st.st_blocks) * 512;
  }
  return total;
}

}  // namespace

Status ImageStore::MarkUsed(const std::string& id, int64_t when) {
  std::lock_guard lock(mu_);
  auto it = images_.find(id);
  if (it == images_.end()) return NotFound("no image " + id + " in the node's image store");
  it->second.last_used_at = when;
  std::string p = RecordPath(root_, id);
  ASSIGN_OR_RETURN(auto text, util::ReadFile(p));
  ASSIGN_OR_RETURN(auto doc, api::ParseJson(text));
  if (!doc.IsObject()) return Internal("image record " + p + " is not an object");
  if (doc.HasMember("lastUsed")) {
    doc["lastUsed"].SetInt64(when);
  } else {
    doc.AddMember("lastUsed", when, doc.GetAllocator());
  }
  return util::WriteFileAtomic(p, api::ToJson(doc));
}

Result<ImageStore::Removed> ImageStore::Remove(const std::string& id) {
  Removed out;
  std::vector<std::string> doomed;  // layer directories
  {
    std::lock_guard lock(mu_);
    auto it = images_.find(id);
    if (it == images_.end() || id.rfind("sha256:", 0) != 0) return out;
    std::error_code ec;
    fs::remove(RecordPath(root_, id), ec);
    if (ec) return Internal("removing the record of image " + id + ": " + ec.message());
    std::set<std::string> candidates(it->second.former_layers.begin(), it->second.former_layers.end());
    for (auto& d : it->second.layer_dirs) candidates.insert(fs::path(d).filename().string());
    images_.erase(it);
    out.found = true;
    std::set<std::string> referenced(pending_layers_.begin(), pending_layers_.end());
    for (auto& [other_id, other] : images_) {
      for (auto& d : other.layer_dirs) referenced.insert(fs::path(d).filename().string());
      referenced.insert(other.former_layers.begin(), other.former_layers.end());
    }
    for (auto& key : candidates) {
      if (referenced.count(key)) continue;
      // Out of layers/ while still under the lock: a concurrent AddImage of this layer
      // then unpacks it again instead of finding a half-removed directory.
      std::string tmp = root_ + "/tmp/removing-" + key + "-" + util::RandomSuffix(6);
      std::error_code rec;
      fs::rename(root_ + "/layers/" + key, tmp, rec);
      if (!rec) doomed.push_back(tmp);
    }
  }
  for (auto& d : doomed) {
    out.disk_bytes += DiskUsage(d);
    std::error_code ec;
    fs::remove_all(d, ec);
    if (ec) return Internal("removing layer " + d + ": " + ec.message());
    ++out.layers;
  }
  return out;
}

}  // namespace kubepp::kubelet
