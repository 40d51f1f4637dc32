#include "CPNGShim.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MESSAGE_CAPACITY = 256 };

// libpng's error callback: keep the message, then unwind to the setjmp of the running shim function.
static void on_error(png_structp png, png_const_charp message) {
    char *buffer = png_get_error_ptr(png);
    snprintf(buffer, MESSAGE_CAPACITY, "%s", message);
    png_longjmp(png, 1);
}

// Warnings (bad ancillary chunks, sRGB profile notes) do not stop decoding and are not reported.
static void on_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

// ---- Reading -------------------------------------------------------------------------------------------------

struct cpng_reader {
    png_structp png;
    png_infop info;
    const uint8_t *data;
    size_t size;
    size_t offset;
    int header_read;
    png_bytep *rows;
    char message[MESSAGE_CAPACITY];
};

static void read_bytes(png_structp png, png_bytep out, size_t length) {
    cpng_reader *reader = png_get_io_ptr(png);
    if (length > reader->size - reader->offset) {
        png_error(png, "the data ends before the image does: the file is truncated");
    }
    memcpy(out, reader->data + reader->offset, length);
    reader->offset += length;
}

cpng_reader *cpng_reader_create(const uint8_t *data, size_t size) {
    cpng_reader *reader = calloc(1, sizeof(cpng_reader));
    if (reader == NULL) return NULL;
    reader->data = data;
    reader->size = size;
    reader->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader->message, on_error, on_warning);
    if (reader->png != NULL) reader->info = png_create_info_struct(reader->png);
    if (reader->png == NULL || reader->info == NULL) {
        cpng_reader_destroy(reader);
        return NULL;
    }
    png_set_read_fn(reader->png, reader, read_bytes);
    return reader;
}

void cpng_reader_destroy(cpng_reader *reader) {
    if (reader == NULL) return;
    png_destroy_read_struct(&reader->png, reader->info != NULL ? &reader->info : NULL, NULL);
    free(reader->rows);
    free(reader);
}

int cpng_reader_read_header(cpng_reader *reader, uint32_t *width, uint32_t *height) {
    if (setjmp(png_jmpbuf(reader->png))) return -1;
    // The caller applies its own pixel limit; lift libpng's 1M x 1M default so that limit decides.
    png_set_user_limits(reader->png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
    png_read_info(reader->png, reader->info);
    *width = png_get_image_width(reader->png, reader->info);
    *height = png_get_image_height(reader->png, reader->info);
    reader->header_read = 1;
    return 0;
}

int cpng_reader_read_rgb(cpng_reader *reader, uint8_t *rgb, size_t capacity) {
    png_structp png = reader->png;
    png_infop info = reader->info;
    if (setjmp(png_jmpbuf(png))) return -1;
    if (!reader->header_read || reader->rows != NULL) png_error(png, "cpng_reader_read_rgb called out of order");

    png_byte color_type = png_get_color_type(png, info);
    png_byte bit_depth = png_get_bit_depth(png, info);
    if (bit_depth == 16) png_set_strip_16(png);  // keep the high byte, as Pillow does for 16-bit RGB(A)
    if (color_type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_set_strip_alpha(png);  // also removes the alpha that palette expansion adds for a tRNS chunk
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    png_uint_32 width = png_get_image_width(png, info);
    png_uint_32 height = png_get_image_height(png, info);
    if (png_get_channels(png, info) != 3 || png_get_bit_depth(png, info) != 8
        || png_get_rowbytes(png, info) != (size_t)width * 3) {
        png_error(png, "the PNG layout did not convert to 8-bit RGB");
    }
    if (capacity / 3 / width < height) png_error(png, "the output buffer is too small for the PNG image");

    reader->rows = malloc((size_t)height * sizeof(png_bytep));
    if (reader->rows == NULL) png_error(png, "out of memory for the PNG row table");
    for (png_uint_32 y = 0; y < height; y++) reader->rows[y] = rgb + (size_t)y * width * 3;
    png_read_image(png, reader->rows);
    // png_read_end is not called: the pixels are complete here, and a missing or damaged trailer (IEND, text
    // chunks) should not fail an image whose pixels are intact, as it does not in Pillow.
    return 0;
}

const char *cpng_reader_message(const cpng_reader *reader) { return reader->message; }

// ---- Writing -------------------------------------------------------------------------------------------------

struct cpng_writer {
    png_structp png;
    png_infop info;
    uint8_t *data;
    size_t size;
    size_t capacity;
    int used;
    png_bytep *rows;
    char message[MESSAGE_CAPACITY];
};

static void write_bytes(png_structp png, png_bytep bytes, size_t length) {
    cpng_writer *writer = png_get_io_ptr(png);
    if (length > writer->capacity - writer->size) {
        size_t capacity = writer->capacity > 0 ? writer->capacity : 4096;
        while (length > capacity - writer->size) {
            if (capacity > SIZE_MAX / 2) png_error(png, "the encoded PNG is too large for memory");
            capacity *= 2;
        }
        uint8_t *data = realloc(writer->data, capacity);
        if (data == NULL) png_error(png, "out of memory for the encoded PNG");
        writer->data = data;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->size, bytes, length);
    writer->size += length;
}

static void flush_nothing(png_structp png) { (void)png; }

cpng_writer *cpng_writer_create(void) {
    cpng_writer *writer = calloc(1, sizeof(cpng_writer));
    if (writer == NULL) return NULL;
    writer->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, writer->message, on_error, on_warning);
    if (writer->png != NULL) writer->info = png_create_info_struct(writer->png);
    if (writer->png == NULL || writer->info == NULL) {
        cpng_writer_destroy(writer);
        return NULL;
    }
    png_set_write_fn(writer->png, writer, write_bytes, flush_nothing);
    return writer;
}

void cpng_writer_destroy(cpng_writer *writer) {
    if (writer == NULL) return;
    png_destroy_write_struct(&writer->png, writer->info != NULL ? &writer->info : NULL);
    free(writer->rows);
    free(writer->data);
    free(writer);
}

int cpng_writer_encode(cpng_writer *writer, uint32_t width, uint32_t height, int color_type, int bit_depth,
                       int interlaced, const uint8_t *rows, size_t row_bytes,
                       const uint8_t *palette, int palette_entries,
                       const uint8_t *transparency, int transparency_entries) {
    png_structp png = writer->png;
    png_infop info = writer->info;
    if (setjmp(png_jmpbuf(png))) return -1;
    if (writer->used) png_error(png, "cpng_writer_encode called twice on one writer");
    writer->used = 1;

    png_set_IHDR(png, info, width, height, bit_depth, color_type,
                 interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (palette_entries > 0) {
        if (palette_entries > PNG_MAX_PALETTE_LENGTH) png_error(png, "a PNG palette holds at most 256 colours");
        png_color colors[PNG_MAX_PALETTE_LENGTH];
        for (int i = 0; i < palette_entries; i++) {
            colors[i].red = palette[3 * i];
            colors[i].green = palette[3 * i + 1];
            colors[i].blue = palette[3 * i + 2];
        }
        png_set_PLTE(png, info, colors, palette_entries);
    }
    if (transparency_entries > 0) png_set_tRNS(png, info, transparency, transparency_entries, NULL);
    png_write_info(png, info);

    if (png_get_rowbytes(png, info) != row_bytes) png_error(png, "the PNG row length does not match the layout");
    writer->rows = malloc((size_t)height * sizeof(png_bytep));
    if (writer->rows == NULL) png_error(png, "out of memory for the PNG row table");
    for (uint32_t y = 0; y < height; y++) writer->rows[y] = (png_bytep)(rows + (size_t)y * row_bytes);
    png_write_image(png, writer->rows);
    png_write_end(png, NULL);
    return 0;
}

const uint8_t *cpng_writer_data(const cpng_writer *writer) { return writer->data; }

size_t cpng_writer_size(const cpng_writer *writer) { return writer->size; }

const char *cpng_writer_message(const cpng_writer *writer) { return writer->message; }
