/* laws.core: one table, filled by each area's opener (LuaSocket's mod[] list). */
#include "laws_lua.h"

LUALIB_API int luaopen_laws_core(lua_State *L);

static const lua_CFunction mods[] = {
  laws_hash_open, laws_sigv4_open, laws_http_open, laws_retry_open, laws_time_open, laws_multi_open, NULL
};

LUALIB_API int luaopen_laws_core(lua_State *L) {
  int i, top;
  lua_newtable(L);
  top = lua_gettop(L);
  for (i = 0; mods[i] != NULL; i++) {
    mods[i](L);
    lua_settop(L, top);
  }
  lua_pushliteral(L, "laws.core 0.1");
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
