/* laws.core.multi_new(): the libcurl multi driver (multi.c) for laws.async. Translation only:
 * Lua gives requests and gets back transfer ids; completed transfers are read with
 * m:done(). Nothing here calls Lua functions, so a coroutine may yield around every call. */
#include "laws_lua.h"
#include "multi.h"

#include <ctype.h>
#include <string.h>

#define LAWS_MULTI_MT "laws.multi"

typedef struct {
  laws_multi *m;
  int ref;        /* registry table: transfer id -> lightuserdata laws_xfer* */
  lua_Integer next_id;
} lmulti;

static lmulti *check_open(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m == NULL) luaL_error(L, "attempt to use a closed multi handle");
  return u;
}

static void push_xfers(lua_State *L, lmulti *u) { lua_rawgeti(L, LUA_REGISTRYINDEX, u->ref); }

static int l_new(lua_State *L) {
  lmulti *u = lua_newuserdatauv(L, sizeof *u, 0);
  u->m = NULL;
  u->ref = LUA_NOREF;
  u->next_id = 0;
  luaL_setmetatable(L, LAWS_MULTI_MT);
  lua_newtable(L);
  u->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  u->m = laws_multi_new();
  if (u->m == NULL) return luaL_error(L, "laws.multi: out of memory");
  return 1;
}

static int l_close(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m != NULL) {
    /* every transfer still in the registry table goes back to the pool, then all is freed */
    push_xfers(L, u);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      laws_multi_release(u->m, lua_touserdata(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    laws_multi_free(u->m);
    u->m = NULL;
  }
  if (u->ref != LUA_NOREF) {
    luaL_unref(L, LUA_REGISTRYINDEX, u->ref);
    u->ref = LUA_NOREF;
  }
  return 0;
}

/* The "Name: value" lines of req.headers (a value may be a list: repeated header). */
static size_t collect_headers(lua_State *L, int idx, const char **out, size_t max) {
  size_t n = 0;
  lua_getfield(L, idx, "headers");
  if (lua_isnil(L, -1)) { lua_pop(L, 1); return 0; }
  luaL_argcheck(L, lua_istable(L, -1), 2, "headers must be a table");
  lua_pushnil(L);
  while (lua_next(L, -2) != 0) {
    int j, count = 1, islist = lua_istable(L, -1);
    const char *name;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, 2, "header names must be strings");
    name = lua_tostring(L, -2);
    if (islist) count = (int)lua_rawlen(L, -1);
    for (j = 1; j <= count; j++) {
      const char *v;
      if (islist) lua_rawgeti(L, -1, j); else lua_pushvalue(L, -1);
      v = lua_tostring(L, -1);
      if (v == NULL) luaL_argerror(L, 2, "header values must be strings");
      if (n >= max) luaL_argerror(L, 2, "too many headers");
      luaL_checkstack(L, 4, "headers");
      /* "Name;" is libcurl's way to send a header with an empty value */
      if (*v == '\0') out[n++] = lua_pushfstring(L, "%s;", name);
      else out[n++] = lua_pushfstring(L, "%s: %s", name, v);
      lua_replace(L, -2);
      lua_insert(L, idx + 1);  /* keep the string alive below the iteration state */
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return n;
}

static long opt_ms(lua_State *L, int idx, const char *k) {
  lua_Number s;
  lua_getfield(L, idx, k);
  s = lua_isnil(L, -1) ? 0 : luaL_checknumber(L, -1);
  lua_pop(L, 1);
  return s > 0 ? (long)(s * 1000.0 + 0.5) : 0;
}

static void push_errinfo(lua_State *L, int code, const char *message) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, laws_multi_code_name(code));
  lua_setfield(L, -2, "code");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "curl_code");
}

/* m:submit(req) -> id | nil, errinfo */
static int l_submit(lua_State *L) {
  lmulti *u = check_open(L);
  const char *hdrs[128];
  laws_xfer_req r;
  laws_xfer *x;
  int rc, base;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  memset(&r, 0, sizeof r);
  lua_getfield(L, 2, "url");
  r.url = lua_tostring(L, -1);
  if (r.url == NULL) return luaL_argerror(L, 2, "url (string) required");
  lua_getfield(L, 2, "method");
  r.method = lua_isnil(L, -1) ? "GET" : lua_tostring(L, -1);
  if (r.method == NULL) return luaL_argerror(L, 2, "method must be a string");
  lua_getfield(L, 2, "body");
  if (!lua_isnil(L, -1)) {
    r.body = lua_tolstring(L, -1, &r.body_len);
    if (r.body == NULL) return luaL_argerror(L, 2, "body must be a string");
  }
  r.timeout_ms = opt_ms(L, 2, "timeout");
  r.connect_timeout_ms = opt_ms(L, 2, "connect_timeout");
  base = lua_gettop(L);
  r.headers = hdrs;
  r.nheaders = collect_headers(L, base, hdrs, sizeof hdrs / sizeof hdrs[0]);
  x = laws_multi_xfer(u->m);
  if (x == NULL) { lua_pushnil(L); push_errinfo(L, CURLE_OUT_OF_MEMORY, "out of memory"); return 2; }
  rc = laws_xfer_setup(x, &r);
  if (rc == CURLE_OK) rc = laws_multi_start(u->m, x) == CURLM_OK ? CURLE_OK : CURLE_FAILED_INIT;
  if (rc != CURLE_OK) {
    laws_multi_release(u->m, x);
    lua_pushnil(L);
    push_errinfo(L, rc, curl_easy_strerror((CURLcode)rc));
    return 2;
  }
  x->id = (uint64_t)++u->next_id;
  push_xfers(L, u);
  lua_pushlightuserdata(L, x);
  lua_rawseti(L, -2, (int)u->next_id);
  lua_pushinteger(L, u->next_id);
  return 1;
}

static laws_xfer *take(lua_State *L, lmulti *u, lua_Integer id) {
  laws_xfer *x;
  push_xfers(L, u);
  lua_rawgeti(L, -1, (int)id);
  x = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (x != NULL) {
    lua_pushnil(L);
    lua_rawseti(L, -2, (int)id);
  }
  lua_pop(L, 1);
  return x;
}

/* m:cancel(id) -> true if the transfer was still known (it is removed from the multi) */
static int l_cancel(lua_State *L) {
  lmulti *u = check_open(L);
  laws_xfer *x = take(L, u, luaL_checkinteger(L, 2));
  if (x != NULL) laws_multi_release(u->m, x);
  lua_pushboolean(L, x != NULL);
  return 1;
}

/* m:poll(timeout_s) -> transfers running. Waits for socket events at most timeout_s. */
static int l_poll(lua_State *L) {
  lmulti *u = check_open(L);
  lua_Number t = luaL_optnumber(L, 2, 0);
  const char *err = NULL;
  long ms = t < 0 ? 0 : (t > 86400.0 ? 86400000L : (long)(t * 1000.0 + 0.999));
  int running = laws_multi_wait(u->m, ms, &err);
  if (running < 0) return luaL_error(L, "laws.multi: %s", err ? err : "multi failure");
  lua_pushinteger(L, running);
  return 1;
}

static void push_headers(lua_State *L, const laws_buf *b) {
  size_t i = 0;
  lua_newtable(L);
  while (i < b->n) {
    size_t e = i, c, ve;
    char name[128];
    size_t nl = 0;
    while (e < b->n && b->p[e] != '\n') e++;
    for (c = i; c < e && b->p[c] != ':'; c++) {}
    if (c < e && c > i && c - i < sizeof name) {
      size_t v = c + 1;
      for (nl = 0; nl < c - i; nl++) name[nl] = (char)tolower((unsigned char)b->p[i + nl]);
      while (v < e && (b->p[v] == ' ' || b->p[v] == '\t')) v++;
      ve = e;
      while (ve > v && (b->p[ve - 1] == '\r' || b->p[ve - 1] == ' ')) ve--;
      lua_pushlstring(L, name, nl);
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, b->p + v, ve - v);
      } else {  /* repeated header: joined as HTTP allows */
        lua_pushliteral(L, ", ");
        lua_pushlstring(L, b->p + v, ve - v);
        lua_concat(L, 3);
      }
      lua_rawset(L, -3);
    }
    i = e + 1;
  }
}

/* m:done() -> id, res | id, nil, errinfo | nil (nothing finished) */
static int l_done(lua_State *L) {
  lmulti *u = check_open(L);
  laws_xfer *x = laws_multi_done(u->m);
  lua_Integer id;
  if (x == NULL) return 0;
  id = (lua_Integer)x->id;
  take(L, u, id);
  lua_pushinteger(L, id);
  if (x->result != CURLE_OK) {
    lua_pushnil(L);
    push_errinfo(L, x->result, x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result));
    laws_multi_release(u->m, x);
    return 3;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, x->status);
  lua_setfield(L, -2, "status");
  push_headers(L, &x->res_headers);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, x->res_body.n ? x->res_body.p : "", x->res_body.n);
  lua_setfield(L, -2, "body");
  laws_multi_release(u->m, x);
  return 2;
}

/* m:fds() -> { { fd = n, read = bool, write = bool }, ... } */
static int l_fds(lua_State *L) {
  lmulti *u = check_open(L);
  laws_multi_fd fds[256];
  size_t i, n = laws_multi_fds(u->m, fds, 256);
  if (n > 256) n = 256;
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, fds[i].fd);
    lua_setfield(L, -2, "fd");
    lua_pushboolean(L, fds[i].events & LAWS_FD_READ);
    lua_setfield(L, -2, "read");
    lua_pushboolean(L, fds[i].events & LAWS_FD_WRITE);
    lua_setfield(L, -2, "write");
    lua_rawseti(L, -2, (int)i + 1);
  }
  return 1;
}

/* m:timeout() -> seconds until libcurl's timer is due, or nil */
static int l_timeout(lua_State *L) {
  lmulti *u = check_open(L);
  long ms = laws_multi_timeout_ms(u->m);
  if (ms < 0) return 0;
  lua_pushnumber(L, (lua_Number)ms / 1000.0);
  return 1;
}

static int l_count(lua_State *L) {
  lmulti *u = check_open(L);
  lua_pushinteger(L, (lua_Integer)laws_multi_running(u->m));
  return 1;
}

static const luaL_Reg methods[] = {
  { "submit", l_submit }, { "cancel", l_cancel }, { "poll", l_poll }, { "done", l_done },
  { "fds", l_fds }, { "timeout", l_timeout }, { "count", l_count }, { "close", l_close },
  { NULL, NULL }
};

int laws_multi_open(lua_State *L) {
  if (luaL_newmetatable(L, LAWS_MULTI_MT)) {
    luaL_setfuncs_compat(L, methods);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, l_close);
    lua_setfield(L, -2, "__close");
#endif
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "multi_new");
  return 0;
}
