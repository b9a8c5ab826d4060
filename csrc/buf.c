/* laws_buf (buf.h): growth, wiping, release. */
#include "buf.h"

#include <stdlib.h>
#include <openssl/crypto.h>
#ifdef __linux__
#include <sys/mman.h>
#define HAVE_MREMAP 1
#endif

/* Moves b to a block of cap bytes; 0, or -1 (b unchanged) when out of memory. */
static int move_to(laws_buf *b, size_t cap) {
  char *p;
  int mapped = 0;
#ifdef HAVE_MREMAP
  if (cap >= LAWS_BUF_MAPPED && b->mapped) {   /* the pages move: nothing to copy or wipe */
    p = mremap(b->p, b->cap, cap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED) return -1;
    b->p = p;
    b->cap = cap;
    return 0;
  }
  if (cap >= LAWS_BUF_MAPPED) {
    p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -1;
    mapped = 1;
  } else
#endif
  {
    p = malloc(cap);  /* no realloc: the old heap block is wiped before it is freed */
    if (p == NULL) return -1;
  }
  if (b->p) {         /* a heap block here: a mapping only ever grows by mremap above */
    memcpy(p, b->p, b->len);
    OPENSSL_cleanse(b->p, b->cap);
    free(b->p);
  }
  b->p = p;
  b->cap = cap;
  b->mapped = mapped;
  return 0;
}

int laws_buf_reserve(laws_buf *b, size_t n) {
  if (b->oom) return -1;
  if (n > ((size_t)-1) - b->len - 1) { b->oom = 1; return -1; }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1) {
      if (cap > ((size_t)-1) / 2) { b->oom = 1; return -1; }
      cap *= 2;
    }
    if (move_to(b, cap) != 0) { b->oom = 1; return -1; }
    b->p[b->len] = '\0';
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
#ifdef HAVE_MREMAP
  if (b->p && b->mapped) {
    OPENSSL_cleanse(b->p, b->len);  /* pages past len were never written */
    munmap(b->p, b->cap);
    b->p = NULL;
  }
#endif
  if (b->p) {
    OPENSSL_cleanse(b->p, b->cap);
    free(b->p);
  }
  memset(b, 0, sizeof *b);
}
