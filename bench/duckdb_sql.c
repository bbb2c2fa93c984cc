/* Bare DuckDB, for baselines: runs each argument as SQL on a fresh in-memory database through the
 * C API (no Aqueducts code at all) and prints the wall time of the whole run on stderr.
 * Usage: duckdb_sql [--threads N] [--memory 4GB] "SQL" ["SQL" ...] */
#include <duckdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double Now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char** argv) {
  double start = Now();
  duckdb_config config;
  duckdb_create_config(&config);
  int first = 1;
  while (first + 1 < argc && strncmp(argv[first], "--", 2) == 0) {
    if (strcmp(argv[first], "--threads") == 0) {
      duckdb_set_config(config, "threads", argv[first + 1]);
    } else if (strcmp(argv[first], "--memory") == 0) {
      duckdb_set_config(config, "memory_limit", argv[first + 1]);
    }
    first += 2;
  }
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  duckdb_database db;
  char* error = NULL;
  if (duckdb_open_ext(NULL, &db, config, &error) != DuckDBSuccess) {
    fprintf(stderr, "open failed: %s\n", error ? error : "?");
    return 1;
  }
  duckdb_destroy_config(&config);
  duckdb_connection con;
  duckdb_connect(db, &con);
  for (int i = first; i < argc; i++) {
    duckdb_result result;
    if (duckdb_query(con, argv[i], &result) != DuckDBSuccess) {
      fprintf(stderr, "query failed: %s\n", duckdb_result_error(&result));
      duckdb_destroy_result(&result);
      return 1;
    }
    if (duckdb_column_count(&result) > 0 && duckdb_row_count(&result) == 1 &&
        duckdb_column_count(&result) == 1) {
      char* v = duckdb_value_varchar(&result, 0, 0);
      if (v) {
        printf("%s\n", v);
        duckdb_free(v);
      }
    }
    duckdb_destroy_result(&result);
  }
  duckdb_disconnect(&con);
  duckdb_close(&db);
  fprintf(stderr, "elapsed %.3f\n", Now() - start);
  return 0;
}
