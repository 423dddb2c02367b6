// The one translation unit that compiles Boost.Asio and Boost.Beast.
// Every other file includes their headers with *_SEPARATE_COMPILATION defined
// (see the top-level CMakeLists.txt) and links leaklab_asio instead of
// instantiating the whole library again.
#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
