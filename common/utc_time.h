#ifndef LEAKLAB_COMMON_UTC_TIME_H_
#define LEAKLAB_COMMON_UTC_TIME_H_

// The two ways leaklab writes the current time: in folder names (sortable,
// no colons) and in JSON (ISO 8601, UTC).

#include <string>

namespace leaklab {

// "20261127-213005": the default results folder's suffix.
std::string UtcFolderStamp();

// "2026-11-27T21:30:05Z": manifest.json's times.
std::string UtcIsoTime();

}  // namespace leaklab

#endif  // LEAKLAB_COMMON_UTC_TIME_H_
