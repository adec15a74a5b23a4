// Placeholder until this component is built (see the open issues).
#include <cstdio>

int main() {
  std::fprintf(stderr, "not implemented\n");
  return 1;
}
