#include "common/read_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace leaklab {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string SizeText(std::uintmax_t bytes) {
  constexpr std::uintmax_t kMiB = std::uintmax_t{1} << 20;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

std::string ReadWholeFile(const std::filesystem::path& path, std::uintmax_t max_bytes,
                          std::string_view what_for) {
  // stdio rather than iostreams: errno then says why an open or read failed.
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) {
    const int error = errno;
    throw ReadFileError(
        error == ENOENT ? ReadFileError::Reason::kMissing : ReadFileError::Reason::kUnreadable,
        path, std::string("cannot open: ") + std::strerror(error));
  }
  std::string text;
  constexpr size_t kBlockBytes = size_t{1} << 16;
  while (true) {
    const size_t old_size = text.size();
    text.resize(old_size + kBlockBytes);
    const size_t got = std::fread(text.data() + old_size, 1, kBlockBytes, file.get());
    text.resize(old_size + got);
    if (text.size() > max_bytes) {
      throw ReadFileError(
          ReadFileError::Reason::kTooLarge, path,
          "larger than " + SizeText(max_bytes) + ", the limit for " + std::string(what_for));
    }
    if (got < kBlockBytes) break;
  }
  if (std::ferror(file.get())) {
    // EISDIR for a folder opened as a file.
    throw ReadFileError(ReadFileError::Reason::kUnreadable, path,
                        std::string("cannot read: ") + std::strerror(errno));
  }
  return text;
}

std::string ReadFileTail(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return "";
  std::string s;
  char block[4096];
  size_t got = 0;
  while ((got = std::fread(block, 1, sizeof block, file.get())) > 0) {
    s.append(block, got);
    if (s.size() > 2 * max_bytes) s.erase(0, s.size() - max_bytes);
  }
  if (s.size() > max_bytes) s.erase(0, s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string ReadFileHead(const std::filesystem::path& path, std::size_t max_bytes) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return "";
  std::string s(max_bytes, '\0');
  s.resize(std::fread(s.data(), 1, max_bytes, file.get()));
  return s;
}

}  // namespace leaklab
