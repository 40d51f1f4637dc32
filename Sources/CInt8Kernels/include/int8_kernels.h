// 1x1 convolutions in int8 on AVX-512 VNNI (`vpdpbusd`: four u8 x s8 products summed into each int32 lane), which
// Swift cannot spell. Every function carries its own target attributes, so the module builds with the portable
// flags; callers check `bottleneck_int8_available` first. Only BottleneckEngine's QuantizedPointwiseConvolution
// calls this module.
#pragma once
#include <stddef.h>
#include <stdint.h>

/// Whether this CPU and OS run AVX-512 F/BW/VL/DQ with VNNI (CPUID leaf 7, XCR0 with the opmask and ZMM state).
int bottleneck_int8_available(void);

/// The smallest and largest of `count` (at least 1) floats.
void bottleneck_int8_range(const float *values, size_t count, float *minimum, float *maximum);

/// Quantizes `rows` rows of `channels` floats to u8, `clamp(round(x * inverse_scale) + zero_point, 0, 255)`,
/// writing rows of `output_stride` bytes (a multiple of 4, at least `channels`) whose padding bytes are zero.
void bottleneck_int8_quantize_rows(const float *input, size_t rows, size_t channels, float inverse_scale,
                                   int32_t zero_point, uint8_t *output, size_t output_stride);

/// One quantized 1x1 convolution over NHWC pixels; see QuantizedPointwiseConvolution.swift for the arithmetic.
typedef struct {
    /// u8 pixels, `input_stride` bytes each (input channels rounded up to a multiple of 4).
    const uint8_t *input;
    size_t input_stride;
    /// s8 weights `[panel][input_stride / 4][16 channels][4 inputs]`, zero padded.
    const int8_t *weights;
    size_t output_channels;
    /// Per output channel, padded to whole panels of 16: weight scale, sum of the s8 weights, bias.
    const float *weight_scales;
    const int32_t *weight_sums;
    const float *bias;
    /// Per group of `pixels_per_scale` consecutive pixels (an image row): the activation scale and zero point
    /// they were quantized with.
    const float *scales;
    const int32_t *zero_points;
    size_t pixels_per_scale;
    /// `[pixels][output_channels]` floats added before the clamp, or NULL.
    const float *residual;
    float lower, upper;
    /// `[pixels][output_channels]` floats.
    float *output;
} bottleneck_int8_pointwise;

/// Computes output pixels `first_pixel ..< end_pixel` in the 16-channel panels `first_panel ..< end_panel`
/// (`end_panel` at most the panels `output_channels` fill).
void bottleneck_int8_pointwise_forward(const bottleneck_int8_pointwise *convolution, size_t first_pixel,
                                       size_t end_pixel, size_t first_panel, size_t end_panel);
