/* Response header lines from a hostile server: feed the input, split at '\n', to the header
 * callback (also after it asked to stop, as on a too large Content-Length), then walk the
 * "name\0value\0" list the binding walks and check its shape. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  laws_http_xfer x;
  const char *p = (const char *)data, *end = p + size;
  size_t i, off = 0;
  memset(&x, 0, sizeof x);
  x.max_body = 4096;  /* so Content-Length values go through the cap check (and status lines) */
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
    char *line = malloc(n ? n : 1); /* a separate allocation, so ASan sees any over-read */
    memcpy(line, p, n);
    laws_http_header_line(&x, line, n);
    free(line);
    p += n;
  }
  for (i = 0; i < 2 * x.nhead; i++) {
    size_t l = strnlen(x.head.p + off, x.head.len - off);
    if (off + l >= x.head.len) abort();       /* every string NUL-terminated inside the buffer */
    if (i % 2 == 0) {
      size_t k;
      if (l == 0) abort();                     /* names are never empty */
      for (k = 0; k < l; k++) {
        char c = x.head.p[off + k];
        if (c >= 'A' && c <= 'Z') abort();     /* names lower-cased */
      }
    }
    off += l + 1;
  }
  if (off != x.head.len) abort();              /* nothing beyond the announced headers */
  laws_buf_free(&x.head);
  return 0;
}
