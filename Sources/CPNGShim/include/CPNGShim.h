// A setjmp-safe wrapper around libpng for reading and writing PNG images in memory.
//
// libpng reports errors by longjmp, which must never cross a Swift frame. Every function here that calls into
// libpng sets its own setjmp point first and turns a libpng error into a -1 return plus a message that
// `cpng_*_message` returns. This module provides no stable API: only BottleneckImages/PNGCodec.swift uses it.
#ifndef CPNGSHIM_H
#define CPNGSHIM_H

#include <stddef.h>
#include <stdint.h>

// ---- Reading -------------------------------------------------------------------------------------------------

/// Decodes one PNG image held in memory. Read the header first, check its size, then read the pixels.
typedef struct cpng_reader cpng_reader;

/// Creates a reader over `size` bytes at `data`, which are not copied and must outlive the reader.
/// Returns NULL only when memory runs out.
cpng_reader *cpng_reader_create(const uint8_t *data, size_t size);

/// Frees the reader and everything it allocated.
void cpng_reader_destroy(cpng_reader *reader);

/// Reads the signature and every chunk before the image data, and reports the image size.
/// Allocates nothing in proportion to the image. Returns 0, or -1 with `cpng_reader_message` set.
int cpng_reader_read_header(cpng_reader *reader, uint32_t *width, uint32_t *height);

/// Decodes the image as 8-bit RGB (`width * height * 3` bytes, rows top to bottom) into `rgb`, which holds
/// `capacity` bytes. 16-bit samples keep their high byte, gray is replicated, palettes are expanded, alpha and
/// tRNS transparency are dropped. Call once, after `cpng_reader_read_header` succeeded. Returns 0 or -1.
int cpng_reader_read_rgb(cpng_reader *reader, uint8_t *rgb, size_t capacity);

/// The message of the last error, or "" when there was none.
const char *cpng_reader_message(const cpng_reader *reader);

// ---- Writing -------------------------------------------------------------------------------------------------

/// Encodes one PNG image into a growing memory buffer.
typedef struct cpng_writer cpng_writer;

/// Creates a writer, or returns NULL when memory runs out.
cpng_writer *cpng_writer_create(void);

/// Frees the writer and its output buffer.
void cpng_writer_destroy(cpng_writer *writer);

/// Encodes one image; a writer encodes at most once.
///
/// `color_type` and `bit_depth` are PNG's own codes (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA).
/// `rows` holds `height` rows of `row_bytes` bytes each, packed as PNG stores them (16-bit samples big-endian,
/// depths below 8 packed from the most significant bit). `palette` holds `palette_entries` RGB triples and
/// `transparency` `transparency_entries` alpha values (palette images only); pass NULL and 0 when absent.
/// Returns 0, or -1 with `cpng_writer_message` set.
int cpng_writer_encode(cpng_writer *writer, uint32_t width, uint32_t height, int color_type, int bit_depth,
                       int interlaced, const uint8_t *rows, size_t row_bytes,
                       const uint8_t *palette, int palette_entries,
                       const uint8_t *transparency, int transparency_entries);

/// The encoded bytes after a successful `cpng_writer_encode`, owned by the writer.
const uint8_t *cpng_writer_data(const cpng_writer *writer);

/// The number of encoded bytes.
size_t cpng_writer_size(const cpng_writer *writer);

/// The message of the last error, or "" when there was none.
const char *cpng_writer_message(const cpng_writer *writer);

#endif
