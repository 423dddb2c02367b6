#include "analyzers/pprof/frame.h"

#include <gtest/gtest.h>

namespace leaklab::pprof {
namespace {

TEST(FrameTest, ShortStringIsReadable) {
  auto short_name = [](const char* f) { return Frame{f, "", 0}.ShortString(); };
  EXPECT_EQ(
      short_name("void boost::asio::io_context::basic_executor_type<std::allocator<void>, 0ul>::"
                 "execute<boost::asio::detail::executor_function>(boost::asio::detail::executor_"
                 "function&&) const"),
      "boost::asio::io_context::basic_executor_type::execute");
  EXPECT_EQ(
      short_name(
          "leaklab::(anonymous namespace)::Local(std::vector<char*, std::allocator<char*> >&)"),
      "leaklab::(anonymous namespace)::Local");
  EXPECT_EQ(short_name("std::vector<int, std::allocator<int> >::operator[](unsigned long)"),
            "std::vector::operator[]");
  EXPECT_EQ(short_name("ns::Functor::operator()() const"), "ns::Functor::operator()");
  EXPECT_EQ(short_name("ns::Stream::operator<<(int)"), "ns::Stream::operator<<");
  EXPECT_EQ(short_name("ns::Handle::operator bool() const"), "ns::Handle::operator bool");
  EXPECT_EQ(short_name("ns::Cache::Put(std::string const&) [clone .cold]"), "ns::Cache::Put");
  // Go and C names are left alone.
  EXPECT_EQ(short_name("main.(*sessionStore).add"), "main.(*sessionStore).add");
  EXPECT_EQ(short_name("malloc"), "malloc");
  EXPECT_EQ((Frame{"main.leak", "/src/app/main.go", 23}.ShortString()), "main.leak (main.go:23)");
  EXPECT_EQ((Frame{"main.leak", "/src/app/main.go", 23}.ToString()),
            "main.leak (/src/app/main.go:23)");
  EXPECT_TRUE((Frame{"void std::vector<int>::push_back(int&&)", "", 0}.IsLibrary()));
  EXPECT_TRUE((Frame{"boost::asio::detail::scheduler::run()", "", 0}.IsLibrary()));
  EXPECT_FALSE((Frame{"ns::Cache::Put()", "", 0}.IsLibrary()));
}

TEST(FrameTest, ProfilerFramesAreTheProfileWritersOwn) {
  EXPECT_TRUE((Frame{"runtime/pprof.writeHeapProto", "", 0}.IsProfiler()));
  EXPECT_TRUE((Frame{"net/http/pprof.handler.ServeHTTP", "", 0}.IsProfiler()));
  EXPECT_TRUE(
      (Frame{"leaklab::runtime::BuildHeapProfile(leaklab::runtime::Arena&)", "", 0}.IsProfiler()));
  EXPECT_FALSE((Frame{"runtime.mallocgc", "", 0}.IsProfiler()));
  EXPECT_FALSE((Frame{"main.remember", "", 0}.IsProfiler()));
}

}  // namespace
}  // namespace leaklab::pprof
