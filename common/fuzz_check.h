#ifndef LEAKLAB_COMMON_FUZZ_CHECK_H_
#define LEAKLAB_COMMON_FUZZ_CHECK_H_

// For the libFuzzer targets (*_fuzz.cc): a property every accepted input must
// have. An abort is what libFuzzer reports as a finding, with the input that
// caused it, in release builds as in debug ones (unlike assert).

#include <cstdlib>

namespace leaklab {

inline void FuzzCheck(bool ok) {
  if (!ok) std::abort();
}

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_FUZZ_CHECK_H_
