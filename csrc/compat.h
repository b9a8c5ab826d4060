/* Lua 5.1 (and LuaJIT 2.1) .. 5.4 differences, for binding files only. Pure C parts never
 * include this. Write bindings against the 5.4 API below; this header fills in what older
 * versions lack. Things it cannot paper over (keep them out of bindings):
 *   - yields from C (lua_yieldk / lua_callk): LuaJIT cannot resume a C function;
 *   - integer subtypes: 5.1/5.2 numbers are doubles (lua_isinteger is 0 there), so read
 *     integers with luaL_checkinteger / lua_tointegerx and range-check them;
 *   - more than one user value per userdata (5.1 has one environment table).
 * Every macro defined here is built by `make LUA=5.1|5.2|5.3|luajit` (spec/luas_spec.lua). */
#ifndef LAWS_COMPAT_H
#define LAWS_COMPAT_H

#include <lua.h>
#include <lauxlib.h>

#if !defined(LUA_VERSION_NUM) || LUA_VERSION_NUM < 501 || LUA_VERSION_NUM > 504
#error "laws supports Lua 5.1 (and LuaJIT) to 5.4"
#endif

#ifndef LUA_OK
#define LUA_OK 0
#endif

#if LUA_VERSION_NUM == 501
#define LAWS_LUA51 1

/* Our own definitions, macro-renamed: LuaJIT 2.1 declares some of these, plain 5.1 does
 * not, and the headers give no portable way to tell them apart. */
static inline int laws_absindex(lua_State *L, int i) {
  return (i > 0 || i <= LUA_REGISTRYINDEX) ? i : lua_gettop(L) + i + 1;
}
#define lua_absindex(L, i) laws_absindex((L), (i))

#define lua_rawlen(L, i) lua_objlen((L), (i))

static inline void laws_setfuncs(lua_State *L, const luaL_Reg *l, int nup) {
  luaL_checkstack(L, nup + 1, "too many upvalues");
  for (; l->name != NULL; l++) {
    int i;
    for (i = 0; i < nup; i++) lua_pushvalue(L, -nup);
    lua_pushcclosure(L, l->func, nup);
    lua_setfield(L, -(nup + 2), l->name);
  }
  lua_pop(L, nup);
}
#define luaL_setfuncs(L, l, n) laws_setfuncs((L), (l), (n))

#undef luaL_newlibtable
#undef luaL_newlib
#define luaL_newlibtable(L, l) lua_createtable((L), 0, (int)(sizeof(l) / sizeof((l)[0]) - 1))
#define luaL_newlib(L, l) (luaL_newlibtable((L), (l)), luaL_setfuncs((L), (l), 0))

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

static inline void laws_setmetatable(lua_State *L, const char *tname) {
  luaL_getmetatable(L, tname);
  lua_setmetatable(L, -2);
}
#define luaL_setmetatable(L, t) laws_setmetatable((L), (t))

static inline lua_Integer laws_tointegerx(lua_State *L, int i, int *isnum) {
  lua_Integer n = lua_tointeger(L, i);
  if (isnum != NULL) *isnum = (n != 0 || lua_isnumber(L, i));
  return n;
}
#define lua_tointegerx(L, i, p) laws_tointegerx((L), (i), (p))

static inline lua_Number laws_tonumberx(lua_State *L, int i, int *isnum) {
  lua_Number n = lua_tonumber(L, i);
  if (isnum != NULL) *isnum = (n != 0 || lua_isnumber(L, i));
  return n;
}
#define lua_tonumberx(L, i, p) laws_tonumberx((L), (i), (p))

static inline void laws_rawgetp(lua_State *L, int t, const void *p) {
  t = laws_absindex(L, t);
  lua_pushlightuserdata(L, (void *)p);
  lua_rawget(L, t);
}
#define lua_rawgetp(L, t, p) (laws_rawgetp((L), (t), (p)), lua_type((L), -1))

static inline void laws_rawsetp(lua_State *L, int t, const void *p) {
  t = laws_absindex(L, t);
  lua_pushlightuserdata(L, (void *)p);
  lua_insert(L, -2);
  lua_rawset(L, t);
}
#define lua_rawsetp(L, t, p) laws_rawsetp((L), (t), (p))

static inline lua_Integer laws_len(lua_State *L, int i) {
  return (lua_Integer)lua_objlen(L, i);
}
#define luaL_len(L, i) laws_len((L), (i))

/* A traceback for pcall message handlers; LuaJIT has luaL_traceback, plain 5.1 does not,
 * so use debug.traceback which both have. */
static inline void laws_traceback(lua_State *L, lua_State *L1, const char *msg, int level) {
  (void)L1;
  lua_getglobal(L, "debug");
  lua_getfield(L, -1, "traceback");
  lua_remove(L, -2);
  if (msg) lua_pushstring(L, msg); else lua_pushnil(L);
  lua_pushinteger(L, level);
  lua_call(L, 2, 1);
}
#define luaL_traceback(L, L1, m, l) laws_traceback((L), (L1), (m), (l))

/* The one user value: 5.1 keeps it as the userdata's environment (a table). */
#define lua_setuservalue(L, i) lua_setfenv((L), (i))
#define lua_getuservalue(L, i) (lua_getfenv((L), (i)), lua_type((L), -1))

#define lua_pushglobaltable(L) lua_pushvalue((L), LUA_GLOBALSINDEX)
#define luaL_checkversion(L) ((void)0)
#endif /* 5.1 */

#if LUA_VERSION_NUM < 503
/* 5.3 made the lua_get* functions return the value's type; bindings may rely on it. A
 * macro naming itself is not re-expanded, so these call the real functions. */
#define lua_getfield(L, i, k) (lua_getfield((L), (i), (k)), lua_type((L), -1))
#define lua_rawgeti(L, i, n) (lua_rawgeti((L), (i), (n)), lua_type((L), -1))
#define lua_rawget(L, i) (lua_rawget((L), (i)), lua_type((L), -1))
#define lua_gettable(L, i) (lua_gettable((L), (i)), lua_type((L), -1))
#define lua_isinteger(L, i) 0
#endif

#if LUA_VERSION_NUM == 502
#define lua_rawgetp(L, t, p) (lua_rawgetp((L), (t), (p)), lua_type((L), -1))
#undef lua_getuservalue
#define lua_getuservalue(L, i) (lua_getuservalue((L), (i)), lua_type((L), -1))
#endif

/* lua_newuserdatauv exists from 5.4; one user value is all laws uses. */
#if LUA_VERSION_NUM < 504
#define lua_newuserdatauv(L, sz, nuv) lua_newuserdata((L), (sz))
#define lua_getiuservalue(L, i, n) lua_getuservalue((L), (i))
static inline int laws_setiuservalue(lua_State *L, int i, int n) {
  (void)n;
  lua_setuservalue(L, i);
  return 1;
}
#define lua_setiuservalue(L, i, n) laws_setiuservalue((L), (i), (n))
#endif

/* Kept for bindings written against the first version of this header. */
#define luaL_setfuncs_compat(L, l) luaL_setfuncs((L), (l), 0)

#endif
