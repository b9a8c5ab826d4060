/* Internal to sigv4*.c: canonicalisation pieces shared by the signer and its tests. */
#ifndef LAWS_SIGV4_INT_H
#define LAWS_SIGV4_INT_H
#include "sigv4.h"

typedef struct {
  const char *k, *v, *orig; /* orig: the header name as given (sort tie-break) */
  size_t kl, vl, idx;
} laws_kv;

/* Canonical query string of q (as on the wire) plus extra raw (unencoded) pairs.
 * strs/arr are scratch buffers reused between calls. */
void laws_canon_query(laws_buf *out, laws_buf *strs, laws_buf *arr, const char *q, size_t qlen,
                      const laws_kv *extra, size_t nextra);
/* Canonical header block ("name:value\n" each) and signed-header list of the headers whose
 * skip[i] is 0, plus extra (already lower-case, canonical) headers. */
void laws_canon_headers(laws_buf *canon, laws_buf *signed_list, laws_buf *strs, laws_buf *arr,
                        const laws_sigv4_header *h, size_t n, const unsigned char *skip,
                        const laws_sigv4_header *extra, size_t nextra);
#endif
