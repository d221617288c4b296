#include "supervisor/worker_spec.h"

namespace pinpipe::supervisor {

std::string_view RestartPolicyName(RestartPolicy policy) {
  return policy == RestartPolicy::kAlways ? "always" : "on-failure";
}

bool IsWorkerName(std::string_view name) {
  if (name.empty() || name.size() > kMaxWorkerNameBytes) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace pinpipe::supervisor
