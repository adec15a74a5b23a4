// A content-addressed OCI image store under <root-dir>/images:
//   layers/<sha256 of the layer blob>/   the layer unpacked (overlayfs whiteouts)
//   images/<sha256 of the config>.json  {id, repoTags, repoDigests, layers, config, size}
// Images come in as tarballs in either standard format, `docker save` (manifest.json)
// or an OCI image layout (oci-layout + index.json + blobs/); layers may be plain, gzip or
// zstd tars. A layer shared by several images is unpacked once. OCI whiteouts become
// what overlayfs understands: `.wh.x` a 0/0 character device `x`, `.wh..wh..opq` the
// trusted.overlay.opaque xattr on its directory.
//
// Thread safety: all methods are safe from any thread (one mutex; imports of one
// layer by two threads end with the same directory).
#pragma once

#include <map>
#include <memory>
#include <mutex>
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
  ImageConfig config;
  int64_t size_bytes = 0;
};

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
};

}  // namespace kubepp::kubelet
