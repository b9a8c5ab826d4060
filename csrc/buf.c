/* laws_buf (buf.h): growth, wiping, release. */
#include "buf.h"

#include <stdlib.h>
#include <openssl/crypto.h>

int laws_buf_reserve(laws_buf *b, size_t n) {
  if (b->oom) return -1;
  if (n > ((size_t)-1) - b->len - 1) { b->oom = 1; return -1; }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *p;
    while (cap < b->len + n + 1) {
      if (cap > ((size_t)-1) / 2) { b->oom = 1; return -1; }
      cap *= 2;
    }
    p = malloc(cap);  /* no realloc: the old block is wiped before it is freed */
    if (p == NULL) { b->oom = 1; return -1; }
    if (b->p) {
      memcpy(p, b->p, b->len);
      OPENSSL_cleanse(b->p, b->cap);
      free(b->p);
    }
    p[b->len] = '\0';
    b->p = p;
    b->cap = cap;
  }
  return 0;
}

void laws_buf_grow_add(laws_buf *b, const void *s, size_t n) {
  if (b->oom || n == 0) return;
  if (laws_buf_reserve(b, n) != 0) return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void laws_buf_adds(laws_buf *b, const char *s) { laws_buf_add(b, s, strlen(s)); }

int laws_buf_append(laws_buf *b, const void *s, size_t n) {
  if (n > 0) laws_buf_add(b, s, n);
  return b->oom ? -1 : 0;
}

void laws_buf_clear(laws_buf *b) {
  if (b->p) {
    OPENSSL_cleanse(b->p, b->len);
    b->p[0] = '\0';
  }
  b->len = 0;
  b->oom = 0;
}

void laws_buf_free(laws_buf *b) {
  if (b->p) {
    OPENSSL_cleanse(b->p, b->cap);
    free(b->p);
  }
  memset(b, 0, sizeof *b);
}
