/* laws.core.multi_new(): the libcurl multi driver (multi.c) for laws.async. Translation only:
 * Lua gives requests and gets back transfer ids; completed transfers are read with
 * m:done(). Nothing here calls Lua functions, so a coroutine may yield around every call. */
#include "laws_lua.h"
#include "multi.h"
#include "l_http.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  laws_multi *m;
  laws_http_session *session;  /* connections, DNS and TLS sessions shared by every task */
  int xref;                    /* registry table: transfer id -> lightuserdata xrec* */
  int aref;                    /* registry table: transfer id -> request body (libcurl reads it in place) */
  lua_Integer next_id;
  laws_buf scratch;            /* a request's header lines (laws_lhttp_checkreq), wiped after setup */
} lmulti;

typedef struct xrec {
  laws_http_xfer x;            /* first member: CURLINFO_PRIVATE points here */
  laws_http_req req;
  lua_Integer id;
  int in_multi;                /* added and not yet taken out (done does that itself) */
} xrec;

static lmulti *check_open(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m == NULL) luaL_error(L, "attempt to use a closed multi handle");
  return u;
}

static void xrec_free(lmulti *u, xrec *r) {
  /* only once: libcurl also says OK to removing a handle it no longer has, and
   * laws_multi_remove would then count the transfer out a second time */
  if (r->in_multi) laws_multi_remove(u->m, r->x.easy);
  laws_http_xfer_cleanup(&r->x);
  free(r);
}

static int l_new(lua_State *L) {
  lmulti *u = lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);
  u->xref = u->aref = LUA_NOREF;
  luaL_setmetatable(L, LAWS_MULTI_MT);
  lua_newtable(L);
  u->xref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_newtable(L);
  u->aref = luaL_ref(L, LUA_REGISTRYINDEX);
  u->session = laws_http_session_new();
  u->m = laws_multi_new();
  if (u->m == NULL || u->session == NULL) return luaL_error(L, "laws.multi: out of memory");
  return 1;
}

/* One idempotent release for close and __gc: every transfer leaves the multi, then all is freed. */
static int l_close(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  if (u->m != NULL && u->xref != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, u->xref);
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
  laws_buf_free(&u->scratch);
  luaL_unref(L, LUA_REGISTRYINDEX, u->xref);
  luaL_unref(L, LUA_REGISTRYINDEX, u->aref);
  u->xref = u->aref = LUA_NOREF;
  return 0;
}

static void set_ref(lua_State *L, int ref, lua_Integer id, int vidx) {
  vidx = lua_absindex(L, vidx);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  lua_pushvalue(L, vidx);
  lua_rawseti(L, -2, (int)id);
  lua_pop(L, 1);
}

/* m:submit(req [, session]) -> id | nil, err.  req as for laws.http.request (read by the http
 * binding, so both transports accept the same tables); session: a laws.http session whose
 * defaults (timeout, connect_timeout, ca_file) apply. Connections live in the multi's own
 * session, so closing a client's session never pulls one from under a running transfer. */
static int l_submit(lua_State *L) {
  lmulti *u = check_open(L);
  laws_http_req req;
  xrec *r;
  CURLcode rc;
  int sidx = lua_isnoneornil(L, 3) ? 0 : 3;
  laws_lhttp_checkreq(L, 2, sidx, &req, &u->scratch);   /* raises on misuse (or a closed session) */
  r = calloc(1, sizeof *r);
  if (r == NULL) {
    laws_lhttp_wipereq(&u->scratch);
    return luaL_error(L, "laws.multi: out of memory");
  }
  r->req = req;
  rc = laws_http_xfer_init(&r->x, u->session, &r->req);  /* copies the header lines */
  laws_lhttp_wipereq(&u->scratch);
  r->req.headers = NULL;  /* they pointed into the scratch buffer */
  r->req.nheaders = 0;
  if (rc == CURLE_OK && laws_multi_add(u->m, r->x.easy) != CURLM_OK) {
    rc = CURLE_FAILED_INIT;
    strcpy(r->x.errbuf, "could not add the transfer to the multi handle");
  }
  r->in_multi = rc == CURLE_OK;
  if (rc != CURLE_OK) {
    laws_http_res res;
    int n;
    laws_http_xfer_result(&r->x, rc, &res);
    n = laws_lhttp_pushresult(L, &res);
    laws_http_xfer_cleanup(&r->x);
    free(r);
    return n;
  }
  r->id = ++u->next_id;
  lua_pushlightuserdata(L, r);
  set_ref(L, u->xref, r->id, -1);
  lua_getfield(L, 2, "body");
  set_ref(L, u->aref, r->id, -1);
  lua_pushinteger(L, r->id);
  return 1;
}

static xrec *take(lua_State *L, lmulti *u, lua_Integer id) {
  xrec *r;
  /* ids are ints in the registry tables: 2^32 + 1 must not name transfer 1 */
  if (id < 1 || id > INT_MAX) return NULL;
  lua_rawgeti(L, LUA_REGISTRYINDEX, u->xref);
  lua_rawgeti(L, -1, (int)id);
  r = lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (r != NULL) {
    lua_pushnil(L);
    lua_rawseti(L, -2, (int)id);
    lua_rawgeti(L, LUA_REGISTRYINDEX, u->aref);
    lua_pushnil(L);
    lua_rawseti(L, -2, (int)id);
    lua_pop(L, 1);
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

/* m:done() -> id, res | id, nil, err | nothing (no finished transfer) */
static int l_done(lua_State *L) {
  lmulti *u = check_open(L);
  for (;;) {
    CURLcode rc = CURLE_OK;
    CURL *e = laws_multi_done(u->m, &rc);
    laws_http_xfer *x = NULL;
    laws_http_res res;
    xrec *r;
    int n;
    if (e == NULL) return 0;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
    if (x == NULL) continue;
    r = (xrec *)x;
    r->in_multi = 0;  /* laws_multi_done took it out */
    take(L, u, r->id);
    lua_pushinteger(L, r->id);
    laws_http_xfer_result(x, rc, &res);
    n = laws_lhttp_pushresult(L, &res);
    xrec_free(u, r);
    return n + 1;
  }
}

/* m:fds() -> { { fd = n, read = bool, write = bool, id = n }, ... } */
static int l_fds(lua_State *L) {
  lmulti *u = check_open(L);
  size_t i, n = laws_multi_fds(u->m, NULL, 0);
  laws_multi_fd *fds = lua_newuserdatauv(L, (n ? n : 1) * sizeof *fds, 0);  /* scratch, GC'd */
  n = laws_multi_fds(u->m, fds, n);
  lua_createtable(L, (int)n, 0);
  for (i = 0; i < n; i++) {
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, fds[i].fd);
    lua_setfield(L, -2, "fd");
    lua_pushboolean(L, fds[i].events & LAWS_FD_READ);
    lua_setfield(L, -2, "read");
    lua_pushboolean(L, fds[i].events & LAWS_FD_WRITE);
    lua_setfield(L, -2, "write");
    lua_pushinteger(L, (lua_Integer)fds[i].id);
    lua_setfield(L, -2, "id");
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

/* m:connects() -> connections opened so far (keep-alive reuse shows as few) */
static int l_connects(lua_State *L) {
  lmulti *u = check_open(L);
  lua_pushinteger(L, (lua_Integer)laws_http_session_connects(u->session));
  return 1;
}

static int l_tostring(lua_State *L) {
  lmulti *u = luaL_checkudata(L, 1, LAWS_MULTI_MT);
  return laws_push_udname(L, 1, u->m == NULL);
}

/* m:strays() -> idle connections not reused because unrequested bytes were waiting on them */
static int l_strays(lua_State *L) {
  lmulti *u = check_open(L);
  lua_pushinteger(L, (lua_Integer)laws_http_session_strays(u->session));
  return 1;
}

static const luaL_Reg methods[] = {
  { "connects", l_connects }, { "strays", l_strays },
  { "submit", l_submit }, { "cancel", l_cancel }, { "poll", l_poll }, { "done", l_done },
  { "fds", l_fds }, { "timeout", l_timeout }, { "count", l_count }, { NULL, NULL }
};

int laws_multi_open(lua_State *L) {
  laws_class_open(L, LAWS_MULTI_MT, methods, l_close, l_tostring);
  lua_pushcfunction(L, l_new);
  lua_setfield(L, -2, "multi_new");
  return 0;
}
