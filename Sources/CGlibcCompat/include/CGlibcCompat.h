// CGlibcCompat provides no API to call: it only defines three symbols for the linker (see GlibcCompat.c), so that
// the static-stdlib Lambda `bootstrap` needs no symbol version newer than provided.al2023's glibc 2.34 and GCC 11's
// libstdc++: `hypotf` and `hypot` (forwarded to glibc's `hypotf32` and `hypotf64`), and
// `std::condition_variable::wait(std::unique_lock<std::mutex>&)` (forwarded to its GLIBCXX_3.4.11 export).
