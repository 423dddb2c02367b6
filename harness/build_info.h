#ifndef LEAKLAB_HARNESS_BUILD_INFO_H_
#define LEAKLAB_HARNESS_BUILD_INFO_H_

namespace leaklab::harness {

// The source revision this binary was built from ("unknown" outside git),
// regenerated at every build by cmake/gen_build_info.cmake.
const char* GitRevision();

}  // namespace leaklab::harness

#endif  // LEAKLAB_HARNESS_BUILD_INFO_H_
