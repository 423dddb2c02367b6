#include "common/function_name.h"

#include <gtest/gtest.h>

namespace leaklab {
namespace {

TEST(ShortFunctionName, DropsSignatureTemplatesAndOuterScopes) {
  EXPECT_EQ(ShortFunctionName("leaklab::scenarios::(anonymous namespace)::RequestTracker::Track()"),
            "scenarios::RequestTracker::Track");
  EXPECT_EQ(ShortFunctionName(
                "leaklab::scenarios::unbounded_cache::EncodeRecords[abi:cxx11](std::vector<std::"
                "unique_ptr<Record, std::default_delete<Record> > > const&)"),
            "scenarios::unbounded_cache::EncodeRecords");
  EXPECT_EQ(ShortFunctionName(
                "void boost::asio::detail::executor_op<F, A>::do_complete(void*, unsigned long)"),
            "detail::executor_op::do_complete");
  EXPECT_EQ(ShortFunctionName(
                "ns::(anonymous namespace)::RepeatBytes(char, unsigned long) [clone .constprop.0]"),
            "ns::RepeatBytes");
  EXPECT_EQ(ShortFunctionName("std::vector<int, std::allocator<int> >::push_back(int const&)"),
            "std::vector::push_back");
}

TEST(ShortFunctionName, KeepsOperatorsAndNonCppNames) {
  EXPECT_EQ(ShortFunctionName("std::operator<<(std::ostream&, char const*)"), "std::operator<<");
  EXPECT_EQ(ShortFunctionName("a::b::Cache::operator()(int)"), "b::Cache::operator()");
  EXPECT_EQ(ShortFunctionName("main.(*sessionStore).add (main.go:25)"),
            "main.(*sessionStore).add (main.go:25)");
  EXPECT_EQ(ShortFunctionName("malloc"), "malloc");
  EXPECT_EQ(ShortFunctionName(""), "");
}

TEST(QualifiedFunctionName, KeepsEveryScopeAndDropsTheRest) {
  EXPECT_EQ(QualifiedFunctionName("leaklab::scenarios::(anonymous namespace)::RequestTracker::"
                                  "Track() [clone .cold]"),
            "leaklab::scenarios::(anonymous namespace)::RequestTracker::Track");
  EXPECT_EQ(QualifiedFunctionName("ns::EncodeRecords[abi:cxx11](std::vector<int> const&)"),
            "ns::EncodeRecords");
  EXPECT_EQ(QualifiedFunctionName("std::vector<int> ns::Make<int>(unsigned long)"), "ns::Make");
  EXPECT_EQ(QualifiedFunctionName("ns::Pool::operator delete[](void*)"),
            "ns::Pool::operator delete[]");
  EXPECT_EQ(QualifiedFunctionName("ns::F()::{lambda(int)#1}::operator()(int) const"),
            "ns::F::{lambda#1}::operator()");
  // A name that only contains "operator" is no operator.
  EXPECT_EQ(QualifiedFunctionName("ns::my_operator(int)"), "ns::my_operator");
  EXPECT_EQ(QualifiedFunctionName("main.(*sessionStore).add"), "main.(*sessionStore).add");
}

TEST(ShortFunctionName, KeepsConversionOperatorsWhole) {
  EXPECT_EQ(ShortFunctionName("a::ns::Handle::operator bool() const"), "ns::Handle::operator bool");
}

TEST(IsCppLibraryFunction, ByTheQualifiedName) {
  EXPECT_TRUE(IsCppLibraryFunction("void std::vector<int>::push_back(int&&)"));
  EXPECT_TRUE(IsCppLibraryFunction("__gnu_cxx::new_allocator<char>::allocate(unsigned long)"));
  // The return type is the standard library's, the function is not.
  EXPECT_FALSE(IsCppLibraryFunction("std::vector<int> ns::Make(unsigned long)"));
  EXPECT_FALSE(IsCppLibraryFunction("runtime.gopark"));
}

TEST(IsLibraryFrame, StandardLibraryBoostAndRuntimesAreLibrary) {
  EXPECT_TRUE(
      IsLibraryFrame("std::_Function_handler<void (), F>::_M_invoke(std::_Any_data const&)"));
  EXPECT_TRUE(
      IsLibraryFrame("void boost::asio::detail::scheduler::run(boost::system::error_code&)"));
  EXPECT_TRUE(IsLibraryFrame("operator new(unsigned long)"));
  EXPECT_TRUE(IsLibraryFrame("runtime.gopark"));
  EXPECT_FALSE(
      IsLibraryFrame("leaklab::runtime::Router::Handle(leaklab::runtime::Request const&)"));
  EXPECT_FALSE(IsLibraryFrame("main.(*sessionStore).add (main.go:25)"));
}

}  // namespace
}  // namespace leaklab
