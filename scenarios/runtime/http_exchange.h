#ifndef LEAKLAB_SCENARIOS_RUNTIME_HTTP_EXCHANGE_H_
#define LEAKLAB_SCENARIOS_RUNTIME_HTTP_EXCHANGE_H_

// The part of serving an HTTP request that needs no socket: the request
// parser with the server's limits, the runtime's view of a parsed request,
// and the Beast response for a handler's answer or for a request that could
// not be read. HttpServer runs these for every request; the fuzz target
// (http_request_fuzz.cc) feeds them bytes directly. Internal to the runtime:
// it includes Beast, which scenario code must not have to compile.

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <vector>

#include "scenarios/runtime/http_server.h"
#include "scenarios/runtime/scenario.h"

namespace leaklab::runtime::internal {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;
using RequestParser = boost::beast::http::request_parser<boost::beast::http::string_body>;

// Applies the header and body limits of `options` (431 and 413 beyond them).
void ApplyLimits(RequestParser& parser, const ServerOptions& options);

// The runtime's view of `req`: views into it, and `headers` (reused by the
// caller across requests, so that a connection allocates once) for the
// fields. Valid while `req` and `headers` are.
Request ViewOf(const BeastRequest& req, std::vector<Header>& headers);

// The Beast response for `r`, in HTTP/1.`version`; for HEAD, without a body
// but with the GET answer's Content-Length.
BeastResponse ToBeast(Response r, unsigned version, bool head);

// The answer to a request that could not be read: 413, 431 or 400.
Response ErrorFor(const boost::beast::error_code& ec);

}  // namespace leaklab::runtime::internal

#endif  // LEAKLAB_SCENARIOS_RUNTIME_HTTP_EXCHANGE_H_
