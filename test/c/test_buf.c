/* csrc/buf.c: the one byte buffer (signer, HTTP layer, bindings). */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "tap.h"

static void test_growth(void) {
  laws_buf b = {0};
  size_t i, growths = 0, cap = 0;
  int ok = 1;
  for (i = 0; i < 100000; i++) {
    laws_buf_addc(&b, (char)('a' + i % 26));
    if (b.cap != cap) { growths++; cap = b.cap; }
  }
  TAP_OK(!b.oom && b.len == 100000, "100000 one-byte appends");
  TAP_OK(growths <= 10, "capacity grows geometrically (%zu growths)", growths);
  for (i = 0; i < b.len; i++) if (b.p[i] != (char)('a' + i % 26)) ok = 0;
  TAP_OK(ok && b.p[b.len] == '\0', "content kept across growths, NUL-terminated");
  laws_buf_free(&b);
  TAP_OK(b.p == NULL && b.len == 0 && b.cap == 0 && !b.oom, "free resets the buffer");
}

static void test_appends(void) {
  laws_buf b = {0};
  TAP_OK(laws_buf_append(&b, NULL, 0) == 0 && b.p == NULL, "an empty append allocates nothing");
  laws_buf_adds(&b, "name");
  laws_buf_append(&b, "", 1);  /* an embedded NUL counts as a byte */
  laws_buf_add(&b, "value", 5);
  TAP_OK(b.len == 10 && memcmp(b.p, "name\0value", 10) == 0, "add, adds and append write in order");
  laws_buf_clear(&b);
  TAP_OK(b.len == 0 && b.p != NULL && b.p[0] == '\0' && b.cap >= 256, "clear keeps the block");
  laws_buf_adds(&b, "again");
  TAP_STREQ(b.p, "again", "a cleared buffer is reused");
  laws_buf_free(&b);
}

static void test_oom(void) {
  laws_buf b = {0};
  laws_buf_adds(&b, "kept");
  /* a length no allocation can hold: the buffer says so instead of wrapping around */
  laws_buf_add(&b, "x", SIZE_MAX - 2);
  TAP_OK(b.oom, "an impossible growth sets oom");
  TAP_OK(b.len == 4 && strcmp(b.p, "kept") == 0, "the failed append wrote nothing");
  laws_buf_adds(&b, "more");
  TAP_OK(b.oom, "oom stays set across later appends");
  TAP_OK(laws_buf_append(&b, "y", 1) == -1, "append answers -1 once out of memory");
  laws_buf_clear(&b);
  TAP_OK(!b.oom && laws_buf_append(&b, "y", 1) == 0, "clear makes it usable again");
  laws_buf_free(&b);
}

static void test_mapped(void) {
  laws_buf b = {0};
  char chunk[4096];
  size_t i, bad = 0;
  for (i = 0; i < 1024; i++) {   /* 4 MiB: crosses LAWS_BUF_MAPPED and grows past it twice */
    memset(chunk, (int)(i & 0xff), sizeof chunk);
    laws_buf_add(&b, chunk, sizeof chunk);
  }
  TAP_OK(!b.oom && b.len == 4096u * 1024, "4 MiB in 4 KiB appends");
#ifdef __linux__
  TAP_OK(b.mapped && b.cap >= LAWS_BUF_MAPPED, "a block of LAWS_BUF_MAPPED bytes or more is a mapping");
#else
  TAP_OK(!b.mapped, "no mappings without mremap");
#endif
  for (i = 0; i < b.len; i++) if ((unsigned char)b.p[i] != ((i / 4096) & 0xff)) bad++;
  TAP_OK(bad == 0 && b.p[b.len] == '\0', "content kept across mapped growths (%zu bad bytes)", bad);
  laws_buf_clear(&b);
  laws_buf_adds(&b, "reused");
  TAP_STREQ(b.p, "reused", "a cleared mapped buffer is reused");
  laws_buf_free(&b);
  TAP_OK(b.p == NULL && b.cap == 0 && !b.mapped, "free unmaps and resets");
}

int main(void) {
  test_growth();
  test_appends();
  test_oom();
  test_mapped();
  return TAP_DONE();
}
