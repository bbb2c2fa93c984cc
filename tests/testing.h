#pragma once

#include <string>

#include <gtest/gtest.h>

#include "aqueducts/status.h"

#define AQ_ASSERT_OK(expr)                                     \
  do {                                                         \
    ::aqueducts::Status aq_s_ = (expr);                        \
    ASSERT_TRUE(aq_s_.ok()) << "status: " << aq_s_.ToString(); \
  } while (false)

#define AQ_EXPECT_OK(expr)                                     \
  do {                                                         \
    ::aqueducts::Status aq_s_ = (expr);                        \
    EXPECT_TRUE(aq_s_.ok()) << "status: " << aq_s_.ToString(); \
  } while (false)

#define AQ_ASSERT_OK_AND_ASSIGN_IMPL_(tmp, lhs, rexpr)            \
  auto tmp = (rexpr);                                             \
  ASSERT_TRUE(tmp.ok()) << "status: " << tmp.status().ToString(); \
  lhs = std::move(tmp).value()

#define AQ_ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  AQ_ASSERT_OK_AND_ASSIGN_IMPL_(AQ_CONCAT_(aq_t_, __LINE__), lhs, rexpr)

namespace aqueducts::testing {

/// Root of the source tree (for fixtures).
inline std::string SourceDir() {
  return AQ_SOURCE_DIR;
}
/// tests/fixtures of the source tree (the original's example pipelines, Delta tables); override
/// with AQ_FIXTURES.
inline std::string FixturesDir() {
  const char* env = std::getenv("AQ_FIXTURES");
  return env ? std::string(env) : SourceDir() + "/tests/fixtures";
}

}  // namespace aqueducts::testing
