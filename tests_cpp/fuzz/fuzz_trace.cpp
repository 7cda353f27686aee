// libFuzzer target for the trace reader (plain and gzip input): any bytes must either parse or
// raise stratacache::Error; crashes, leaks and undefined behaviour are findings. Inputs go
// through a file because read_trace's contract is a path (zlib sniffs gzip from the bytes).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "common/error.hpp"
#include "predict/trace_reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = "/tmp/stratacache_fuzz_trace_" + std::to_string(getpid());
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return 0;
  std::fwrite(data, 1, size, f);
  std::fclose(f);
  try {
    static_cast<void>(stratacache::predict::read_trace(path));
  } catch (const stratacache::Error&) {
  }
  return 0;
}
