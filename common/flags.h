// Command-line flags in upstream's style: `--name=value` or `--name value`; booleans as
// `--name`, `--name=true|false`. `--help` prints every flag with its default and help.
//
//   FlagSet flags("apiserver", "Serves the Kubernetes API.");
//   flags.String("data-dir", &opts.data_dir, "where the database lives");
//   if (auto st = flags.Parse(argc, argv); !st.ok()) ...
// Thread safety: single-threaded use during startup.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace kubepp {

class FlagSet {
 public:
  FlagSet(std::string program, std::string description);

  // Each registration keeps the pointer; the current value is the default.
  void String(const std::string& name, std::string* value, const std::string& help);
  void Int(const std::string& name, int64_t* value, const std::string& help);
  void Int(const std::string& name, int* value, const std::string& help);
  void Bool(const std::string& name, bool* value, const std::string& help);
  void Double(const std::string& name, double* value, const std::string& help);
  // A Go-style duration ("1h", "30s", "1m30s"; util::ParseDuration), shown as Go prints it.
  void Duration(const std::string& name, std::chrono::milliseconds* value, const std::string& help);

  // Parses argv. Unknown flags and bad values are BadRequest naming the flag.
  // `--help` sets help_requested() and returns OK. Non-flag words go to args().
  Status Parse(int argc, char** argv);
  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& args() const { return args_; }
  std::string Usage() const;
  const std::string& program() const { return program_; }

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_value;
    bool is_bool = false;
    std::function<Status(const std::string&)> set;
  };
  void Add(Flag f);

  std::string program_;
  std::string description_;
  std::vector<Flag> flags_;
  std::vector<std::string> args_;
  bool help_requested_ = false;
};

}  // namespace kubepp
