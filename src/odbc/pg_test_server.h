#pragma once

// Test-only: a throwaway PostgreSQL 15 server on a free loopback port, loaded with the fixture
// init.sql. Header-only on purpose: cmake/modules.cmake puts every non-test .cc of src/odbc into
// the library, and this must stay out of it. Included only by *_test.cc and bench files.

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aqueducts/status.h"

namespace aqueducts::odbc::testing {

/// \brief initdb + pg_ctl start in a temporary directory (as the `postgres` OS user when run as
/// root); user postgres, password "postgres", password (md5) auth over TCP, time zone
/// kServerTimeZone. Stopped and deleted
/// on destruction. Also points ODBCSYSINI at an odbcinst.ini naming "PostgreSQL Unicode".
class PgTestServer {
 public:
  static constexpr const char* kBin = "/usr/lib/postgresql/15/bin";
  /// The server's time zone: deliberately neither UTC nor the tests' client time zone
  /// (odbc_pg_fixture.h), so values that depend on either are caught.
  static constexpr const char* kServerTimeZone = "America/Los_Angeles";

  /// Start a server; `init_sql` (may be empty) is run with psql after rewriting the fixture's
  /// server-side `COPY ... FROM '/opt/...'` into client-side `\copy` from `csv_dir`.
  static Result<std::unique_ptr<PgTestServer>> Start(const std::string& init_sql,
                                                     const std::string& csv_dir) {
    StopOrphans();
    std::unique_ptr<PgTestServer> server(new PgTestServer());
    char tmpl[] = "/tmp/aq_odbc_pg_XXXXXX";
    if (!mkdtemp(tmpl)) {
      return Status::IoError("mkdtemp failed");
    }
    server->dir_ = tmpl;
    chmod(tmpl, 0777);  // the postgres OS user writes its data directory here
    AQ_RETURN_IF_ERROR(WriteFile(server->dir_ + "/owner.pid", std::to_string(getpid())));
    AQ_RETURN_IF_ERROR(WriteOdbcIni());
    AQ_RETURN_IF_ERROR(WriteFile(server->dir_ + "/pw", "postgres\n"));
    AQ_RETURN_IF_ERROR(server->Run(server->AsPostgres() + kBin + std::string("/initdb -D ") +
                                   server->dir_ + "/data -U postgres --pwfile=" + server->dir_ +
                                   "/pw --auth-local=trust --auth-host=md5 -N -E UTF8 --locale=C"));
    Status started;
    for (int attempt = 0; attempt < 5; ++attempt) {
      server->port_ = FreePort();
      started =
          server->Run(server->AsPostgres() + kBin + std::string("/pg_ctl -D ") + server->dir_ +
                      "/data -l " + server->dir_ + "/log -w -t 30 -o \"-p " +
                      std::to_string(server->port_) + " -k " + server->dir_ +
                      " -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=" + kServerTimeZone +
                      "\" start");
      if (started.ok()) {
        break;
      }
    }
    AQ_RETURN_IF_ERROR(started);
    server->running_ = true;
    if (!init_sql.empty()) {
      AQ_RETURN_IF_ERROR(server->LoadInitSql(init_sql, csv_dir));
    }
    return server;
  }

  ~PgTestServer() {
    if (running_) {
      (void)Run(AsPostgres() + kBin + std::string("/pg_ctl -D ") + dir_ +
                "/data -m immediate -w stop");
    }
    if (!dir_.empty()) {
      (void)Run("rm -rf " + dir_);
    }
  }

  int port() const { return port_; }
  const std::string& dir() const { return dir_; }

  /// Driver connection string (the odbcinst.ini name), with `password`.
  std::string ConnectionString(const std::string& password = "postgres") const {
    return "Driver={PostgreSQL Unicode};Server=127.0.0.1;Port=" + std::to_string(port_) +
           ";Database=postgres;UID=postgres;PWD=" + password + ";";
  }

  /// Run SQL with psql; returns unaligned, tuples-only output ("a|b" per row).
  Result<std::string> Psql(const std::string& sql) const {
    const std::string file = dir_ + "/q.sql";
    AQ_RETURN_IF_ERROR(WriteFile(file, sql));
    return Capture(PsqlCommand() + " -At -f " + file);
  }

  /// Run a shell command; kIoError with its output when it fails.
  static Status Run(const std::string& command) { return Capture(command).status(); }

  static Result<std::string> Capture(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    if (!pipe) {
      return Status::IoError("popen failed: " + command);
    }
    std::string out;
    std::array<char, 4096> buffer{};
    size_t n = 0;
    while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) {
      out.append(buffer.data(), n);
    }
    const int rc = pclose(pipe.release());
    if (rc != 0) {
      return Status::IoError("command failed (" + std::to_string(rc) + "): " + command + "\n" +
                             out);
    }
    return out;
  }

  static Status WriteFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    out.close();
    chmod(path.c_str(), 0644);
    return out ? Status::OK() : Status::IoError("cannot write " + path);
  }

  /// The path of the psqlODBC Unicode driver library, or "" if not installed.
  static std::string DriverPath() {
    for (const char* p :
         {"/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so",
          "/usr/lib/aarch64-linux-gnu/odbc/psqlodbcw.so", "/usr/lib/odbc/psqlodbcw.so",
          "/usr/lib64/psqlodbcw.so", "/usr/local/lib/psqlodbcw.so"}) {
      if (access(p, R_OK) == 0) {
        return p;
      }
    }
    return "";
  }

 private:
  PgTestServer() = default;

  static std::string AsPostgres() { return geteuid() == 0 ? "runuser -u postgres -- " : ""; }

  // A test process killed by a timeout or a debugger never runs the destructor; stop the servers
  // whose owner process is gone so they do not pile up.
  static void StopOrphans() {
    DIR* tmp = opendir("/tmp");
    if (!tmp) {
      return;
    }
    while (dirent* entry = readdir(tmp)) {
      const std::string name = entry->d_name;
      if (name.rfind("aq_odbc_pg_", 0) != 0) {
        continue;
      }
      const std::string dir = "/tmp/" + name;
      std::ifstream owner(dir + "/owner.pid");
      pid_t pid = 0;
      if (!(owner >> pid) || pid <= 0 || kill(pid, 0) == 0 || errno != ESRCH) {
        continue;
      }
      (void)Run(AsPostgres() + kBin + std::string("/pg_ctl -D ") + dir +
                "/data -m immediate -w stop");
      (void)Run("rm -rf " + dir);
    }
    closedir(tmp);
  }

  std::string PsqlCommand() const {
    return "PGPASSWORD=postgres " + std::string(kBin) +
           "/psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p " + std::to_string(port_) +
           " -U postgres -d postgres";
  }

  static int FreePort() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
  }

  // unixODBC reads its driver list from $ODBCSYSINI/odbcinst.ini (the tests must not depend on
  // how the machine registered psqlODBC), and keeps the directory it first read for the rest of
  // the process. So the file lives in one directory per process that no server's destruction
  // removes: a second server of the same test binary would otherwise leave unixODBC looking in
  // a deleted directory, and "PostgreSQL Unicode" could no longer be loaded.
  static Status WriteOdbcIni() {
    const std::string driver = DriverPath();
    if (driver.empty()) {
      return Status::NotFound("psqlodbcw.so not found: install odbc-postgresql");
    }
    static const std::string dir = "/tmp/aq_odbc_ini_" + std::to_string(getpid());
    static const struct RemoveAtExit {
      ~RemoveAtExit() { (void)std::system(("rm -rf " + dir).c_str()); }
    } remove_at_exit;
    (void)remove_at_exit;
    if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::IoError("cannot create " + dir);
    }
    AQ_RETURN_IF_ERROR(
        WriteFile(dir + "/odbcinst.ini",
                  "[PostgreSQL Unicode]\nDescription=psqlODBC\nDriver=" + driver + "\n"));
    AQ_RETURN_IF_ERROR(WriteFile(dir + "/odbc.ini", ""));
    setenv("ODBCSYSINI", dir.c_str(), 1);
    setenv("ODBCINI", (dir + "/odbc.ini").c_str(), 1);
    return Status::OK();
  }

  Status LoadInitSql(const std::string& init_sql_path, const std::string& csv_dir) {
    std::ifstream in(init_sql_path);
    if (!in) {
      return Status::NotFound("cannot read " + init_sql_path);
    }
    std::stringstream text;
    text << in.rdbuf();
    std::string sql = text.str();
    const std::string from = "COPY temp_readings FROM '/opt/";
    const std::string to = "\\copy temp_readings FROM '" + csv_dir + "/";
    for (size_t p = sql.find(from); p != std::string::npos; p = sql.find(from, p + to.size())) {
      sql.replace(p, from.size(), to);
    }
    // \copy is a psql meta-command and must sit on one line, without the trailing ';'.
    std::string fixed;
    std::istringstream lines(sql);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("\\copy", 0) == 0 && !line.empty() && line.back() == ';') {
        line.pop_back();
      }
      fixed += line + "\n";
    }
    return Psql(fixed).status();
  }

  std::string dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace aqueducts::odbc::testing
