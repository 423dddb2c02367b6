#include "scenarios/runtime/http_exchange.h"

#include <boost/beast/http/error.hpp>
#include <string_view>
#include <utility>

namespace leaklab::runtime::internal {

namespace http = boost::beast::http;

void ApplyLimits(RequestParser& parser, const ServerOptions& options) {
  parser.header_limit(options.header_limit_bytes);
  parser.body_limit(options.body_limit_bytes);
}

Request ViewOf(const BeastRequest& req, std::vector<Header>& headers) {
  const std::string_view target(req.target().data(), req.target().size());
  const size_t q = target.find('?');
  Request request;
  request.method = std::string_view(req.method_string().data(), req.method_string().size());
  request.path = target.substr(0, q);
  request.query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  request.body = req.body();
  headers.clear();
  for (const auto& field : req) {
    headers.push_back({std::string_view(field.name_string().data(), field.name_string().size()),
                       std::string_view(field.value().data(), field.value().size())});
  }
  request.headers = headers;
  return request;
}

BeastResponse ToBeast(Response r, unsigned version, bool head) {
  BeastResponse res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "leaklab");
  res.set(http::field::content_type, r.content_type);
  res.body() = std::move(r.body);
  res.prepare_payload();
  // HEAD keeps the Content-Length of the GET answer but sends no body.
  if (head) res.body().clear();
  return res;
}

Response ErrorFor(const boost::beast::error_code& ec) {
  if (ec == http::error::body_limit) return {413, "text/plain", "request body too large\n"};
  if (ec == http::error::header_limit) return {431, "text/plain", "request header too large\n"};
  return {400, "text/plain", "bad request: " + ec.message() + "\n"};
}

}  // namespace leaklab::runtime::internal
