/* laws_buf: the one growable byte buffer of laws (pure C, no lua.h). The signer builds its
 * canonical request and headers in it, the HTTP layer its response head and body, the
 * bindings their scratch lines.
 *
 *   laws_buf b = {0};             empty, nothing allocated
 *   laws_buf_add(&b, s, n) ...    appends; p[len] is always '\0' once p != NULL
 *   if (b.oom) ...                one check at the end: a failed growth sets oom, which stays
 *                                 set (the content is then incomplete) until laws_buf_clear;
 *                                 laws_buf_append answers -1 from then on
 *   laws_buf_free(&b)             wipes, frees, back to empty
 *
 * Capacity doubles, so appending n bytes costs O(n) overall. Growth moves to a fresh block and
 * wipes the old one instead of realloc: these buffers hold signatures, session tokens and
 * response bodies that may carry credentials, and realloc would leave copies in freed memory.
 * Blocks of LAWS_BUF_MAPPED bytes and more (response bodies) are mappings of their own that grow
 * with mremap: the pages move, no copy is made (a body near its cap would otherwise need twice
 * the cap while it is copied), and unmapped pages go back to the kernel, never to the heap. */
#ifndef LAWS_BUF_H
#define LAWS_BUF_H

#include <stddef.h>
#include <string.h>

#define LAWS_BUF_MAPPED ((size_t)1 << 20)

typedef struct laws_buf {
  char *p;
  size_t len, cap;  /* cap > len whenever p != NULL (room for the '\0') */
  int oom;
  int mapped;       /* p is a mapping of its own (mmap/mremap), not a heap block */
} laws_buf;

void laws_buf_grow_add(laws_buf *b, const void *s, size_t n); /* slow path of laws_buf_add */
/* Room for n more bytes (and the '\0') without moving: 0, or -1 (oom set) when out of memory.
 * Writers then fill p + len directly and set len (and p[len] = '\0') themselves. */
int laws_buf_reserve(laws_buf *b, size_t n);

/* A signature appends a few hundred small pieces: the common case stays inline. */
static inline void laws_buf_add(laws_buf *b, const void *s, size_t n) {
  if (n < b->cap - b->len) {
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
  } else {
    laws_buf_grow_add(b, s, n);
  }
}

static inline void laws_buf_addc(laws_buf *b, char c) {
  if (1 < b->cap - b->len) {
    b->p[b->len++] = c;
    b->p[b->len] = '\0';
  } else {
    laws_buf_grow_add(b, &c, 1);
  }
}

void laws_buf_adds(laws_buf *b, const char *s);                 /* a C string */
int laws_buf_append(laws_buf *b, const void *s, size_t n);      /* add; 0, or -1 when out of memory */
void laws_buf_clear(laws_buf *b);  /* wipes the content, keeps the block for reuse (oom cleared) */
void laws_buf_free(laws_buf *b);   /* wipes, then frees */

#endif
