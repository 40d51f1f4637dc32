// SHA-256 block compression on the x86 SHA extensions (SHA-NI), which Swift cannot reach. Header only: the
// functions carry their own target attributes, so the module needs no compiler flags and the caller checks
// `bottleneck_sha256_hardware_available` before using them.
#pragma once
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

/// Whether this CPU has the SHA extensions (CPUID leaf 7, EBX bit 29) and SSE4.1 (leaf 1, ECX bit 19).
static inline int bottleneck_sha256_hardware_available(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 19))) return 0;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ebx & (1u << 29)) != 0;
}

/// Compresses `blocks` consecutive 64-byte blocks of `data` into `state` (the eight working words, FIPS 180-4
/// order a..h). `constants` are the 64 round constants K.
__attribute__((target("sha,sse4.1,ssse3")))
static inline void bottleneck_sha256_compress_hardware(uint32_t state[8], const uint8_t *data, size_t blocks,
                                                       const uint32_t constants[64]) {
    // The rounds instruction keeps the state as two vectors, (a, b, e, f) and (c, d, g, h), highest lane first.
    __m128i abcd = _mm_loadu_si128((const __m128i *)state);
    __m128i efgh = _mm_loadu_si128((const __m128i *)(state + 4));
    __m128i badc = _mm_shuffle_epi32(abcd, 0xB1);
    __m128i hgfe = _mm_shuffle_epi32(efgh, 0x1B);
    __m128i abef = _mm_alignr_epi8(badc, hgfe, 8);
    __m128i cdgh = _mm_blend_epi16(hgfe, badc, 0xF0);
    // Message words are big-endian.
    const __m128i byteSwap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);

    for (size_t block = 0; block < blocks; block++, data += 64) {
        const __m128i abefBefore = abef, cdghBefore = cdgh;
        __m128i words[4];  // message words 4g .. 4g + 3 of group g at words[g % 4]
        for (int group = 0; group < 16; group++) {
            __m128i *current = &words[group & 3];
            if (group < 4) {
                *current = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * group)), byteSwap);
            } else {
                // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16]: msg1 adds s0 to the words 16 back, the
                // alignr picks the words 7 back, msg2 adds s1 of the words 2 back.
                const __m128i previous = words[(group - 1) & 3], beforePrevious = words[(group - 2) & 3];
                __m128i sum = _mm_sha256msg1_epu32(*current, words[(group - 3) & 3]);
                sum = _mm_add_epi32(sum, _mm_alignr_epi8(previous, beforePrevious, 4));
                *current = _mm_sha256msg2_epu32(sum, previous);
            }
            __m128i roundInput = _mm_add_epi32(*current, _mm_loadu_si128((const __m128i *)(constants + 4 * group)));
            cdgh = _mm_sha256rnds2_epu32(cdgh, abef, roundInput);
            roundInput = _mm_shuffle_epi32(roundInput, 0x0E);
            abef = _mm_sha256rnds2_epu32(abef, cdgh, roundInput);
        }
        abef = _mm_add_epi32(abef, abefBefore);
        cdgh = _mm_add_epi32(cdgh, cdghBefore);
    }

    __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
    _mm_storeu_si128((__m128i *)state, _mm_blend_epi16(feba, dchg, 0xF0));
    _mm_storeu_si128((__m128i *)(state + 4), _mm_alignr_epi8(dchg, feba, 8));
}
#else
static inline int bottleneck_sha256_hardware_available(void) { return 0; }
static inline void bottleneck_sha256_compress_hardware(uint32_t state[8], const uint8_t *data, size_t blocks,
                                                       const uint32_t constants[64]) {
    (void)state; (void)data; (void)blocks; (void)constants;
}
#endif
