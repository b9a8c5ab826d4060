/* Small text scans the Lua side does per call (pure C, no Lua). */
#ifndef LAWS_TEXT_H
#define LAWS_TEXT_H

#include <stddef.h>

/* How many leading bytes of s a JSON string may hold as they are (no '"', '\\' or control
 * byte below 0x20); len when the whole string needs no escaping. */
size_t laws_json_plain_len(const char *s, size_t len);

/* How many leading bytes of s are >= lim (1..128; bytes from 0x80 count as >=): the run
 * before the first control byte, or with lim 0x21 before the first whitespace. Eight bytes
 * at a time: tokens and signatures are hundreds of bytes scanned on every signature. */
size_t laws_span_ge(const char *s, size_t len, unsigned lim);

/* 1 if s holds a control byte (below 0x20, or DEL). */
int laws_has_ctl(const char *s, size_t len);

#endif
