#pragma once
// The server errors uniqgate answers with itself, as MySQL words them, so that
// application code that handles them without the proxy keeps working.

#include <cstdint>

namespace uniqgate::proxy::mysql_error {

inline constexpr std::uint16_t kDupEntry = 1062;  // SQLSTATE 23000, "Duplicate entry '..' for key '..'"
inline constexpr const char* kDupEntryState = "23000";
inline constexpr std::uint16_t kLockWaitTimeout = 1205;
inline constexpr const char* kLockWaitTimeoutState = "HY000";
inline constexpr const char* kLockWaitTimeoutMessage = "Lock wait timeout exceeded; try restarting transaction";
inline constexpr std::uint16_t kLockDeadlock = 1213;
inline constexpr const char* kLockDeadlockState = "40001";
inline constexpr const char* kLockDeadlockMessage =
    "Deadlock found when trying to get lock; try restarting transaction";
// ER_SUBQUERY_NO_1_ROW: serialize's one-round-trip probe fails with it when a live row has the key.
inline constexpr std::uint16_t kSubqueryMoreThanOneRow = 1242;
// ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION: a client write after a failed guarded dedup insert.
inline constexpr std::uint16_t kReadOnlyTransaction = 1792;
inline constexpr std::uint16_t kNotSupportedYet = 1235;
inline constexpr const char* kNotSupportedYetState = "42000";

}  // namespace uniqgate::proxy::mysql_error
