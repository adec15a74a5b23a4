// A temporary directory for tests. Header-only: include it from test sources only.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace kubepp::testing {

// A fresh, uniquely named directory under the system temp dir (mkdtemp), removed
// recursively when the object goes away. Tests running in parallel never share one.
class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "kubepp-test") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      throw std::runtime_error("mkdtemp " + tmpl + " failed");
    }
    path_ = std::move(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + rel: where a test puts a file or subdirectory (nothing is created).
  std::string Join(std::string_view rel) const { return path_ + "/" + std::string(rel); }

 private:
  std::string path_;
};

}  // namespace kubepp::testing
