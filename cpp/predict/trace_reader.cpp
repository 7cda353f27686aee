#include "predict/trace_reader.hpp"

#include "common/error.hpp"

namespace stratacache::predict {
std::vector<std::int64_t> read_trace(const std::string& path) {
  throw Error(ErrorCode::kIo, "not implemented yet: " + path);
}
}  // namespace stratacache::predict
