// Whole-file reads and crash-safe writes.
// Thread safety: stateless; concurrent writers of one path each leave a whole file.
#pragma once

#include <string>
#include <sys/types.h>

#include "common/status.h"

namespace kubepp::util {

// The whole file; NotFound when it does not exist, Internal when it cannot be read.
Result<std::string> ReadFile(const std::string& path);
// Writes `content` to a temporary sibling created with `mode` and renames it over
// `path`, so readers see the old or the new file, never a partial one, and a secret
// is never readable by others even for a moment. Creates missing parent directories.
Status WriteFileAtomic(const std::string& path, const std::string& content, mode_t mode = 0644);

}  // namespace kubepp::util
