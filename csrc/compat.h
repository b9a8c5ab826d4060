/* Lua 5.1 (LuaJIT) .. 5.4 differences, for binding files only. Pure C parts never include this. */
#ifndef LAWS_COMPAT_H
#define LAWS_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 501 || LUA_VERSION_NUM > 504
#error "laws supports Lua 5.1 (and LuaJIT) to 5.4"
#endif

#if LUA_VERSION_NUM == 501
#define LAWS_LUA51 1
#define lua_rawlen(L, i) lua_objlen((L), (i))
#define luaL_setfuncs_compat(L, l) luaL_register((L), NULL, (l))
static inline void laws_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
static inline void *laws_testudata(lua_State *L, int ud, const char *tname) {
  void *p = lua_touserdata(L, ud);
  if (p != NULL && lua_getmetatable(L, ud)) {
    luaL_getmetatable(L, tname);
    if (!lua_rawequal(L, -1, -2)) p = NULL;
    lua_pop(L, 2);
    return p;
  }
  return NULL;
}
#define luaL_testudata(L, i, t) laws_testudata((L), (i), (t))
#define luaL_setmetatable(L, t) laws_setmetatable((L), (t))
#define lua_absindex(L, i) (((i) > 0 || (i) <= LUA_REGISTRYINDEX) ? (i) : lua_gettop(L) + (i) + 1)
#else
#define luaL_setfuncs_compat(L, l) luaL_setfuncs((L), (l), 0)
#endif

#if LUA_VERSION_NUM < 503
#define lua_isinteger(L, i) 0
#endif

/* lua_newuserdatauv exists from 5.4; one user value is all we use. */
#if LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#endif

#endif
