/* Placeholder: the http area fills this in. Adds nothing to laws.core yet. */
#include "laws_lua.h"

int laws_http_open(lua_State *L) {
  (void)L;
  return 0;
}
