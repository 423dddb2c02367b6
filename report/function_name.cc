#include "report/function_name.h"

#include <vector>

namespace leaklab::report {

namespace {

constexpr std::string_view kAnonymous = "(anonymous namespace)::";
// Scopes kept, counting the function itself.
constexpr size_t kMaxScopes = 3;

}  // namespace

std::string ShortFunctionName(std::string_view frame) {
  if (frame.find("::") == std::string_view::npos) return std::string(frame);
  std::string text(frame);
  for (size_t at = text.find(kAnonymous); at != std::string::npos; at = text.find(kAnonymous, at)) {
    text.erase(at, kAnonymous.size());
  }
  // Steps: 1. walk the name at bracket depth 0, dropping <...> and [...]
  // (template arguments, ABI tags) and stopping at the parameter list;
  // 2. drop a return type (what precedes the last space at depth 0);
  // 3. keep the last scopes.
  std::string name;
  int angle = 0, square = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    // "operator<", "operator<<", "operator()": the symbol is part of the name.
    if (angle == 0 && square == 0 && text.compare(i, 8, "operator") == 0) {
      const size_t paren = text.find('(', i + 9);
      const size_t end = text.compare(i + 8, 2, "()") == 0 ? i + 10 : paren;
      name += text.substr(i, end == std::string::npos ? std::string::npos : end - i);
      break;
    }
    if (c == '<') {
      ++angle;
    } else if (c == '>' && angle > 0) {
      --angle;
    } else if (c == '[') {
      ++square;
    } else if (c == ']' && square > 0) {
      --square;
    } else if (angle == 0 && square == 0) {
      if (c == '(') break;
      name += c;
    }
  }
  while (!name.empty() && name.back() == ' ') name.pop_back();
  if (size_t space = name.rfind(' '); space != std::string::npos) name = name.substr(space + 1);
  std::vector<std::string> scopes;
  for (size_t start = 0;;) {
    const size_t sep = name.find("::", start);
    scopes.push_back(
        name.substr(start, sep == std::string::npos ? std::string::npos : sep - start));
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  std::string out;
  for (size_t i = scopes.size() > kMaxScopes ? scopes.size() - kMaxScopes : 0; i < scopes.size();
       ++i) {
    out += (out.empty() ? "" : "::") + scopes[i];
  }
  return out.empty() ? std::string(frame) : out;
}

bool IsLibraryFrame(std::string_view frame) {
  if (frame.starts_with("operator new") || frame.starts_with("operator delete")) return true;
  std::string_view head = frame.substr(0, frame.find('('));
  head = head.substr(0, head.find('<'));
  if (size_t space = head.rfind(' '); space != std::string_view::npos)
    head = head.substr(space + 1);
  for (std::string_view prefix : {"std::", "boost::", "__gnu_cxx::", "__cxxabi", "__libc", "__GI_",
                                  "start_thread", "clone", "runtime.", "_start"}) {
    if (head.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace leaklab::report
