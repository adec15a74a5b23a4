#include "kubelet/server.h"

#include <catch2/catch.hpp>

namespace kubepp::kubelet {
namespace {

TEST_CASE("container logs: tailLines and limitBytes") {
  std::string log = "a\nb\nc\n";
  CHECK(TailLines(log, -1, 0) == log);
  CHECK(TailLines(log, 2, 0) == "b\nc\n");
  CHECK(TailLines(log, 1, 0) == "c\n");
  CHECK(TailLines(log, 0, 0) == "");
  CHECK(TailLines(log, 10, 0) == log);
  CHECK(TailLines("x\ny", 1, 0) == "y");
  CHECK(TailLines("", 3, 0) == "");
  CHECK(TailLines(log, -1, 3) == "a\nb");
}

}  // namespace
}  // namespace kubepp::kubelet
