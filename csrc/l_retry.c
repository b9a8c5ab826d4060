/* Binding for the retry maths: backoff schedules, the retry quota and the adaptive rate
 * limiter. Translation only: the arithmetic lives in backoff.c, quota.c and
 * ratelimiter.c. Nothing here calls Lua code. (Clocks, sleep and ids: l_time.c.) */
#include "laws_lua.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "quota.h"
#include "ratelimiter.h"

/* Each userdata is an open flag then the plain state. They hold no resource, but follow the
 * house lifecycle all the same (closed until it is open; one idempotent release for close,
 * __gc and __close; a closed one refuses use), so every laws.core object behaves alike. */
typedef struct { int open; laws_backoff b; } lbackoff;
typedef struct { int open; laws_quota q; } lquota;
typedef struct { int open; laws_ratelimiter rl; } lratelimiter;

/* The object at 1 of type mt, raising if it is closed: open is the first member of each. */
static void *check_open(lua_State *L, const char *mt, const char *noun) {
  int *open = luaL_checkudata(L, 1, mt);
  if (!*open) luaL_error(L, "attempt to use a closed %s", noun);
  return open;
}

/* Releases (wipes) the object at 1 of type mt and size n; again is a no-op. */
static int release(lua_State *L, const char *mt, size_t n) {
  memset(luaL_checkudata(L, 1, mt), 0, n);
  return 0;
}

static int push_name(lua_State *L, const char *mt) {
  int *open = luaL_checkudata(L, 1, mt);
  return laws_push_udname(L, 1, !*open);
}

static int l_backoff_close(lua_State *L) { return release(L, LAWS_BACKOFF_MT, sizeof(lbackoff)); }
static int l_quota_close(lua_State *L) { return release(L, LAWS_QUOTA_MT, sizeof(lquota)); }
static int l_ratelimiter_close(lua_State *L) { return release(L, LAWS_RATELIMITER_MT, sizeof(lratelimiter)); }
static int l_backoff_tostring(lua_State *L) { return push_name(L, LAWS_BACKOFF_MT); }
static int l_quota_tostring(lua_State *L) { return push_name(L, LAWS_QUOTA_MT); }
static int l_ratelimiter_tostring(lua_State *L) { return push_name(L, LAWS_RATELIMITER_MT); }

/* A seed from Lua: an integer (or a float with an integer value). */
static uint64_t check_seed(lua_State *L, int idx) {
  lua_Number n = luaL_checknumber(L, idx);
  luaL_argcheck(L, n == floor(n) && fabs(n) < 9007199254740992.0, idx, "seed must be an integer");
  return (uint64_t)(int64_t)n;
}

/* ---- backoff objects ---- */

static double opt_field(lua_State *L, int t, const char *k, double dflt) {
  double v = dflt;
  lua_getfield(L, t, k);
  if (!lua_isnil(L, -1)) {
    if (!lua_isnumber(L, -1)) luaL_error(L, "backoff option '%s' must be a number", k);
    v = lua_tonumber(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* A count from a Lua number: a C cast of NaN or of a value out of int range is undefined
 * behaviour, so NaN and negatives become 0 and huge values 1e9 ("no practical limit"). */
static int count_of(double v) {
  if (!(v >= 0)) return 0;
  return v > 1e9 ? 1000000000 : (int)v;
}

/* core.backoff_new{ kind = "exponential"|"constant"|"linear", base, cap, jitter,
 * max_attempts, max_elapsed, seed }: laws.backoff has validated the user's options. */
static int l_backoff_new(lua_State *L) {
  static const char *const kinds[] = { "exponential", "constant", "linear", NULL };
  lbackoff *u;
  laws_backoff *b;
  int kind;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "kind");
  kind = luaL_checkoption(L, -1, "exponential", kinds);
  lua_pop(L, 1);
  u = lua_newuserdatauv(L, sizeof *u, 0);
  u->open = 0;
  luaL_setmetatable(L, LAWS_BACKOFF_MT);
  b = &u->b;
  laws_backoff_init(b, kind, opt_field(L, 1, "base", 0.05));
  b->prev = b->base;
  b->cap = opt_field(L, 1, "cap", 0);
  b->max_attempts = count_of(opt_field(L, 1, "max_attempts", 0));
  b->max_elapsed = opt_field(L, 1, "max_elapsed", 0);
  lua_getfield(L, 1, "jitter");
  if (!lua_isnil(L, -1)) {
    b->jitter = laws_backoff_jitter_from_name(luaL_checkstring(L, -1));
    if (b->jitter < 0) return luaL_error(L, "unknown jitter '%s'", lua_tostring(L, -1));
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "seed");
  if (!lua_isnil(L, -1)) laws_rng_seed(&b->rng, check_seed(L, lua_gettop(L)));
  lua_pop(L, 1);
  u->open = 1;
  return 1;
}

static laws_backoff *check_backoff(lua_State *L) {
  return &((lbackoff *)check_open(L, LAWS_BACKOFF_MT, "backoff schedule"))->b;
}

/* b:next(attempt, elapsed) -> delay | nil */
static int l_backoff_next(lua_State *L) {
  laws_backoff *b = check_backoff(L);
  lua_Number attempt = luaL_checknumber(L, 2);
  double d = laws_backoff_next(b, count_of(attempt), luaL_optnumber(L, 3, 0));
  if (d < 0) lua_pushnil(L);
  else lua_pushnumber(L, d);
  return 1;
}

/* b:fork() -> a copy with its own state for one call, its RNG seeded from this one's,
 * so a seeded policy gives the same sequence call after call in a test. */
static int l_backoff_fork(lua_State *L) {
  laws_backoff *b = check_backoff(L);
  lbackoff *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->open = 0;
  luaL_setmetatable(L, LAWS_BACKOFF_MT);
  u->b = *b;
  u->b.prev = u->b.base;
  laws_rng_seed(&u->b.rng, laws_rng_next(&b->rng));
  u->open = 1;
  return 1;
}

/* ---- retry quota ---- */

static laws_quota *check_quota(lua_State *L) {
  return &((lquota *)check_open(L, LAWS_QUOTA_MT, "retry quota"))->q;
}

static int l_quota_new(lua_State *L) {
  lua_Integer cap = luaL_optinteger(L, 1, 500);
  lquota *u;
  luaL_argcheck(L, cap >= 0 && cap <= 1000000000, 1, "capacity out of range");
  u = lua_newuserdatauv(L, sizeof *u, 0);
  u->open = 0;
  luaL_setmetatable(L, LAWS_QUOTA_MT);
  laws_quota_init(&u->q, (int)cap);
  u->open = 1;
  return 1;
}

static int check_amount(lua_State *L, int idx) {
  lua_Integer n = luaL_checkinteger(L, idx);
  luaL_argcheck(L, n >= 0 && n <= 1000000000, idx, "amount out of range");
  return (int)n;
}

static int l_quota_acquire(lua_State *L) {
  laws_quota *q = check_quota(L);
  lua_pushboolean(L, laws_quota_acquire(q, check_amount(L, 2)));
  return 1;
}

static int l_quota_release(lua_State *L) {
  laws_quota *q = check_quota(L);
  laws_quota_release(q, check_amount(L, 2));
  return 0;
}

static int l_quota_available(lua_State *L) {
  lua_pushinteger(L, laws_quota_available(check_quota(L)));
  return 1;
}

/* ---- adaptive rate limiter ---- */

static laws_ratelimiter *check_rl(lua_State *L) {
  return &((lratelimiter *)check_open(L, LAWS_RATELIMITER_MT, "rate limiter"))->rl;
}

static int l_ratelimiter_new(lua_State *L) {
  double now = luaL_checknumber(L, 1);
  lratelimiter *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->open = 0;
  luaL_setmetatable(L, LAWS_RATELIMITER_MT);
  laws_ratelimiter_init(&u->rl, now);
  u->open = 1;
  return 1;
}

static int l_ratelimiter_acquire(lua_State *L) {
  laws_ratelimiter *rl = check_rl(L);
  lua_pushnumber(L, laws_ratelimiter_acquire(rl, luaL_checknumber(L, 2)));
  return 1;
}

static int l_ratelimiter_update(lua_State *L) {
  laws_ratelimiter *rl = check_rl(L);
  laws_ratelimiter_update(rl, luaL_checknumber(L, 2), lua_toboolean(L, 3));
  return 0;
}

static int l_ratelimiter_state(lua_State *L) {
  laws_ratelimiter *rl = check_rl(L);
  lua_createtable(L, 0, 5);
  lua_pushboolean(L, rl->enabled); lua_setfield(L, -2, "enabled");
  lua_pushnumber(L, rl->max_rate); lua_setfield(L, -2, "max_rate");
  lua_pushnumber(L, rl->fill_rate); lua_setfield(L, -2, "fill_rate");
  lua_pushnumber(L, rl->measured); lua_setfield(L, -2, "measured_rate");
  lua_pushnumber(L, rl->tokens); lua_setfield(L, -2, "tokens");
  return 1;
}

/* The limiter's state as bytes and back, so nginx workers can keep one limiter in an
 * ngx.shared.DICT (lua/laws/ngx.lua): same build, same struct layout in every worker. */
static int l_ratelimiter_dump(lua_State *L) {
  laws_ratelimiter *rl = check_rl(L);
  lua_pushlstring(L, (const char *)rl, sizeof *rl);
  return 1;
}

static int l_ratelimiter_load(lua_State *L) {
  laws_ratelimiter *rl = check_rl(L);
  size_t n;
  const char *s = luaL_checklstring(L, 2, &n);
  luaL_argcheck(L, n == sizeof *rl, 2, "not a dumped rate limiter");
  memcpy(rl, s, sizeof *rl);
  return 0;
}

int laws_retry_open(lua_State *L) {
  static const luaL_Reg funcs[] = {
    { "backoff_new", l_backoff_new }, { "quota_new", l_quota_new },
    { "ratelimiter_new", l_ratelimiter_new }, { NULL, NULL }
  };
  static const luaL_Reg backoff_m[] = { { "next", l_backoff_next }, { "fork", l_backoff_fork }, { NULL, NULL } };
  static const luaL_Reg quota_m[] = {
    { "acquire", l_quota_acquire }, { "release", l_quota_release },
    { "available", l_quota_available }, { NULL, NULL }
  };
  static const luaL_Reg rl_m[] = {
    { "acquire", l_ratelimiter_acquire }, { "update", l_ratelimiter_update },
    { "state", l_ratelimiter_state }, { "dump", l_ratelimiter_dump }, { "load", l_ratelimiter_load },
    { NULL, NULL }
  };
  laws_class_open(L, LAWS_BACKOFF_MT, backoff_m, l_backoff_close, l_backoff_tostring);
  laws_class_open(L, LAWS_QUOTA_MT, quota_m, l_quota_close, l_quota_tostring);
  laws_class_open(L, LAWS_RATELIMITER_MT, rl_m, l_ratelimiter_close, l_ratelimiter_tostring);
  luaL_setfuncs_compat(L, funcs);
  return 0;
}
