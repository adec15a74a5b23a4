#include "kubelet/clock.h"

#include "common/util/time.h"

namespace kubepp::kubelet {

Clock SystemClock() { return [] { return util::NowUnixMicros(); }; }

}  // namespace kubepp::kubelet
