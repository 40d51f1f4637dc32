// Lets the Lambda `bootstrap`, linked against the Swift stdlib statically on a newer system (Debian 12: glibc 2.36,
// GCC 12's libstdc++), load on AWS Lambda's provided.al2023, which has glibc 2.34 and GCC 11's libstdc++.
//
// The dynamic loader refuses to start a binary that needs a symbol version its libraries lack. The static Swift
// libraries pull in three such references, each redefined here so the call resolves inside the executable and is
// forwarded to an older export of the same code:
// - `hypotf@GLIBC_2.35` (libswiftGlibc.a) and `hypot@GLIBC_2.35` (libFoundation.a): glibc 2.35 versioned them anew
//   when it dropped the SVID error wrappers. `hypotf32@GLIBC_2.27` and `hypotf64@GLIBC_2.27` are glibc's aliases of
//   those very implementations (float and double on x86-64 and arm64).
// - `std::condition_variable::wait(std::unique_lock<std::mutex>&)@GLIBCXX_3.4.30` (lib_FoundationICU.a): GCC 12
//   versioned it anew; the `GLIBCXX_3.4.11` export, the only one of GCC 11, does the same wait.
// `bottleneck package-lambda` checks with objdump that nothing in the package needs newer versions than these.
//
// Nothing imports this module: linking it into the executable is what matters (SwiftPM links every object file of
// a target's dependencies).

#if defined(__linux__)
#define _GNU_SOURCE 1
#include <math.h>  // defines __GLIBC__ (through features.h) when the C library is glibc
#endif

#if defined(__GLIBC__)
#if __GLIBC_PREREQ(2, 27)
// Tail calls to differently named symbols (checked in the disassembly): no recursion into these definitions.
float hypotf(float x, float y) { return hypotf32(x, y); }
double hypot(double x, double y) { return hypotf64(x, y); }
#endif

#if defined(__x86_64__) || defined(__aarch64__)
// The mangled name of `void std::condition_variable::wait(std::unique_lock<std::mutex>&)`: `self` is the
// condition variable, `lock` the unique_lock. `.symver` binds the forwarding declaration to the GLIBCXX_3.4.11 export.
void bottleneck_condition_variable_wait_3_4_11(void *self, void *lock);
__asm__(".symver bottleneck_condition_variable_wait_3_4_11,"
        "_ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");
void _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *self, void *lock) {
    bottleneck_condition_variable_wait_3_4_11(self, lock);
}
#endif
#endif
