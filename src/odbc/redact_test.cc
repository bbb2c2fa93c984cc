#include "odbc/redact.h"

#include <gtest/gtest.h>

#include "odbc/driver_options.h"

namespace aqueducts::odbc {
namespace {

TEST(RedactTest, ConnectionStringPasswordsAreMasked) {
  EXPECT_EQ(RedactConnectionString("Driver={PostgreSQL Unicode};Server=db;UID=u;PWD=s3cret;"),
            "Driver={PostgreSQL Unicode};Server=db;UID=u;PWD=***;");
  EXPECT_EQ(RedactConnectionString("DSN=x;Password=hunter22"), "DSN=x;Password=***");
  EXPECT_EQ(RedactConnectionString("dsn=x; pwd = {a;b}}c} ;uid=me"), "dsn=x; pwd = *** ;uid=me");
  EXPECT_EQ(RedactConnectionString("Driver=x;AccessToken=abc;ClientSecret=def"),
            "Driver=x;AccessToken=***;ClientSecret=***");
  EXPECT_EQ(RedactConnectionString("DSN=plain;UID=u"), "DSN=plain;UID=u");
}

TEST(RedactTest, SecretsInMessagesAreMasked) {
  const std::string conn = "Driver=x;UID=u;PWD={my;pa}}ss};";
  EXPECT_EQ(RedactSecrets("login failed for PWD={my;pa}}ss} and my;pa}ss", conn),
            "login failed for PWD=*** and ***");
  EXPECT_EQ(RedactSecrets("no secret here", "DSN=a;PWD=topsecret"), "no secret here");
  EXPECT_EQ(RedactSecrets("x topsecret y topsecret", "DSN=a;Password=topsecret"), "x *** y ***");
}

TEST(DriverOptionsTest, PostgresReadsStream) {
  EXPECT_EQ(TuneForStreaming("Driver={PostgreSQL Unicode};Server=h"),
            "Driver={PostgreSQL Unicode};Server=h;UseDeclareFetch=1;Fetch=4096;BoolsAsChar=0;"
            "NumericAs=-1;");
  EXPECT_EQ(TuneForStreaming("Driver=/usr/lib/psqlodbcw.so;UseDeclareFetch=0;"),
            "Driver=/usr/lib/psqlodbcw.so;UseDeclareFetch=0;BoolsAsChar=0;NumericAs=-1;");
  EXPECT_EQ(TuneForStreaming("DSN=mysql;PWD=x"), "DSN=mysql;PWD=x");
  EXPECT_EQ(TuneForWriting("Driver={PostgreSQL Unicode};PWD=x", 500),
            "Driver={PostgreSQL Unicode};PWD=x;BatchSize=500;");
  EXPECT_EQ(TuneForWriting("DSN=pg;", 500), "DSN=pg;");
  EXPECT_EQ(ConnectionAttribute("a=1; Driver = {x;y} ;b=2", "driver"), " {x;y} ");
}

}  // namespace
}  // namespace aqueducts::odbc
