/* Small text scans the Lua side does per call: a Lua pattern costs ~100 instructions a byte. */
#include "text.h"

size_t laws_json_plain_len(const char *s, size_t len) {
  size_t i;
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '"' || c == '\\') break;
  }
  return i;
}
