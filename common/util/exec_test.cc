#include "common/util/exec.h"

#include <catch2/catch.hpp>

namespace kubepp::util {

TEST_CASE("RunCommand feeds stdin and collects stdout, stderr and the exit code") {
  auto r = RunCommand({"sh", "-c", "cat; echo oops >&2; exit 3"}, "hello");
  REQUIRE(r.ok());
  CHECK(r->out == "hello");
  CHECK(r->err == "oops\n");
  CHECK(r->exit_code == 3);
}

TEST_CASE("RunCommand reports a missing program and a timeout") {
  CHECK(RunCommand({"/nonexistent/kubepp-helper"}).status().code() == Code::kUnavailable);
  auto r = RunCommand({"sleep", "10"}, "", std::chrono::milliseconds(50));
  CHECK(r.status().code() == Code::kTimeout);
}

}  // namespace kubepp::util
