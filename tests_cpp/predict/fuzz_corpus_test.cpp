// Replays the fuzzer's corpus (seeds and every crash it ever found) in ordinary builds, so a
// fixed finding stays covered without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.hpp"
#include "predict/trace_reader.hpp"

namespace stratacache::predict {
namespace {

TEST(TraceFuzzCorpus, EveryInputParsesOrFailsCleanly) {
  const std::filesystem::path dir = STRATACACHE_FUZZ_CORPUS "/trace";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  int inputs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    ++inputs;
    try {
      static_cast<void>(read_trace(entry.path().string()));
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == ErrorCode::kCorrupt || e.code() == ErrorCode::kIo) << entry.path();
    }
  }
  EXPECT_GE(inputs, 5);
}

}  // namespace
}  // namespace stratacache::predict
