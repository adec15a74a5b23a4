// A content-addressed OCI image store under <root-dir>/images:
//   layers/<sha256 of the layer blob>/   the layer unpacked (overlayfs whiteouts)
//   images/<sha256 of the config>.json  {id, repoTags, repoDigests, layers, formerLayers,
//                                        config, size, storedAt, lastUsed}
// Images come in as tarballs in either standard format, `docker save` (manifest.json)
// or an OCI image layout (oci-layout + index.json + blobs/); layers may be plain, gzip or
// zstd tars. A layer shared by several images is unpacked once. OCI whiteouts become
// what overlayfs understands: `.wh.x` a 0/0 character device `x`, `.wh..wh..opq` the
// trusted.overlay.opaque xattr on its directory.
//
// Removing an image removes its record, then those of its layers no other image
// references (nor an AddImage in progress). An image added again with other layer blobs
// (the same content from a registry, compressed, after a `docker save` import) keeps its
// former layers as `formerLayers`: containers created before still stack them, and they
// go when the image does. A crash between a record's removal and its layers' leaves
// those layers behind (never removed by a sweep: only a record says a layer is unused).
//
// Thread safety: all methods are safe from any thread (one mutex; imports of one
// layer by two threads end with the same directory).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "kubelet/runtime/runtime.h"

namespace kubepp::kubelet {

// What the image says about how to run it (the OCI image config's `config`).
struct ImageConfig {
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;  // "K=V"
  std::string working_dir;
  std::string user;
};

struct Image {
  std::string id;  // "sha256:<config digest>"
  std::vector<std::string> repo_tags;  // normalized: docker.io/library/busybox:1.36
  // Pulled images: "<repository>@sha256:<manifest digest>", one per repository.
  std::vector<std::string> repo_digests;
  std::vector<std::string> layer_dirs;  // bottom layer first
  // Layer keys (hex digests) of earlier additions of this image, not in layer_dirs.
  std::vector<std::string> former_layers;
  ImageConfig config;
  int64_t size_bytes = 0;
  int64_t stored_at = 0;     // unix micros it was first added (record mtime for old records)
  int64_t last_used_at = 0;  // unix micros of the last MarkUsed; 0 = never
};

// The image's summary as the runtime reports it.
ImageInfo InfoOf(const Image& image);

// Docker's reference normalization (image_reference.h): "busybox" ->
// "docker.io/library/busybox:latest", "reg:5000/x/y:1" unchanged, "x@sha256:..." keeps its
// digest. An id ("sha256:...") and a name the grammar rejects are returned unchanged.
std::string NormalizeImageName(const std::string& name);

// Extracts a layer tarball (any compression) into `dest`, applying whiteouts.
Status UnpackLayer(const std::string& tarball, const std::string& dest);

class ImageStore {
 public:
  static Result<std::unique_ptr<ImageStore>> Open(const std::string& root);

  // Imports every image of a tarball. BadRequest for a tarball of neither format.
  Result<std::vector<ImageInfo>> Import(const std::string& tarball);
  // By name (normalized), repo digest ("repo@sha256:...") or id ("sha256:..." or its
  // unique hex prefix). NotFound.
  Result<Image> Resolve(const std::string& name) const;
  std::vector<ImageInfo> List() const;

  // Records that a container was just created from image `id` (last_used_at = `when`,
  // unix micros), in memory and in its record. NotFound for an unknown id.
  Status MarkUsed(const std::string& id, int64_t when);

  struct Removed {
    bool found = false;      // false: no such image (nothing done)
    int layers = 0;          // layer directories removed
    int64_t disk_bytes = 0;  // what they took on disk
  };
  // Removes image `id` ("sha256:...") and the layers no other image uses. The caller
  // makes sure no container still runs from it (its layers are the containers' lowerdirs).
  Result<Removed> Remove(const std::string& id);

  // One layer of an image being added: its blob digest ("sha256:<hex>"; "" = compute it
  // from `path`), the blob file, which may be "" when HasLayer(digest), and the blob's
  // size (-1: that of the file).
  struct LayerSource {
    std::string digest;
    std::string path;
    int64_t size = -1;
  };
  // Whether the layer blob with this digest is unpacked in the store already.
  bool HasLayer(const std::string& digest) const;
  // Registers one image from its config file and layers (unpacking those not present),
  // giving it `tags` (moved away from other images, as `docker load`) and `repo_digests`
  // (replacing the image's earlier digest for the same repository).
  Result<ImageInfo> AddImage(const std::string& config_path, const std::vector<LayerSource>& layers,
                             std::vector<std::string> tags, std::vector<std::string> repo_digests = {});
  // A directory on the store's file system for downloads in progress.
  std::string TempDir() const { return root_ + "/tmp"; }

 private:
  explicit ImageStore(std::string root) : root_(std::move(root)) {}
  Status Load();

  std::string root_;
  mutable std::mutex mu_;
  std::map<std::string, Image> images_;  // by id
  // Layer keys (hex digests) AddImage calls are working with: never removed meanwhile.
  std::multiset<std::string> pending_layers_;
};

}  // namespace kubepp::kubelet
