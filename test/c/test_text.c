/* Text scans used per call from Lua (csrc/text.c) and URI encoding with '/' kept
 * (csrc/sigv4_canon.c): what core.json_plain and core.uri_encode translate. */
#include <string.h>

#include "sigv4.h"
#include "tap.h"
#include "text.h"

static void enc_is(const char *in, size_t len, int keep, const char *want) {
  laws_buf b = {0};
  laws_uri_encode_ex(&b, in, len, keep);
  TAP_STREQ(b.p ? b.p : "", want, "uri_encode_ex('%s', keep_slash=%d)", in, keep);
  laws_buf_free(&b);
}

int main(void) {
  TAP_OK(laws_json_plain_len("", 0) == 0, "json: empty string is plain");
  TAP_OK(laws_json_plain_len("abc-123 d/e", 11) == 11, "json: letters, space, slash are plain");
  TAP_OK(laws_json_plain_len("ab\"c", 4) == 2, "json: a quote stops the plain run");
  TAP_OK(laws_json_plain_len("a\\b", 3) == 1, "json: a backslash stops it");
  TAP_OK(laws_json_plain_len("ab\ncd", 5) == 2, "json: a newline stops it");
  TAP_OK(laws_json_plain_len("\x1f", 1) == 0 && laws_json_plain_len(" ", 1) == 1, "json: 0x1f escaped, 0x20 not");
  TAP_OK(laws_json_plain_len("a\0b", 3) == 1, "json: an embedded NUL is escaped");
  TAP_OK(laws_json_plain_len("\xc3\xa9\x7f", 3) == 3, "json: UTF-8 and DEL are plain");

  {  /* the eight-bytes-at-a-time scans against a byte loop, every position and limit */
    char buf[40];
    size_t at, n, want;
    unsigned lim;
    int ok = 1;
    for (lim = 1; lim <= 128 && ok; lim += 31) {
      for (at = 0; at < 24 && ok; at++) {
        for (n = 0; n < sizeof buf; n++) buf[n] = (char)(0x80 + (n * 37) % 0x7f);  /* >= 0x80: above any lim */
        buf[at] = (char)(lim - 1);
        for (n = 0; n <= 24 && ok; n++) {
          want = at < n ? at : n;
          if (laws_span_ge(buf, n, lim) != want) ok = 0;
        }
      }
    }
    TAP_OK(ok, "span_ge: stops at the first byte below the limit, wherever it is");
    TAP_OK(laws_span_ge("abc def", 7, 0x21) == 3 && laws_span_ge("\xff\xfe", 2, 0x21) == 2, "span_ge: whitespace, high bytes");
    ok = 1;
    for (at = 0; at < 24 && ok; at++) {
      memset(buf, 'a', sizeof buf);
      buf[at] = 0x7f;
      if (!laws_has_ctl(buf, 24) || laws_has_ctl(buf, at)) ok = 0;
      buf[at] = '\t';
      if (!laws_has_ctl(buf, 24) || laws_has_ctl(buf, at)) ok = 0;
      buf[at] = ' ';
      if (laws_has_ctl(buf, 24)) ok = 0;
    }
    TAP_OK(ok, "has_ctl: DEL and bytes below 0x20 anywhere, space is fine");
  }

  TAP_OK(laws_uri_plain_len("AZaz09-._~", 10, 0) == 10, "uri: unreserved bytes are plain");
  TAP_OK(laws_uri_plain_len("a/b", 3, 0) == 1 && laws_uri_plain_len("a/b", 3, 1) == 3, "uri: '/' plain only with keep_slash");
  enc_is("a b/c", 5, 0, "a%20b%2Fc");
  enc_is("a b/c", 5, 1, "a%20b/c");
  enc_is("\xc3\xa9+=&", 5, 0, "%C3%A9%2B%3D%26");
  enc_is("", 0, 1, "");
  enc_is("a\0b", 3, 0, "a%00b");
  {  /* the sixteen-at-a-time encoder against a byte-by-byte one: every byte value at every
      * position of a 40-byte plain string, with and without keep_slash */
    static const char hex[] = "0123456789ABCDEF";
    char in[40], want[130];
    int v, at, keep, ok = 1;
    for (keep = 0; keep <= 1 && ok; keep++)
      for (v = 0; v < 256 && ok; v++)
        for (at = 0; at < 40 && ok; at++) {
          laws_buf b = {0};
          size_t i, n = 0;
          for (i = 0; i < sizeof in; i++) in[i] = "aZ09-._~"[i % 8];
          in[at] = (char)v;
          for (i = 0; i < sizeof in; i++) {
            unsigned char c = (unsigned char)in[i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                c == '.' || c == '_' || c == '~' || (keep && c == '/')) {
              want[n++] = (char)c;
            } else {
              want[n++] = '%'; want[n++] = hex[c >> 4]; want[n++] = hex[c & 15];
            }
          }
          laws_uri_encode_ex(&b, in, sizeof in, keep);
          if (b.len != n || memcmp(b.p, want, n) != 0) ok = 0;
          laws_buf_free(&b);
        }
    TAP_OK(ok, "uri: the block encoder matches a byte-by-byte encoder for every byte anywhere");
  }
  return TAP_DONE();
}
