/* Small text scans the Lua side does per call (pure C, no Lua). */
#ifndef LAWS_TEXT_H
#define LAWS_TEXT_H

#include <stddef.h>

/* How many leading bytes of s a JSON string may hold as they are (no '"', '\\' or control
 * byte below 0x20); len when the whole string needs no escaping. */
size_t laws_json_plain_len(const char *s, size_t len);

#endif
