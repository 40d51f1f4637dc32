// CGlibcCompat provides no API to call: it only defines `hypotf` for the linker (see GlibcCompat.c), so that the
// static-stdlib Lambda `bootstrap` needs no glibc symbol newer than provided.al2023's glibc 2.34.
