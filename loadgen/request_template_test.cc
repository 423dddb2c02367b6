#include "loadgen/request_template.h"

#include <gtest/gtest.h>

#include <string>

namespace leaklab::loadgen {
namespace {

LoadOptions Options() {
  LoadOptions o;
  o.host = "127.0.0.1";
  o.port = 8080;
  return o;
}

TEST(RequestTemplate, PlainGet) {
  LoadOptions o = Options();
  o.path_template = "/track?id=7";
  const RequestTemplate t(o);
  EXPECT_FALSE(t.needs_number());
  std::string out = "old contents";
  t.Render(1, 2, out);
  // The same bytes as wrk sends.
  EXPECT_EQ(out, "GET /track?id=7 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
}

TEST(RequestTemplate, NumbersKeysHeadersAndBody) {
  LoadOptions o = Options();
  o.method = "POST";
  o.path_template = "/put/{key}?n={n}";
  o.headers = {"Content-Type: text/plain", "X-Trace:  abc  "};
  o.body = "n={n} key={key}";
  const RequestTemplate t(o);
  EXPECT_TRUE(t.needs_number());
  std::string out;
  t.Render(12, 3456, out);
  EXPECT_EQ(out,
            "POST /put/3456?n=12 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
            "Content-Type: text/plain\r\nX-Trace: abc\r\nContent-Length: 13\r\n\r\nn=12 key=3456");
  t.Render(0, 0, out);
  EXPECT_NE(out.find("Content-Length: 9\r\n\r\nn=0 key=0"), std::string::npos) << out;
}

TEST(RequestTemplate, UserHostReplacesOurs) {
  LoadOptions o = Options();
  o.headers = {"host: example.test", "User-Agent: wrk"};
  const RequestTemplate t(o);
  std::string out;
  t.Render(0, 0, out);
  EXPECT_EQ(out, "GET / HTTP/1.1\r\nhost: example.test\r\nUser-Agent: wrk\r\n\r\n");
}

TEST(RequestTemplate, EmptyBodiesOfMethodsThatExpectOne) {
  LoadOptions o = Options();
  o.method = "PUT";
  std::string out;
  RequestTemplate(o).Render(0, 0, out);
  EXPECT_NE(out.find("Content-Length: 0\r\n\r\n"), std::string::npos);
  o.method = "HEAD";
  const RequestTemplate head(o);
  EXPECT_TRUE(head.head_request());
  head.Render(0, 0, out);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
}

TEST(RequestTemplate, SimpleRequestsAndHostFields) {
  EXPECT_EQ(SimpleRequest("POST", "/reload", "127.0.0.1:1"),
            "POST /reload HTTP/1.1\r\nHost: 127.0.0.1:1\r\nUser-Agent: leaklab-loadgen/0.2\r\n"
            "Content-Length: 0\r\n\r\n");
  EXPECT_EQ(SimpleRequest("GET", "/x", "h:2").find("Content-Length"), std::string::npos);
  EXPECT_EQ(HostField("::1", 80), "[::1]:80");
  EXPECT_EQ(HostField("localhost", 8080), "localhost:8080");
}

}  // namespace
}  // namespace leaklab::loadgen
