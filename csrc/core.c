/* laws.core: one table, filled by each area's opener (LuaSocket's mod[] list), and what every
 * area shares: the error metatable and the shape of userdata metatables. */
#include "laws_lua.h"

LUALIB_API int luaopen_laws_core(lua_State *L);

static const lua_CFunction mods[] = {
  laws_hash_open, laws_sigv4_open, laws_http_open, laws_retry_open, laws_time_open, laws_multi_open, NULL
};

void laws_class_open(lua_State *L, const char *mt, const luaL_Reg *methods, lua_CFunction close,
                     lua_CFunction tostring) {
  luaL_newmetatable(L, mt);
  lua_newtable(L);
  if (methods != NULL) luaL_setfuncs(L, methods, 0);
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "close");
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, close);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushstring(L, mt);
  lua_setfield(L, -2, "__name");
  lua_pop(L, 1);
}

int laws_push_udname(lua_State *L, int idx, int closed) {
  const char *name = "userdata";
  if (luaL_getmetafield(L, idx, "__name")) {
    if (lua_type(L, -1) == LUA_TSTRING) name = lua_tostring(L, -1);
    lua_pop(L, 1);  /* the name stays anchored by the metatable */
  }
  if (closed) lua_pushfstring(L, "%s (closed)", name);
  else lua_pushfstring(L, "%s (%p)", name, lua_touserdata(L, idx));
  return 1;
}

LUALIB_API int luaopen_laws_core(lua_State *L) {
  int i, top;
  lua_newtable(L);
  top = lua_gettop(L);
  /* The metatable of every error value laws makes, C or Lua: owned here so C never depends on
   * a Lua module having run first. laws.errors fills in __index, __tostring... */
  luaL_newmetatable(L, LAWS_ERROR_MT);
  lua_pushliteral(L, LAWS_ERROR_MT);
  lua_setfield(L, -2, "__name");
  lua_setfield(L, top, "error_mt");
  for (i = 0; mods[i] != NULL; i++) {
    mods[i](L);
    lua_settop(L, top);
  }
  lua_pushliteral(L, "laws.core 0.1");
  lua_setfield(L, -2, "_VERSION");
  return 1;
}
