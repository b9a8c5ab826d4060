/* Exercises every name csrc/compat.h provides; spec/luas_spec.lua builds this against each
 * Lua's headers (5.1, 5.2, 5.3, 5.4, LuaJIT) with the project's warning flags and runs it. */
#include "compat.h"

#define PROBE_MT "laws.compat_probe"

int luaopen_compat_probe(lua_State *L);

/* getfield/rawgeti/rawget/gettable return the type; rawlen and luaL_len agree. */
static int p_types(lua_State *L) {
  int tf, tr, tg, tt;
  luaL_checktype(L, 1, LUA_TTABLE);
  tf = lua_getfield(L, 1, "name");
  tr = lua_rawgeti(L, 1, 1);
  lua_pushliteral(L, "missing");
  tg = lua_rawget(L, 1);
  lua_pushliteral(L, "name");
  tt = lua_gettable(L, 1);
  lua_settop(L, 1);
  lua_pushboolean(L, tf == LUA_TSTRING && tr == LUA_TNUMBER && tg == LUA_TNIL && tt == LUA_TSTRING);
  lua_pushinteger(L, (lua_Integer)lua_rawlen(L, 1));
  lua_pushinteger(L, luaL_len(L, 1));
  return 3;
}

static int p_tointegerx(lua_State *L) {
  int ok = 0;
  lua_Integer n = lua_tointegerx(L, 1, &ok);
  if (!ok) { lua_pushnil(L); return 1; }
  lua_pushinteger(L, n);
  return 1;
}

/* A userdata with a metatable and one user value, checked with luaL_testudata. */
static int p_box(lua_State *L) {
  int *p = (int *)lua_newuserdatauv(L, sizeof(int), 1);
  *p = (int)luaL_checkinteger(L, 1);
  luaL_setmetatable(L, PROBE_MT);
  lua_newtable(L);
  lua_pushvalue(L, 2);
  lua_setfield(L, -2, "v");
  lua_setiuservalue(L, -2, 1);
  return 1;
}

static int p_unbox(lua_State *L) {
  int *p = (int *)luaL_testudata(L, 1, PROBE_MT);
  if (p == NULL) { lua_pushnil(L); return 1; }
  lua_pushinteger(L, *p);
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "v");
  lua_remove(L, -2);
  return 2;
}

/* The upvalue given through luaL_setfuncs, and lua_rawgetp/lua_rawsetp on it. */
static const char key = 'k';
static int p_upvalue(lua_State *L) {
  int t;
  lua_pushvalue(L, 1);
  lua_rawsetp(L, lua_upvalueindex(1), &key);
  t = lua_rawgetp(L, lua_upvalueindex(1), &key);
  lua_pushboolean(L, t == lua_type(L, 1));
  lua_insert(L, -2);
  return 2;
}

static int p_traceback(lua_State *L) {
  luaL_traceback(L, L, luaL_checkstring(L, 1), 1);
  return 1;
}

static int p_absindex(lua_State *L) {
  lua_pushinteger(L, lua_absindex(L, -1));
  return 1;
}

static const luaL_Reg plain[] = {
  { "types", p_types }, { "tointegerx", p_tointegerx }, { "box", p_box },
  { "unbox", p_unbox }, { "traceback", p_traceback }, { "absindex", p_absindex },
  { NULL, NULL }
};
static const luaL_Reg with_up[] = { { "upvalue", p_upvalue }, { NULL, NULL } };

int luaopen_compat_probe(lua_State *L) {
  luaL_checkversion(L);
  luaL_newmetatable(L, PROBE_MT);
  lua_pop(L, 1);
  luaL_newlib(L, plain);
  lua_newtable(L);
  luaL_setfuncs(L, with_up, 1);
  lua_pushglobaltable(L);
  lua_setfield(L, -2, "globals");
  return 1;
}
