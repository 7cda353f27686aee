// Replays the envelope fuzzer's corpus (seeds and every crash it ever found) in ordinary builds,
// so a fixed finding stays covered without clang or libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "codec/codec.hpp"
#include "codec_test_support.hpp"

namespace stratacache::codec {
namespace {

using testing::make_codec;
using testing::Protection;

std::map<std::string, std::string> read_corpus() {
  const std::filesystem::path dir = STRATACACHE_FUZZ_CORPUS "/envelope";
  std::map<std::string, std::string> corpus;
  if (!std::filesystem::is_directory(dir)) return corpus;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(entry.path(), std::ios::binary);
    corpus[entry.path().filename().string()] =
        std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return corpus;
}

TEST(EnvelopeFuzzCorpus, EveryInputDecodesOrFailsCleanly) {
  // The same codecs as tests_cpp/fuzz/fuzz_envelope.cpp.
  const Codec codecs[] = {make_codec(Compression::kLz4, Protection::kPlain),
                          make_codec(Compression::kZstd, Protection::kSigned),
                          make_codec(Compression::kLz4, Protection::kEncrypted),
                          make_codec(Compression::kLz4, Protection::kFields)};
  const auto corpus = read_corpus();
  ASSERT_GE(corpus.size(), 5u);
  for (const auto& [name, bytes] : corpus) {
    for (const Codec& codec : codecs) {
      const Result<Decoded> decoded = codec.decode("fuzz:key", bytes);
      if (decoded.ok()) continue;
      const ErrorCode code = decoded.error().code;
      EXPECT_TRUE(code == ErrorCode::kCorrupt || code == ErrorCode::kTampered ||
                  code == ErrorCode::kTooLarge || code == ErrorCode::kUnknownVersion)
          << name;
    }
  }
}

TEST(EnvelopeFuzzCorpus, SeedsDecodeAsWritten) {
  const auto corpus = read_corpus();
  const Codec plain = make_codec(Compression::kLz4, Protection::kPlain);
  for (const char* name : {"plain_none", "plain_lz4", "plain_zstd"}) {
    ASSERT_TRUE(corpus.contains(name)) << name;
    EXPECT_TRUE(plain.decode("fuzz:key", corpus.at(name)).ok()) << name;
  }
  const Codec signer = make_codec(Compression::kZstd, Protection::kSigned);
  EXPECT_TRUE(signer.decode("fuzz:key", corpus.at("signed_zstd")).ok());
  const Codec sealer = make_codec(Compression::kLz4, Protection::kEncrypted);
  EXPECT_TRUE(sealer.decode("fuzz:key", corpus.at("encrypted_lz4")).ok());
  const Codec fielder = make_codec(Compression::kLz4, Protection::kFields);
  EXPECT_TRUE(fielder.decode("fuzz:key", corpus.at("fields_lz4")).ok());
  EXPECT_TRUE(plain.decode("fuzz:key", corpus.at("fields_lz4")).ok());
  EXPECT_EQ(plain.decode("fuzz:key", corpus.at("zip_bomb_zstd")).error().code,
            ErrorCode::kTooLarge);
  EXPECT_EQ(plain.decode("fuzz:key", corpus.at("zip_bomb_zstd_forged_size")).error().code,
            ErrorCode::kCorrupt);
  EXPECT_EQ(plain.decode("fuzz:key", corpus.at("unknown_version")).error().code,
            ErrorCode::kUnknownVersion);
  // 300k empty JSON lists in a 1 kB envelope: refused before Python's json builds them.
  EXPECT_EQ(plain.decode("fuzz:key", corpus.at("bomb_json_zstd")).error().code,
            ErrorCode::kTooLarge);
  // A msgpack bomb inflates to a payload within max_value_bytes; the walk bounds the rest.
  EXPECT_TRUE(plain.decode("fuzz:key", corpus.at("bomb_msgpack_zstd")).ok());
}

}  // namespace
}  // namespace stratacache::codec
