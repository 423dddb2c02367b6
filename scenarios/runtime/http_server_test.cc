#include "scenarios/runtime/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <thread>

namespace leaklab::runtime {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs a server on a free loopback port for the lifetime of the fixture.
class ServerFixture : public ::testing::Test {
 protected:
  void StartServer(ServerOptions options) {
    server_ = std::make_unique<HttpServer>(options, [](const Request& r) {
      if (r.path == "/slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
      return Response{200, "text/plain", "hello " + std::string(r.path)};
    });
    port_ = server_->Listen();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
  }

  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_));
    return s;
  }

  // Reads one response whose body length is given by Content-Length.
  static std::string ReadResponse(tcp::socket& s, std::string& buffered) {
    size_t header_end = asio::read_until(s, asio::dynamic_buffer(buffered), "\r\n\r\n");
    std::string head = buffered.substr(0, header_end);
    size_t cl = head.find("Content-Length: ");
    size_t len = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    if (buffered.size() < header_end + len) {
      asio::read(s, asio::dynamic_buffer(buffered),
                 asio::transfer_exactly(header_end + len - buffered.size()));
    }
    std::string response = buffered.substr(0, header_end + len);
    buffered.erase(0, header_end + len);
    return response;
  }

  asio::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
};

TEST_F(ServerFixture, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer({});
  tcp::socket s = Connect();
  std::string buffered;
  for (int i = 0; i < 3; ++i) {
    std::string path = "/r" + std::to_string(i);
    asio::write(s, asio::buffer("GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n"));
    std::string r = ReadResponse(s, buffered);
    EXPECT_NE(r.find("200 OK"), std::string::npos);
    EXPECT_NE(r.find("hello " + path), std::string::npos);
  }
}

TEST_F(ServerFixture, OversizedHeaderIsRefusedWith431) {
  ServerOptions o;
  o.header_limit_bytes = 1024;
  StartServer(o);
  tcp::socket s = Connect();
  asio::write(s, asio::buffer("GET / HTTP/1.1\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  std::string buffered;
  std::string r = ReadResponse(s, buffered);
  EXPECT_NE(r.find("431"), std::string::npos);
}

TEST_F(ServerFixture, OversizedBodyIsRefusedWith413) {
  ServerOptions o;
  o.body_limit_bytes = 100;
  StartServer(o);
  tcp::socket s = Connect();
  asio::write(
      s, asio::buffer("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n" + std::string(1000, 'b')));
  std::string buffered;
  EXPECT_NE(ReadResponse(s, buffered).find("413"), std::string::npos);
}

TEST_F(ServerFixture, IdleConnectionIsClosedAfterReadTimeout) {
  ServerOptions o;
  o.read_timeout = std::chrono::milliseconds(200);
  StartServer(o);
  tcp::socket s = Connect();
  auto start = std::chrono::steady_clock::now();
  char c;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(ServerFixture, StopFinishesInFlightRequestAndClosesIdleOnes) {
  StartServer({});
  tcp::socket idle = Connect();
  tcp::socket busy = Connect();
  asio::write(busy, asio::buffer(std::string("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server_->Stop();
  std::string buffered;
  std::string r = ReadResponse(busy, buffered);
  EXPECT_NE(r.find("hello /slow"), std::string::npos);
  EXPECT_NE(r.find("Connection: close"), std::string::npos);
  thread_.join();  // Run() returns once both connections are gone
  char c;
  boost::system::error_code ec;
  idle.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(HttpServer, BadAddressIsAClearError) {
  ServerOptions o;
  o.address = "not-an-ip";
  HttpServer server(o, [](const Request&) { return Response{}; });
  try {
    server.Listen();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not-an-ip"), std::string::npos);
  }
}

}  // namespace
}  // namespace leaklab::runtime
