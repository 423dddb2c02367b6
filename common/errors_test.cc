#include "common/errors.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <new>

#include "common/read_file.h"

namespace leaklab {
namespace {

TEST(ExitStatusFor, BadUsageAndInputAreTwoFailuresOne) {
  EXPECT_EQ(ExitStatusFor(UsageError("--out x: taken")), kExitUsage);
  EXPECT_EQ(ExitStatusFor(InputError("a.csv:3: not a number")), kExitUsage);
  // Modules' own input errors are input errors.
  EXPECT_EQ(ExitStatusFor(ReadFileError(ReadFileError::Reason::kTooLarge, "x", "too large")),
            kExitUsage);
  // A failed write is never "bad input".
  EXPECT_EQ(ExitStatusFor(IoError("cannot write x")), kExitFailed);
  EXPECT_EQ(ExitStatusFor(std::filesystem::filesystem_error(
                "cannot create", std::make_error_code(std::errc::no_space_on_device))),
            kExitFailed);
  EXPECT_EQ(ExitStatusFor(ExperimentError("the server printed no port")), kExitFailed);
  EXPECT_EQ(ExitStatusFor(std::bad_alloc()), kExitFailed);
}

}  // namespace
}  // namespace leaklab
