#include "analyzers/pprof/frame.h"

#include <string_view>

#include "common/function_name.h"

namespace leaklab::pprof {

std::string Frame::ShortString() const {
  std::string out = QualifiedFunctionName(function);
  if (!file.empty()) {
    const size_t slash = file.rfind('/');
    out += " (" + (slash == std::string::npos ? file : file.substr(slash + 1)) +
           (line > 0 ? ":" + std::to_string(line) : "") + ")";
  }
  return out;
}

bool Frame::IsLibrary() const { return IsCppLibraryFunction(function); }

bool Frame::IsProfiler() const {
  // Go: the profile writers. leaklab: the server's profile builder and the
  // encoder (scenarios/runtime/profiles.cc, analyzers/pprof/encode.cc).
  static constexpr std::string_view kGoPrefixes[] = {"runtime/pprof.", "net/http/pprof."};
  static constexpr std::string_view kLeaklab[] = {
      "leaklab::runtime::BuildHeapProfile", "leaklab::runtime::BuildWorkerProfile",
      "leaklab::runtime::EncodedHeapProfile", "leaklab::runtime::EncodedWorkerProfile",
      "leaklab::pprof::EncodeProfile"};
  for (std::string_view prefix : kGoPrefixes) {
    if (function.starts_with(prefix)) return true;
  }
  for (std::string_view name : kLeaklab) {
    if (function.find(name) != std::string::npos) return true;
  }
  return false;
}

std::string Frame::ToString() const {
  if (file.empty()) return function;
  return function + " (" + file + (line > 0 ? ":" + std::to_string(line) : "") + ")";
}

}  // namespace leaklab::pprof
