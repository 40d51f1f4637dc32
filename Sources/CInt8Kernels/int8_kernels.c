#include "int8_kernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

#define INT8_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,fma")))

int bottleneck_int8_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 27))) return 0;  // OSXSAVE
    unsigned int xcr0, xcr0High;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(xcr0High) : "c"(0));
    if ((xcr0 & 0xE6) != 0xE6) return 0;  // the OS saves XMM, YMM, opmask and both ZMM halves
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    const unsigned int needed = (1u << 16) | (1u << 17) | (1u << 30) | (1u << 31);  // F, DQ, BW, VL
    return (ebx & needed) == needed && (ecx & (1u << 11)) != 0;                    // VNNI
}

INT8_TARGET void bottleneck_int8_range(const float *values, size_t count, float *minimum, float *maximum) {
    __m512 low = _mm512_set1_ps(values[0]), high = low;
    size_t index = 0;
    for (; index + 16 <= count; index += 16) {
        const __m512 v = _mm512_loadu_ps(values + index);
        low = _mm512_min_ps(low, v);
        high = _mm512_max_ps(high, v);
    }
    if (index < count) {
        const __mmask16 mask = (__mmask16)((1u << (count - index)) - 1);
        low = _mm512_mask_min_ps(low, mask, low, _mm512_maskz_loadu_ps(mask, values + index));
        high = _mm512_mask_max_ps(high, mask, high, _mm512_maskz_loadu_ps(mask, values + index));
    }
    *minimum = _mm512_reduce_min_ps(low);
    *maximum = _mm512_reduce_max_ps(high);
}

INT8_TARGET void bottleneck_int8_quantize_rows(const float *input, size_t rows, size_t channels,
                                               float inverse_scale, int32_t zero_point, uint8_t *output,
                                               size_t output_stride) {
    const __m512 scale = _mm512_set1_ps(inverse_scale);
    const __m512i zero = _mm512_set1_epi32(zero_point), floor = _mm512_setzero_si512();
    for (size_t row = 0; row < rows; row++, input += channels, output += output_stride) {
        for (size_t channel = 0; channel < output_stride; channel += 16) {
            const size_t lanes = output_stride - channel < 16 ? output_stride - channel : 16;
            const size_t valid = channel >= channels ? 0 : (channels - channel < lanes ? channels - channel : lanes);
            const __mmask16 store = (__mmask16)((1u << lanes) - 1), load = (__mmask16)((1u << valid) - 1);
            // Rounds to nearest even (MXCSR default); negative values clamp to 0 before the unsigned narrowing.
            __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(_mm512_maskz_loadu_ps(load, input + channel),
                                                                         scale)), zero);
            q = _mm512_maskz_max_epi32(load, q, floor);
            _mm512_mask_cvtusepi32_storeu_epi8(output + channel, store, q);
        }
    }
}

/// A register tile of `ROWS` pixels x `PANELS` 16-channel panels: the int32 sums stay in zmm registers through
/// the whole input, then bias, zero-point correction, scales, residual and clamp are applied on the way out.
/// Inlined with constant sizes into one function per shape, so the loops unroll and the accumulators stay in
/// registers (at most 6 x 4 = 24 of the 32).
__attribute__((always_inline)) INT8_TARGET static inline void tile(const bottleneck_int8_pointwise *c,
                                                                    size_t first, size_t panel, const int ROWS,
                                                                    const int PANELS) {
    const size_t groups = c->input_stride / 4, panelBytes = groups * 64;
    const uint8_t *input = c->input + first * c->input_stride;
    const int8_t *weights = c->weights + panel * panelBytes;
    // The first group of 4 inputs starts the sums from zero: zeroing the array in a loop of its own becomes a
    // memset through the stack.
    __m512i sums[6][4];
    for (size_t group = 0; group < groups; group++, weights += 64) {
        __m512i w[4];
        for (int p = 0; p < PANELS; p++) w[p] = _mm512_loadu_si512(weights + p * panelBytes);
        for (int r = 0; r < ROWS; r++) {
            int32_t four;
            memcpy(&four, input + r * c->input_stride + group * 4, 4);
            const __m512i x = _mm512_set1_epi32(four);
            for (int p = 0; p < PANELS; p++) {
                sums[r][p] = _mm512_dpbusd_epi32(group == 0 ? _mm512_setzero_si512() : sums[r][p], x, w[p]);
            }
        }
    }
    const __m512 lower = _mm512_set1_ps(c->lower), upper = _mm512_set1_ps(c->upper);
    const size_t channels = c->output_channels;
#pragma clang loop unroll(full)
    for (int r = 0; r < ROWS; r++) {
        const size_t pixel = first + (size_t)r, scaleIndex = pixel / c->pixels_per_scale;
        const __m512 inputScale = _mm512_set1_ps(c->scales[scaleIndex]);
        const __m512i zeroPoint = _mm512_set1_epi32(c->zero_points[scaleIndex]);
#pragma clang loop unroll(full)
        for (int p = 0; p < PANELS; p++) {
            const size_t channel = (panel + (size_t)p) * 16;  // below output_channels: panels end at the last
            const size_t lanes = channels - channel < 16 ? channels - channel : 16;
            const __mmask16 mask = (__mmask16)((1u << lanes) - 1);
            // sum((x_q - z) * w_q) = sum(x_q * w_q) - z * sum(w_q)
            const __m512i centred = _mm512_sub_epi32(sums[r][p], _mm512_mullo_epi32(zeroPoint,
                                                     _mm512_loadu_si512(c->weight_sums + channel)));
            const __m512 scale = _mm512_mul_ps(inputScale, _mm512_loadu_ps(c->weight_scales + channel));
            __m512 value = _mm512_fmadd_ps(_mm512_cvtepi32_ps(centred), scale, _mm512_loadu_ps(c->bias + channel));
            float *out = c->output + pixel * channels + channel;
            if (c->residual) value = _mm512_add_ps(value, _mm512_maskz_loadu_ps(mask, c->residual + pixel * channels
                                                                                       + channel));
            value = _mm512_min_ps(_mm512_max_ps(value, lower), upper);
            _mm512_mask_storeu_ps(out, mask, value);
        }
    }
}

#define TILE_FUNCTION(R, P)                                                                                      \
    INT8_TARGET static void tile_##R##_##P(const bottleneck_int8_pointwise *c, size_t first, size_t panel) {      \
        tile(c, first, panel, R, P);                                                                             \
    }
#define TILE_ROW(R) TILE_FUNCTION(R, 1) TILE_FUNCTION(R, 2) TILE_FUNCTION(R, 3) TILE_FUNCTION(R, 4)
TILE_ROW(1) TILE_ROW(2) TILE_ROW(3) TILE_ROW(4) TILE_ROW(5) TILE_ROW(6)
#define TILE_ENTRY(R) {tile_##R##_1, tile_##R##_2, tile_##R##_3, tile_##R##_4}

typedef void (*tile_function)(const bottleneck_int8_pointwise *, size_t, size_t);
static const tile_function tiles[6][4] = {TILE_ENTRY(1), TILE_ENTRY(2), TILE_ENTRY(3),
                                          TILE_ENTRY(4), TILE_ENTRY(5), TILE_ENTRY(6)};

void bottleneck_int8_pointwise_forward(const bottleneck_int8_pointwise *convolution, size_t first_pixel,
                                       size_t end_pixel, size_t first_panel, size_t end_panel) {
    // Panels outside, pixels inside: a group of 4 panels' weights (64 bytes per 4 input channels, 72 KB at 1152
    // inputs) is fetched once and then read from L1/L2 by every tile of pixels, whose u8 rows stay in L2.
    for (size_t panel = first_panel; panel < end_panel; panel += 4) {
        const size_t panels = end_panel - panel < 4 ? end_panel - panel : 4;
        for (size_t pixel = first_pixel; pixel < end_pixel; pixel += 6) {
            const size_t rows = end_pixel - pixel < 6 ? end_pixel - pixel : 6;
            tiles[rows - 1][panels - 1](convolution, pixel, panel);
        }
    }
}

#else
int bottleneck_int8_available(void) { return 0; }
void bottleneck_int8_range(const float *values, size_t count, float *minimum, float *maximum) {
    (void)values; (void)count; (void)minimum; (void)maximum;
}
void bottleneck_int8_quantize_rows(const float *input, size_t rows, size_t channels, float inverse_scale,
                                   int32_t zero_point, uint8_t *output, size_t output_stride) {
    (void)input; (void)rows; (void)channels; (void)inverse_scale; (void)zero_point; (void)output;
    (void)output_stride;
}
void bottleneck_int8_pointwise_forward(const bottleneck_int8_pointwise *convolution, size_t first_pixel,
                                       size_t end_pixel, size_t first_panel, size_t end_panel) {
    (void)convolution; (void)first_pixel; (void)end_pixel; (void)first_panel; (void)end_panel;
}
#endif
