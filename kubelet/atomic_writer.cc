#include "kubelet/atomic_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <set>
#include <vector>

#include "common/util/file.h"

namespace kubepp::kubelet {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDataDir = "..data";
constexpr const char* kNewDataDir = "..data_tmp";

std::vector<std::string> Split(const std::string& path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

// filepath.Clean for a validated relative path: no empty or "." elements.
std::string Clean(const std::string& path) {
  std::string out;
  for (auto& e : Split(path)) {
    if (e.empty() || e == ".") continue;
    if (!out.empty()) out += '/';
    out += e;
  }
  return out;
}

Status Errno(const std::string& what, const std::string& path) {
  return Internal(what + " " + path + ": " + std::strerror(errno));
}

// Writes `f` at `path` (new file) with exactly f.mode, whatever the umask.
Status WriteNew(const std::string& path, const FileProjection& f) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("creating", path);
  size_t off = 0;
  while (off < f.data.size()) {
    ssize_t n = ::write(fd, f.data.data() + off, f.data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = Errno("writing", path);
      ::close(fd);
      return st;
    }
    off += static_cast<size_t>(n);
  }
  if (::fchmod(fd, f.mode & 07777) != 0) {
    Status st = Errno("chmod", path);
    ::close(fd);
    return st;
  }
  if (::close(fd) != 0) return Errno("closing", path);
  return Status::Ok();
}

// Whether `path` holds exactly `f` (content and permission bits).
bool Matches(const std::string& path, const FileProjection& f) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if ((st.st_mode & 07777) != (f.mode & 07777)) return false;
  auto content = util::ReadFile(path);
  return content.ok() && *content == f.data;
}

// "..2026_11_27_14_15_00." + random suffix, as upstream's timestamped directories.
Result<std::string> NewTimestampDir(const std::string& target_dir) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[64];
  std::strftime(stamp, sizeof(stamp), "..%Y_%m_%d_%H_%M_%S.", &tm);
  std::string tmpl = target_dir + "/" + stamp + "XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return Errno("creating a directory in", target_dir);
  // 0755 so that any user of the container can walk into it, whatever the umask.
  if (::chmod(tmpl.c_str(), 0755) != 0) return Errno("chmod", tmpl);
  return tmpl;
}

}  // namespace

Status ValidatePayloadPath(const std::string& path) {
  if (path.empty()) return BadRequest("invalid path: must not be empty");
  if (path[0] == '/') return BadRequest("invalid path: must be relative path: " + path);
  if (path.size() > 4096) return BadRequest("invalid path: must be less than or equal to 4096 characters");
  auto items = Split(path);
  for (auto& item : items) {
    if (item == "..") return BadRequest("invalid path: must not contain '..': " + path);
    if (item.size() > 255) {
      return BadRequest("invalid path: filenames must be less than or equal to 255 characters");
    }
  }
  if (items[0].size() > 2 && items[0].rfind("..", 0) == 0) {
    return BadRequest("invalid path: must not start with '..': " + path);
  }
  return Status::Ok();
}

bool HasAtomicData(const std::string& target_dir) {
  struct stat st;
  return ::lstat((target_dir + "/" + kDataDir).c_str(), &st) == 0;
}

Result<bool> WriteAtomically(const std::string& target_dir, const Payload& payload) {
  // (1) Validate and clean every path before touching anything.
  Payload clean;
  for (auto& [path, f] : payload) {
    RETURN_IF_ERROR(ValidatePayloadPath(path));
    std::string c = Clean(path);
    if (c.empty()) return BadRequest("invalid path: " + path);
    clean[c] = f;
  }
  std::error_code ec;
  fs::create_directories(target_dir, ec);
  if (ec) return Internal("creating " + target_dir + ": " + ec.message());

  // (2) The current timestamped directory, if any.
  const std::string data_link = target_dir + "/" + kDataDir;
  std::string old_ts;
  {
    char buf[4096];
    ssize_t n = ::readlink(data_link.c_str(), buf, sizeof(buf) - 1);
    if (n > 0) old_ts.assign(buf, static_cast<size_t>(n));
  }

  // Every path of the new payload, with its parent directories.
  std::set<std::string> new_paths;
  for (auto& [path, f] : clean) {
    for (std::string p = path; !p.empty();) {
      new_paths.insert(p);
      auto slash = p.rfind('/');
      p = slash == std::string::npos ? "" : p.substr(0, slash);
    }
  }
  // (3, 4) What the old version has that the new one lacks; whether anything differs.
  std::set<std::string> to_remove;
  if (!old_ts.empty()) {
    const std::string old_dir = target_dir + "/" + old_ts;
    bool differs = false;
    if (fs::is_directory(old_dir, ec)) {
      for (auto it = fs::recursive_directory_iterator(old_dir, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        std::string rel = fs::relative(it->path(), old_dir, ec).string();
        if (!new_paths.count(rel)) to_remove.insert(rel);
      }
      for (auto& [path, f] : clean) {
        if (!Matches(old_dir + "/" + path, f)) {
          differs = true;
          break;
        }
      }
    } else {
      differs = true;  // a dangling ..data: rewrite
    }
    if (!differs && to_remove.empty()) return false;
  }

  // (5, 6) The new timestamped directory with the payload.
  ASSIGN_OR_RETURN(std::string ts_dir, NewTimestampDir(target_dir));
  const std::string ts_name = fs::path(ts_dir).filename().string();
  auto fail = [&](Status st) -> Result<bool> {
    fs::remove_all(ts_dir, ec);
    return st;
  };
  for (auto& [path, f] : clean) {
    std::string full = ts_dir + "/" + path;
    std::string parent = fs::path(full).parent_path().string();
    if (parent != ts_dir) {
      fs::create_directories(parent, ec);
      if (ec) return fail(Internal("creating " + parent + ": " + ec.message()));
      // Directories as 0755 whatever the umask, as the timestamped one.
      for (fs::path p = parent; p.string().size() > ts_dir.size(); p = p.parent_path()) {
        fs::permissions(p, fs::perms(0755), ec);
      }
    }
    if (Status st = WriteNew(full, f); !st.ok()) return fail(st);
  }

  // (7) The user-visible names: top-level symlinks through ..data.
  for (auto& [path, f] : clean) {
    std::string top = path.substr(0, path.find('/'));
    std::string visible = target_dir + "/" + top;
    struct stat st;
    if (::lstat(visible.c_str(), &st) != 0 && errno == ENOENT) {
      if (::symlink((std::string(kDataDir) + "/" + top).c_str(), visible.c_str()) != 0) {
        return fail(Errno("creating symlink", visible));
      }
    }
  }

  // (8, 9) Swap ..data to the new directory by renaming a new symlink over it.
  const std::string new_link = target_dir + "/" + kNewDataDir;
  ::unlink(new_link.c_str());  // left over by an interrupted write
  if (::symlink(ts_name.c_str(), new_link.c_str()) != 0) return fail(Errno("creating symlink", new_link));
  if (::rename(new_link.c_str(), data_link.c_str()) != 0) {
    Status st = Errno("renaming", new_link);
    ::unlink(new_link.c_str());
    return fail(st);
  }

  // (10) Top-level names the payload no longer has.
  for (auto& p : to_remove) {
    if (p.find('/') == std::string::npos) ::unlink((target_dir + "/" + p).c_str());
  }
  // (11) The previous timestamped directory, and any an interrupted write left behind.
  std::vector<fs::path> stale;
  for (auto& e : fs::directory_iterator(target_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() > 2 && name.rfind("..", 0) == 0 && name != ts_name && name != kDataDir &&
        !e.is_symlink(ec) && e.is_directory(ec)) {
      stale.push_back(e.path());
    }
  }
  for (auto& p : stale) fs::remove_all(p, ec);
  return true;
}

}  // namespace kubepp::kubelet
