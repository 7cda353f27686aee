// Errors of the engine: expected outcomes are values, only contract violations throw.
#pragma once

#include <stdexcept>
#include <string>

namespace stratacache {

/// Why an engine call was refused; each code maps to one Python exception class.
enum class ErrorCode {
  kInvalidConfig,   ///< a constructor argument is out of range
  kInvalidTtl,      ///< a TTL is negative or not finite
  kValueTooLarge,   ///< a value heavier than the whole cache, in strict mode
  kCorrupt,         ///< malformed input bytes (explicit decode only)
  kUnknownVersion,  ///< well-formed bytes of a format version this build cannot read
  kTampered,        ///< authentication failed (explicit decode only)
  kTooLarge,        ///< input would exceed the configured size limit
  kIo,              ///< a file could not be opened or read
  kDisk,            ///< the disk tier's store failed (I/O, locks) for a reason not the caller's
};

/// The single exception type the engine throws.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace stratacache
