/* Small text scans the Lua side does per call: a Lua pattern costs ~100 instructions a byte. */
#include "text.h"

#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Nonzero when a byte of x is below n (n <= 128): exact as a yes/no answer. */
static uint64_t has_below(uint64_t x, unsigned n) { return (x - ONES * n) & ~x & HIGHS; }

size_t laws_span_ge(const char *s, size_t len, unsigned lim) {
  size_t i = 0;
#ifdef __SSE2__
  {  /* sixteen at a time: a byte is below lim when min(byte, lim - 1) is the byte */
    __m128i top = _mm_set1_epi8((char)(lim - 1));
    for (; i + 16 <= len; i += 16) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
      int m = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, top), x));
      if (m) return i + (size_t)__builtin_ctz((unsigned)m);
    }
  }
#endif
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (has_below(x, lim)) break;
  }
  while (i < len && (unsigned char)s[i] >= lim) i++;
  return i;
}

int laws_has_ctl(const char *s, size_t len) {
  size_t i = 0;
#ifdef __SSE2__
  {
    __m128i top = _mm_set1_epi8(0x1f), del = _mm_set1_epi8(0x7f);
    for (; i + 16 <= len; i += 16) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
      if (_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, top), x), _mm_cmpeq_epi8(x, del))))
        return 1;
    }
  }
#endif
  for (; i + 8 <= len; i += 8) {
    uint64_t x;
    memcpy(&x, s + i, 8);
    if (has_below(x, 0x20) || has_below(x ^ (ONES * 0x7f), 1)) break;
  }
  for (; i < len; i++)
    if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f) return 1;
  return 0;
}

size_t laws_json_plain_len(const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '"' || c == '\\') break;
  }
  return i;
}
