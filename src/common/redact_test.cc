#include "common/redact.h"

#include <gtest/gtest.h>

#include "aqueducts/status.h"

namespace aqueducts {
namespace {

TEST(RedactTest, ConnectionStringSecretsWhateverTheBraces) {
  EXPECT_EQ(RedactSecrets("Driver={PG};UID=u;PWD=s3cr3t;Server=h"),
            "Driver={PG};UID=u;PWD=***;Server=h");
  // unixODBC echoing a string whose brace never closes: the password is still found.
  EXPECT_EQ(RedactSecrets("[IM002] bad string 'Driver={PG;UID=u;PWD=s3cr3t;'"),
            "[IM002] bad string 'Driver={PG;UID=u;PWD=***;'");
  EXPECT_EQ(RedactSecrets("Password={a;b}}c};x=1"), "Password=***;x=1");
  // A value runs to ';', a quote or a line end: more is hidden rather than less.
  EXPECT_EQ(RedactSecrets("aws_secret_access_key=AKIAxyz, region=eu"), "aws_secret_access_key=***");
  EXPECT_EQ(RedactSecrets("token = abc\nnext"), "token = ***\nnext");
  EXPECT_EQ(RedactSecrets("UID=alice;Server=h"), "UID=alice;Server=h");
}

TEST(RedactTest, UrlPasswords) {
  EXPECT_EQ(RedactSecrets("cannot read 's3://alice:pw123@bucket/x.csv'"),
            "cannot read 's3://alice:***@bucket/x.csv'");
  EXPECT_EQ(RedactSecrets("https://u:p@ss@host:8443/x"), "https://u:***@host:8443/x");
  EXPECT_EQ(RedactSecrets("https://host:8443/x?a=b"), "https://host:8443/x?a=b");
  EXPECT_EQ(RedactSecrets("file:///tmp/a@b:c"), "file:///tmp/a@b:c");
}

TEST(RedactTest, RegisteredValuesAreHiddenAnywhereAndStatusAppliesTheRule) {
  RegisterSecretsIn("Driver={PG};PWD={Zq9;Secret};");
  RegisterSecretsIn("s3://bob:Kx7Password@bucket/x");
  EXPECT_EQ(RedactSecrets("auth failed for Zq9;Secret and Kx7Password"),
            "auth failed for *** and ***");
  Status status = Status::IoError("echo: PWD=plain1;UID=x and Kx7Password");
  EXPECT_EQ(status.message(), "echo: PWD=***;UID=x and ***");
  EXPECT_EQ(status.WithPrefix("ctx: ").message(), "ctx: echo: PWD=***;UID=x and ***");
}

}  // namespace
}  // namespace aqueducts
