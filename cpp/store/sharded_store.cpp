#include "store/sharded_store.hpp"

#include <bit>

namespace stratacache::store {

std::size_t default_shard_count(const StoreConfig& config) noexcept {
  // Sharding only pays under contention, and small shards cost hit ratio: keep >= 4096 units.
  const std::uint64_t units = config.max_entries != 0 ? config.max_entries : config.max_bytes / 256;
  std::size_t n = 1;
  while (n < 16 && units / (n * 2) >= 4096) n *= 2;
  return n;
}

void validate_config(const StoreConfig& config) {
  if (config.max_entries == 0 && config.max_bytes == 0) {
    throw Error(ErrorCode::kInvalidConfig, "max_entries or max_bytes must be > 0");
  }
  if (config.shards != 0 && !std::has_single_bit(config.shards)) {
    throw Error(ErrorCode::kInvalidConfig, "shards must be a power of two");
  }
  if (config.shards > 1024) throw Error(ErrorCode::kInvalidConfig, "shards must be <= 1024");
  if (config.max_entries >= (std::uint64_t{1} << 31)) {
    throw Error(ErrorCode::kInvalidConfig, "max_entries must be < 2**31");
  }
}

}  // namespace stratacache::store
