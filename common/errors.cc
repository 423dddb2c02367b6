#include "common/errors.h"

namespace leaklab {

int ExitStatusFor(const std::exception& e) {
  if (dynamic_cast<const UsageError*>(&e) != nullptr) return kExitUsage;
  if (dynamic_cast<const InputError*>(&e) != nullptr) return kExitUsage;
  return kExitFailed;
}

}  // namespace leaklab
