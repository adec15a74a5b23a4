#include "common/flags.h"

#include <charconv>
#include <cstdlib>

#include "common/log.h"
#include "common/util/time.h"

namespace kubepp {
namespace {

template <typename T>
Status ParseNumber(const std::string& name, const std::string& s, T* out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec != std::errc() || p != s.data() + s.size()) {
    return BadRequest("invalid value \"" + s + "\" for flag --" + name + ": not a number");
  }
  return Status::Ok();
}

}  // namespace

FlagSet::FlagSet(std::string program, std::string description)
    : program_(std::move(program)), description_(std::move(description)) {
  int* v = new int(0);  // lives as long as the process: flags are parsed once at startup
  Int("v", v, "log verbosity");
  flags_.back().set = [v](const std::string& s) {
    RETURN_IF_ERROR(ParseNumber("v", s, v));
    log::SetVerbosity(*v);
    return Status::Ok();
  };
}

void FlagSet::Add(Flag f) { flags_.push_back(std::move(f)); }

void FlagSet::String(const std::string& name, std::string* value, const std::string& help) {
  Add({name, help, *value, false, [value](const std::string& s) {
         *value = s;
         return Status::Ok();
       }});
}

void FlagSet::Int(const std::string& name, int64_t* value, const std::string& help) {
  Add({name, help, std::to_string(*value), false,
       [name, value](const std::string& s) { return ParseNumber(name, s, value); }});
}

void FlagSet::Int(const std::string& name, int* value, const std::string& help) {
  Add({name, help, std::to_string(*value), false,
       [name, value](const std::string& s) { return ParseNumber(name, s, value); }});
}

void FlagSet::Double(const std::string& name, double* value, const std::string& help) {
  Add({name, help, std::to_string(*value), false, [name, value](const std::string& s) {
         char* end = nullptr;
         double d = std::strtod(s.c_str(), &end);
         if (s.empty() || *end != '\0') {
           return BadRequest("invalid value \"" + s + "\" for flag --" + name);
         }
         *value = d;
         return Status::Ok();
       }});
}

void FlagSet::Duration(const std::string& name, std::chrono::milliseconds* value,
                       const std::string& help) {
  Add({name, help, util::FormatDuration(*value), false, [name, value](const std::string& s) {
         auto d = util::ParseDuration(s);
         if (!d.ok()) {
           return BadRequest("invalid value \"" + s + "\" for flag --" + name + ": " +
                             d.status().message());
         }
         *value = *d;
         return Status::Ok();
       }});
}

void FlagSet::Bool(const std::string& name, bool* value, const std::string& help) {
  Add({name, help, *value ? "true" : "false", true, [name, value](const std::string& s) {
         if (s == "true" || s == "1" || s.empty()) {
           *value = true;
         } else if (s == "false" || s == "0") {
           *value = false;
         } else {
           return BadRequest("invalid value \"" + s + "\" for flag --" + name +
                             ": want true or false");
         }
         return Status::Ok();
       }});
}

Status FlagSet::Parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      help_requested_ = true;
      continue;
    }
    if (a.rfind("-", 0) != 0 || a == "-" ) {
      args_.push_back(a);
      continue;
    }
    std::string body = a.substr(a.rfind("--", 0) == 0 ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (auto eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    Flag* flag = nullptr;
    for (auto& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) return BadRequest("unknown flag: --" + name + " (see --help)");
    if (!has_value && !flag->is_bool) {
      if (i + 1 >= argc) return BadRequest("flag needs an argument: --" + name);
      value = argv[++i];
    }
    RETURN_IF_ERROR(flag->set(value));
  }
  return Status::Ok();
}

std::string FlagSet::Usage() const {
  std::string out = program_ + ": " + description_ + "\n\nFlags:\n";
  for (const auto& f : flags_) {
    out += "  --" + f.name + (f.is_bool ? "" : " value") + "\n      " + f.help +
           " (default \"" + f.default_value + "\")\n";
  }
  return out;
}

}  // namespace kubepp
