/* laws.core.multi_new(): the libcurl multi driver (multi.c) for laws.async. Translation only:
 * Lua gives requests and gets back transfer ids; completed transfers are read with
 * m:done(). Nothing here calls Lua functions, so a coroutine may yield around every call. */
#include "laws_lua.h"
#include "multi.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>

#define LAWS_MULTI_MT "laws.multi"

typedef struct {
  laws_multi *m;
  laws_http_session *session;  /* connections, DNS and TLS sessions shared by every task */
  int ref;                     /* registry table: transfer id -> lightuserdata xrec* */
  lua_Integer next_id;
} lmulti;

/* One transfer and a private copy of its request (http.c reads it until the end). */
typedef struct xrec {
  laws_http_xfer x;            /* first member: CURLINFO_PRIVATE points here */
  laws_http_req req;
  lua_Integer id;
} xrec;

static lmulti *check_open(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m == NULL) luaL_error(L, "attempt to use a closed multi handle");
  return u;
}

static void push_xfers(lua_State *L, lmulti *u) { lua_rawgeti(L, LUA_REGISTRYINDEX, u->ref); }

static void xrec_free(lmulti *u, xrec *r) {
  if (r->x.easy != NULL) laws_multi_remove(u->m, r->x.easy);
  laws_http_xfer_cleanup(&r->x);
  free(r);
}

static int l_new(lua_State *L) {
  lmulti *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  u->ref = LUA_NOREF;
  luaL_setmetatable(L, LAWS_MULTI_MT);
  lua_newtable(L);
  u->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  u->session = laws_http_session_new();
  u->m = laws_multi_new();
  if (u->m == NULL || u->session == NULL) return luaL_error(L, "laws.multi: out of memory");
  return 1;
}

static int l_close(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m != NULL && u->ref != LUA_NOREF) {
    push_xfers(L, u);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
      xrec_free(u, lua_touserdata(L, -1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (u->m != NULL) laws_multi_free(u->m);
  u->m = NULL;
  if (u->session != NULL) laws_http_session_free(u->session);
  u->session = NULL;
  if (u->ref != LUA_NOREF) luaL_unref(L, LUA_REGISTRYINDEX, u->ref);
  u->ref = LUA_NOREF;
  return 0;
}

static int clean(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 0;
  return 1;
}

/* Visits every (name, value) of req.headers (a value may be a list: repeated header). With
 * out == NULL it only validates and measures; otherwise it writes "Name: value" lines. */
static size_t walk_headers(lua_State *L, int t, char *out, const char **lines, size_t *count) {
  size_t total = 0;
  *count = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int j, n = 1, islist = lua_istable(L, -1);
    size_t nl, vl;
    const char *name, *v;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_argerror(L, 2, "header names must be strings");
    name = lua_tolstring(L, -2, &nl);
    if (nl == 0 || !clean(name, nl) || memchr(name, ':', nl)) luaL_argerror(L, 2, "bad header name");
    if (islist) n = (int)lua_rawlen(L, -1);
    for (j = 1; j <= n; j++) {
      if (islist) lua_rawgeti(L, -1, j); else lua_pushvalue(L, -1);
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        luaL_argerror(L, 2, "header values must be strings");
      v = lua_tolstring(L, -1, &vl);
      if (!clean(v, vl)) luaL_argerror(L, 2, "header values must not contain CR, LF or NUL");
      if (out != NULL) {
        lines[*count] = out + total;
        memcpy(out + total, name, nl);
        memcpy(out + total + nl, ": ", 2);
        memcpy(out + total + nl + 2, v, vl);
        out[total + nl + 2 + vl] = '\0';
      }
      total += nl + 2 + vl + 1;
      (*count)++;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  return total;
}

static long opt_ms(lua_State *L, int idx, const char *k) {
  lua_Number s;
  lua_getfield(L, idx, k);
  if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TNUMBER) luaL_argerror(L, 2, k);
  s = lua_isnil(L, -1) ? 0 : lua_tonumber(L, -1);
  lua_pop(L, 1);
  return s > 0 ? (long)(s * 1000.0 + 0.5) : 0;
}

static void push_errinfo(lua_State *L, CURLcode code, const char *message) {
  lua_createtable(L, 0, 3);
  lua_pushstring(L, laws_http_code_name(code));
  lua_setfield(L, -2, "code");
  lua_pushstring(L, message);
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, (lua_Integer)code);
  lua_setfield(L, -2, "curl_code");
}

/* m:submit(req) -> id | nil, errinfo.  req as for laws.http.request. */
static int l_submit(lua_State *L) {
  lmulti *u = check_open(L);
  size_t ul = 0, bl = 0, hl = 0, nh = 0, total;
  const char *url, *method, *body = NULL;
  xrec *r;
  char *mem;
  CURLcode rc;
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 2, "url");                 /* 3 */
  if (lua_type(L, 3) != LUA_TSTRING) return luaL_argerror(L, 2, "url (string) required");
  url = lua_tolstring(L, 3, &ul);
  if (!clean(url, ul)) return luaL_argerror(L, 2, "bad url");
  lua_getfield(L, 2, "method");              /* 4 */
  if (!lua_isnil(L, 4) && lua_type(L, 4) != LUA_TSTRING) return luaL_argerror(L, 2, "method must be a string");
  method = lua_isnil(L, 4) ? "GET" : lua_tostring(L, 4);
  lua_getfield(L, 2, "body");                /* 5 */
  if (!lua_isnil(L, 5)) {
    if (lua_type(L, 5) != LUA_TSTRING) return luaL_argerror(L, 2, "body must be a string");
    body = lua_tolstring(L, 5, &bl);
  }
  lua_getfield(L, 2, "headers");             /* 6 */
  if (!lua_isnil(L, 6) && !lua_istable(L, 6)) return luaL_argerror(L, 2, "headers must be a table");
  if (lua_istable(L, 6)) hl = walk_headers(L, 6, NULL, NULL, &nh);
  total = sizeof *r + nh * sizeof(char *) + ul + 1 + strlen(method) + 1 + bl + 1 + hl;
  r = calloc(1, total);
  if (r == NULL) {
    lua_pushnil(L);
    push_errinfo(L, CURLE_OUT_OF_MEMORY, "out of memory");
    return 2;
  }
  mem = (char *)(r + 1) + nh * sizeof(char *);
  r->req.headers = (const char *const *)(r + 1);
  if (nh > 0) walk_headers(L, 6, mem, (const char **)(r + 1), &nh);
  r->req.nheaders = nh;
  mem += hl;
  memcpy(mem, url, ul + 1); r->req.url = mem; mem += ul + 1;
  strcpy(mem, method); r->req.method = mem; mem += strlen(method) + 1;
  if (body != NULL) { memcpy(mem, body, bl); r->req.body = mem; r->req.body_len = bl; }
  r->req.timeout_ms = opt_ms(L, 2, "timeout");
  r->req.connect_timeout_ms = opt_ms(L, 2, "connect_timeout");
  rc = laws_http_xfer_init(&r->x, u->session, &r->req);
  if (rc == CURLE_OK && laws_multi_add(u->m, r->x.easy) != CURLM_OK) {
    rc = CURLE_FAILED_INIT;
    strcpy(r->x.errbuf, "could not add the transfer to the multi handle");
  }
  if (rc != CURLE_OK) {
    lua_pushnil(L);
    push_errinfo(L, rc, r->x.errbuf[0] ? r->x.errbuf : curl_easy_strerror(rc));
    laws_http_xfer_cleanup(&r->x);
    free(r);
    return 2;
  }
  r->id = ++u->next_id;
  push_xfers(L, u);
  lua_pushlightuserdata(L, r);
  lua_rawseti(L, -2, (int)r->id);
  lua_pushinteger(L, r->id);
  return 1;
}

static xrec *take(lua_State *L, lmulti *u, lua_Integer id) {
  xrec *r;
  push_xfers(L, u);
  lua_rawgeti(L, -1, (int)id);
  r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (r != NULL) {
    lua_pushnil(L);
    lua_rawseti(L, -2, (int)id);
  }
  lua_pop(L, 1);
  return r;
}

/* m:cancel(id) -> true if the transfer was still known (it is removed from the multi) */
static int l_cancel(lua_State *L) {
  lmulti *u = check_open(L);
  xrec *r = take(L, u, luaL_checkinteger(L, 2));
  if (r != NULL) xrec_free(u, r);
  lua_pushboolean(L, r != NULL);
  return 1;
}

/* m:poll(timeout_s) -> transfers running. Waits for socket events at most timeout_s. */
static int l_poll(lua_State *L) {
  lmulti *u = check_open(L);
  lua_Number t = luaL_optnumber(L, 2, 0);
  const char *err = NULL;
  long ms = t > 0 ? (t > 86400.0 ? 86400000L : (long)(t * 1000.0 + 0.999)) : 0;
  int running = laws_multi_wait(u->m, ms, &err);
  if (running < 0) return luaL_error(L, "laws.multi: %s", err ? err : "multi failure");
  lua_pushinteger(L, running);
  return 1;
}

static void push_headers(lua_State *L, const laws_http_res *res) {
  const char *p = res->head ? res->head->p : NULL;
  size_t i;
  lua_createtable(L, 0, (int)res->nhead);
  for (i = 0; p != NULL && i < res->nhead; i++) {
    const char *name = p, *v = p + strlen(p) + 1;
    p = v + strlen(v) + 1;
    lua_getfield(L, -1, name);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushstring(L, v);
    } else {  /* repeated: ", " as HTTP allows; set-cookie values contain commas */
      lua_pushstring(L, strcmp(name, "set-cookie") == 0 ? "\n" : ", ");
      lua_pushstring(L, v);
      lua_concat(L, 3);
    }
    lua_setfield(L, -2, name);
  }
}

/* m:done() -> id, res | id, nil, errinfo | nothing (no finished transfer) */
static int l_done(lua_State *L) {
  lmulti *u = check_open(L);
  for (;;) {
    CURLcode rc = CURLE_OK;
    CURL *e = laws_multi_done(u->m, &rc);
    laws_http_xfer *x = NULL;
    laws_http_res res;
    xrec *r;
    if (e == NULL) return 0;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    if (x == NULL) continue;
    r = (xrec *)x;
    take(L, u, r->id);
    laws_http_xfer_result(x, rc, &res);
    lua_pushinteger(L, r->id);
    if (res.code != CURLE_OK) {
      lua_pushnil(L);
      push_errinfo(L, res.code, res.message);
      xrec_free(u, r);
      return 3;
    }
    lua_createtable(L, 0, 3);
    lua_pushinteger(L, res.status);
    lua_setfield(L, -2, "status");
    push_headers(L, &res);
    lua_setfield(L, -2, "headers");
    lua_pushlstring(L, res.body && res.body->len ? res.body->p : "", res.body ? res.body->len : 0);
    lua_setfield(L, -2, "body");
    xrec_free(u, r);
    return 2;
  }
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
  lua_pushinteger(L, (lua_Integer)laws_multi_count(u->m));
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
