// Atomic projection of a set of files into a directory, as upstream's AtomicWriter
// (pkg/volume/util/atomic_writer.go) does for configMap, secret, downwardAPI and
// projected volumes:
//
//   <dir>/..2026_11_27_14_15_00.123456/key     the files, in a timestamped directory
//   <dir>/..data -> ..2026_11_27_14_15_00.123456
//   <dir>/key -> ..data/key                    what a container sees (top-level names)
//
// An update writes a new timestamped directory, then swaps `..data` by renaming a new
// symlink over it, so a reader sees the whole old or the whole new set, never a mix.
// Names starting with ".." are reserved to the writer.
//
// Thread safety: stateless functions; callers serialize writes to one directory.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace kubepp::kubelet {

struct FileProjection {
  std::string data;
  uint32_t mode = 0644;
  bool operator==(const FileProjection&) const = default;
};
// Relative path (may contain '/') -> file.
using Payload = std::map<std::string, FileProjection>;

// Upstream's validatePath: not empty, relative, at most 4096 characters, no ".."
// element, names of at most 255 characters, not starting with "..". BadRequest otherwise.
Status ValidatePayloadPath(const std::string& path);

// Makes `target_dir` (created if missing) hold exactly `payload`, atomically as above.
// Nothing is written when the current content and modes already match. Returns whether
// it changed anything. An invalid path is BadRequest and changes nothing.
Result<bool> WriteAtomically(const std::string& target_dir, const Payload& payload);

// Whether `target_dir` was written at least once (its `..data` link exists).
bool HasAtomicData(const std::string& target_dir);

}  // namespace kubepp::kubelet
