#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/app.h"

int main(int argc, char** argv) {
  // An executor that refuses a request before the CLI has sent all of it (413) closes the
  // socket: the write must fail with an error the CLI reports, not end it silently by SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return aqueducts::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aqueducts: internal error: %s\nThis is a bug; please report it.\n",
                 e.what());
    return 1;
  }
}
