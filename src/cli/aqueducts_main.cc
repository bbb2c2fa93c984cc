#include <cstdio>
#include <exception>

#include "cli/app.h"

int main(int argc, char** argv) {
  try {
    return aqueducts::cli::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aqueducts: internal error: %s\nThis is a bug; please report it.\n",
                 e.what());
    return 1;
  }
}
