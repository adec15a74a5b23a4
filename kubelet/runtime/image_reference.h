// Image references as docker's reference grammar (github.com/distribution/reference):
//   [domain[:port]/]path[:tag][@digest]
// The first '/'-separated component is a domain when it contains '.' or ':', is
// "localhost", or has upper-case letters; otherwise the reference is on docker.io, where a
// single-component path gets "library/". A reference without tag or digest means ":latest".
#pragma once

#include <string>

#include "common/status.h"

namespace kubepp::kubelet {

struct ImageReference {
  std::string domain;  // "docker.io", "127.0.0.1:5000", "localhost:5000"
  std::string path;    // "library/busybox", "test/busybox"
  std::string tag;     // "" with a digest and no tag
  std::string digest;  // "sha256:<64 hex>" or ""

  // "docker.io/library/busybox"
  std::string Repository() const { return domain + "/" + path; }
  // The fully qualified reference: repository + ":tag" and/or "@digest".
  std::string String() const;
  // What the registry API takes after /manifests/: the digest if any, else the tag.
  std::string ManifestRef() const { return digest.empty() ? tag : digest; }
  // Host[:port] the API is served on: docker.io's is registry-1.docker.io.
  std::string RegistryHost() const;
};

// BadRequest (naming the rule broken) for anything the grammar rejects: empty, upper-case
// path, bad tag characters, a malformed or non-sha256/sha512 digest, over 255 characters.
Result<ImageReference> ParseImageReference(const std::string& text);

// The pull policy upstream defaults to when a container has none: Always for ":latest"
// or no tag and no digest, IfNotPresent otherwise.
std::string DefaultPullPolicy(const std::string& image);

}  // namespace kubepp::kubelet
