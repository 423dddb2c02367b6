#ifndef LEAKLAB_COMMON_FUNCTION_NAME_H_
#define LEAKLAB_COMMON_FUNCTION_NAME_H_

// Function names from profiles, made readable: one reading of a demangled
// C++ name, used by the analyzers' sentences and by the report alike.

#include <string>
#include <string_view>

namespace leaklab {

// A C++ name reduced to its qualified name: no return type, parameters,
// template arguments, ABI tags, clone suffixes or cv-qualifiers; operators
// keep their symbol ("std::operator<<", "ns::Handle::operator bool"):
//   "void ns::(anonymous namespace)::Cache<int>::Put(int) [clone .cold]"
//   -> "ns::(anonymous namespace)::Cache::Put"
// Names that are not C++ (no "::": Go's "main.(*store).add", C's "malloc")
// are returned as they are. For sentences, where the whole scope names the
// code.
std::string QualifiedFunctionName(std::string_view name);

// QualifiedFunctionName without "(anonymous namespace)" scopes and with at
// most the last three scopes, for a name read from the back of a room:
//   "leaklab::scenarios::(anonymous namespace)::RequestTracker::Track() [clone .cold]"
//   -> "scenarios::RequestTracker::Track"
std::string ShortFunctionName(std::string_view name);

// True for names of the C++ standard library and Boost ("std::", "boost::",
// "__gnu_cxx::"), which say how rather than who when a person reads a stack.
bool IsCppLibraryFunction(std::string_view name);

// True for frames of the C++ standard library, Boost, the C library or Go's
// runtime: they say how, not who, and their template names fill lines.
bool IsLibraryFrame(std::string_view frame);

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_FUNCTION_NAME_H_
