#ifndef LEAKLAB_REPORT_FUNCTION_NAME_H_
#define LEAKLAB_REPORT_FUNCTION_NAME_H_

// Function names from profiles, made readable from the back of a room.

#include <string>
#include <string_view>

namespace leaklab::report {

// A C++ frame as a person names it: no return type, parameters, template
// arguments, ABI tags or clone suffixes, no "(anonymous namespace)", and at
// most the last three scopes:
//   "leaklab::scenarios::(anonymous namespace)::RequestTracker::Track() [clone .cold]"
//   -> "scenarios::RequestTracker::Track"
// Operators keep their symbol ("std::operator<<"). Frames that are not C++
// (Go's "main.(*store).add (main.go:25)") are returned as they are.
std::string ShortFunctionName(std::string_view frame);

// True for frames of the C++ standard library, Boost, the C library or Go's
// runtime: they say how, not who, and their template names fill lines.
bool IsLibraryFrame(std::string_view frame);

}  // namespace leaklab::report

#endif  // LEAKLAB_REPORT_FUNCTION_NAME_H_
