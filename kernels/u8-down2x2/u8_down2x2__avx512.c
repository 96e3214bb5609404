/* u8-down2x2/u8_down2x2__avx512.c - 2x2 box downscale, AVX-512BW: pair sums
 * by pmaddubsw with ones, rows added with the rounding 2, shift, vpmovwb to
 * bytes: 32 outputs per step, masked for the row's tail. */
#if defined(__x86_64__)
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx2,fma")
#include "variants.h"

#include <immintrin.h>

void pr_u8_down2x2__avx512(const uint8_t *src, size_t w, size_t h, size_t stride, uint8_t *dst,
                           size_t dstride)
{
    const __m512i ones = _mm512_set1_epi8(1), two = _mm512_set1_epi16(2);
    size_t ow = w / 2, oh = h / 2;
    for (size_t y = 0; y < oh; y++) {
        const uint8_t *r0 = src + 2 * y * stride, *r1 = r0 + stride;
        uint8_t *o = dst + y * dstride;
        for (size_t x = 0; x < ow;) {
            /* r outputs read 2 r bytes of each row: a 64-bit input mask. */
            size_t r = ow - x < 32 ? ow - x : 32;
            __mmask64 mi = r == 32 ? ~0ull : (1ull << (2 * r)) - 1;
            __m512i a = _mm512_maskz_loadu_epi8(mi, r0 + 2 * x);
            __m512i b = _mm512_maskz_loadu_epi8(mi, r1 + 2 * x);
            __m512i s = _mm512_add_epi16(_mm512_maddubs_epi16(a, ones), _mm512_maddubs_epi16(b, ones));
            s = _mm512_srli_epi16(_mm512_add_epi16(s, two), 2);
            _mm512_mask_cvtepi16_storeu_epi8(o + x, (__mmask32)((1ull << r) - 1), s);
            x += r;
        }
    }
}
#endif
