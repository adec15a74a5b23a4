// The per-container shim (containerd-shim's job, kept tiny): `kubelet shim ...` is
// started by RuncRuntime::StartContainer, detaches into its own session, becomes the
// child subreaper, runs `runc create` + `runc start` with the container's stdout/stderr
// on its log file, reports "ok" or the error on fd 3, then waits for the container's
// init process and records its exit (code, time, OOM kill) in <bundle>/exit.json. It
// outlives kubelet restarts, so exit codes are never lost.
//
// Files in the bundle: started (start time, unix micros), exit.json, init.pid, runc.log.
#pragma once

namespace kubepp::kubelet {

// argv: shim --runc BIN --root DIR --bundle DIR --id ID --log FILE [--memory-cgroup DIR]
int ShimMain(int argc, char** argv);

}  // namespace kubepp::kubelet
