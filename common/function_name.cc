#include "common/function_name.h"

#include <algorithm>
#include <vector>

namespace leaklab {
namespace {

constexpr std::string_view kAnonymous = "(anonymous namespace)";
// Stands for the space inside "(anonymous namespace)" while words are split
// at spaces.
constexpr char kAnonymousSpace = '\x1f';
// Scopes ShortFunctionName keeps, counting the function itself.
constexpr size_t kMaxShortScopes = 3;

// Whether `flat` ends with the keyword "operator" (not with a name such as
// "my_operator").
bool EndsWithOperatorKeyword(std::string_view flat) {
  if (!flat.ends_with("operator")) return false;
  const size_t before = flat.size() - std::string_view("operator").size();
  return before == 0 || flat[before - 1] == ':' || flat[before - 1] == ' ';
}

// The length of an operator's symbol at the start of `rest` ("()", "<<",
// "[]", "->*"), 0 when there is none (a conversion or "operator new").
size_t OperatorSymbolLength(std::string_view rest) {
  if (rest.starts_with("()")) return 2;
  size_t n = 0;
  while (n < rest.size() && std::string_view("<>=!+-*/%&|^~[],").find(rest[n]) != rest.npos) ++n;
  return n;
}

bool IsQualifier(std::string_view word) {
  return word == "const" || word == "volatile" || word == "&" || word == "&&" || word == "noexcept";
}

}  // namespace

// Steps: 1. at bracket depth 0, drop the (...), <...> and [...] groups
// (parameters, template arguments, ABI tags, clone suffixes), keeping
// "(anonymous namespace)" as one word, operators' symbols and the "[]" of
// "operator new[]"; 2. split what is left into words at spaces, joining
// "operator" to the word after it ("operator new", "operator bool");
// 3. keep the last word that is not a qualifier: the words before it are a
// return type.
std::string QualifiedFunctionName(std::string_view name) {
  if (name.find("::") == std::string_view::npos) return std::string(name);
  std::string flat;
  int depth = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const std::string_view rest = name.substr(i);
    if (depth == 0 && rest.starts_with(kAnonymous)) {
      flat += "(anonymous";
      flat += kAnonymousSpace;
      flat += "namespace)";
      i += kAnonymous.size() - 1;
      continue;
    }
    if (depth == 0 && EndsWithOperatorKeyword(flat)) {
      if (const size_t n = OperatorSymbolLength(rest); n > 0) {
        flat.append(rest.substr(0, n));
        i += n - 1;
        continue;
      }
    }
    if (depth == 0 && rest.starts_with("[]")) {  // "operator delete[]"
      flat += "[]";
      ++i;
      continue;
    }
    const char c = name[i];
    if (c == '(' || c == '<' || c == '[') {
      ++depth;
    } else if ((c == ')' || c == '>' || c == ']') && depth > 0) {
      --depth;
    } else if (depth == 0) {
      flat += c;
    }
  }
  std::vector<std::string> words;
  for (size_t start = 0; start < flat.size();) {
    size_t end = flat.find(' ', start);
    if (end == std::string::npos) end = flat.size();
    std::string word = flat.substr(start, end - start);
    start = end + 1;
    if (word.empty()) continue;
    if (!words.empty() && EndsWithOperatorKeyword(words.back())) {
      words.back() += " " + word;
    } else {
      words.push_back(std::move(word));
    }
  }
  std::string best;
  for (const std::string& word : words) {
    if (!IsQualifier(word)) best = word;
  }
  std::replace(best.begin(), best.end(), kAnonymousSpace, ' ');
  return best.empty() ? std::string(name) : best;
}

std::string ShortFunctionName(std::string_view name) {
  const std::string qualified = QualifiedFunctionName(name);
  if (name.find("::") == std::string_view::npos) return qualified;
  std::vector<std::string_view> scopes;
  for (size_t start = 0;;) {
    const size_t sep = qualified.find("::", start);
    const std::string_view scope = std::string_view(qualified).substr(
        start, sep == std::string::npos ? std::string::npos : sep - start);
    if (scope != kAnonymous) scopes.push_back(scope);
    if (sep == std::string::npos) break;
    start = sep + 2;
  }
  std::string out;
  for (size_t i = scopes.size() > kMaxShortScopes ? scopes.size() - kMaxShortScopes : 0;
       i < scopes.size(); ++i) {
    out += (out.empty() ? "" : "::") + std::string(scopes[i]);
  }
  return out.empty() ? qualified : out;
}

bool IsCppLibraryFunction(std::string_view name) {
  const std::string qualified = QualifiedFunctionName(name);
  return qualified.starts_with("std::") || qualified.starts_with("boost::") ||
         qualified.starts_with("__gnu_cxx::");
}

bool IsLibraryFrame(std::string_view frame) {
  if (frame.starts_with("operator new") || frame.starts_with("operator delete")) return true;
  if (IsCppLibraryFunction(frame)) return true;
  std::string_view head = frame.substr(0, frame.find('('));
  head = head.substr(0, head.find('<'));
  if (size_t space = head.rfind(' '); space != std::string_view::npos)
    head = head.substr(space + 1);
  for (std::string_view prefix :
       {"__cxxabi", "__libc", "__GI_", "start_thread", "clone", "runtime.", "_start"}) {
    if (head.starts_with(prefix)) return true;
  }
  return false;
}

}  // namespace leaklab
