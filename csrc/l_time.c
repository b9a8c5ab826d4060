/* Binding for time and ids: the monotonic and wall clocks, sleep, and v4 UUIDs from OS
 * randomness. Translation only: the work is in clock.c and rng.c. */
#include "laws_lua.h"

#include <math.h>

#include "clock.h"
#include "rng.h"

static int l_monotonic(lua_State *L) { lua_pushnumber(L, laws_clock_monotonic()); return 1; }
static int l_wall_time(lua_State *L) { lua_pushnumber(L, laws_clock_wall()); return 1; }

static int l_sleep(lua_State *L) {
  double s = luaL_checknumber(L, 1);
  luaL_argcheck(L, !isnan(s), 1, "delay is NaN");
  laws_clock_sleep(s);
  return 0;
}

static int l_uuid4(lua_State *L) {
  char out[37];
  if (laws_uuid4(out) != 0) return luaL_error(L, "getrandom failed");
  lua_pushstring(L, out);
  return 1;
}

int laws_time_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "monotonic", l_monotonic }, { "wall_time", l_wall_time }, { "sleep", l_sleep },
    { "uuid4", l_uuid4 }, { NULL, NULL }
  };
  luaL_setfuncs_compat(L, funcs);
  return 0;
}
