// The one translation unit that compiles Boost.JSON (header-only source mode);
// everything else includes <boost/json.hpp> and links leaklab_json.
#include <boost/json/src.hpp>
