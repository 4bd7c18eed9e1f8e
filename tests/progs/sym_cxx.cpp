// sym_cxx.cpp — C++ names for the symbolizer's demangling checks: a
// namespace, a template member function, a clone (.isra/.constprop at -O2)
// and an inlined static helper.
#include <cstdio>

namespace ns {
template <typename T> struct Box {
  T v;
  __attribute__((noinline)) T get(int k) const { return v * k; }
};
} // namespace ns

static inline int helper(int x) { return x * 3; }

__attribute__((noinline)) int compute(int a, double b) {
  ns::Box<int> bx{a};
  return bx.get(helper(a)) + static_cast<int>(b);
}

int main(int argc, char **) {
  std::printf("%d\n", compute(argc, 2.0));
  return 0;
}
