/* Binding for http.c: session userdata (liolib style) and Lua request/response tables. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "laws_lua.h"
#include "l_http.h"

typedef struct lsession {
  laws_http_session *s;   /* NULL: closed */
  long timeout_ms, connect_timeout_ms;  /* 0: the process default (see laws_http_req) */
  size_t max_body;        /* 0: the process default */
  int no_resend;          /* session option resend = false */
  char *ca_file;
  laws_buf scratch;       /* a request's header lines, wiped once the transfer is set up */
} lsession;

static lsession *tosession(lua_State *L, int idx) {
  return (lsession *)luaL_checkudata(L, idx, LAWS_HTTP_SESSION_MT);
}

laws_http_session *laws_lhttp_checksession(lua_State *L, int idx) {
  lsession *u = tosession(L, idx);
  if (u->s == NULL) luaL_error(L, "attempt to use a closed session");
  return u->s;
}

/* ---- request tables ---- */

static long seconds_ms(lua_State *L, int idx, const char *what) {
  lua_Number v;
  if (lua_type(L, idx) != LUA_TNUMBER) luaL_error(L, "bad option '%s' (number expected, got %s)", what, luaL_typename(L, idx));
  v = lua_tonumber(L, idx);
  if (!(v >= 0) || v > 2e6) luaL_error(L, "bad option '%s' (seconds between 0 and 2e6 expected)", what);
  if (v == 0) return LAWS_HTTP_NO_LIMIT;  /* an explicit 0: no bound of its own */
  if (v < 0.001) v = 0.001;
  return (long)(v * 1000 + 0.5);
}

static size_t checkbytes(lua_State *L, int idx, const char *what) {
  lua_Number v;
  if (lua_type(L, idx) != LUA_TNUMBER) luaL_error(L, "bad option '%s' (number expected, got %s)", what, luaL_typename(L, idx));
  v = lua_tonumber(L, idx);
  if (!(v >= 1)) luaL_error(L, "bad option '%s' (a size in bytes >= 1 expected)", what);
  if (v >= (lua_Number)(size_t)-1) return (size_t)-1;  /* no real cap: as much as memory allows */
  if ((lua_Number)(size_t)v != v) luaL_error(L, "bad option '%s' (an integer number of bytes expected)", what);
  return (size_t)v;
}

static const char *checkstr(lua_State *L, int idx, const char *what, size_t *len) {
  if (lua_type(L, idx) != LUA_TSTRING) luaL_error(L, "bad option '%s' (string expected, got %s)", what, luaL_typename(L, idx));
  return lua_tolstring(L, idx, len);
}

static int checkbool(lua_State *L, int idx, const char *what) {
  if (lua_type(L, idx) != LUA_TBOOLEAN) luaL_error(L, "bad option '%s' (boolean expected, got %s)", what, luaL_typename(L, idx));
  return lua_toboolean(L, idx);
}

/* 1 if s (a Lua string: s[n] is NUL) holds CR, LF or NUL. strcspn stops at the first of them
 * or at the terminating NUL: one vectorised scan instead of three compares a byte. */
static int badchars(const char *s, size_t n) {
  return strcspn(s, "\r\n") != n;
}

static int badname(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= ' ' || c == ':' || c == 127) return 1;
  }
  return 0;
}

/* A header value must be a string (or a number); a list of strings means a repeated header. */
static const char *checkvalue(lua_State *L, int idx, const char *name, size_t *len) {
  const char *v;
  int t = lua_type(L, idx);
  if (t != LUA_TSTRING && t != LUA_TNUMBER)
    luaL_error(L, "bad header '%s' (string or list of strings expected, got %s)", name, luaL_typename(L, idx));
  v = lua_tolstring(L, idx, len);
  if (badchars(v, *len)) luaL_error(L, "bad header '%s' (value contains CR, LF or NUL)", name);
  return v;
}

typedef struct { const char *name, *value; size_t nlen, vlen; } hline;
#define STACK_LINES 32

/* Makes room for n bytes in the (empty, already wiped) scratch buffer. A fresh block instead
 * of realloc: nothing of an earlier request can be left behind in a freed block. */
static void scratch_reserve(lua_State *L, laws_buf *b, size_t n) {
  b->len = 0;
  if (n <= b->cap) return;
  laws_buf_free(b);
  if ((b->p = malloc(n)) == NULL) luaL_error(L, "out of memory");
  b->cap = n;
}

/* One pass over the headers table validates, sizes and remembers every line (the strings
 * stay anchored by the table, a list value by its list); the "Name: value" lines and their
 * pointers are then written into the caller's scratch buffer. A number value (converted to a
 * fresh, unanchored string) or more than STACK_LINES lines: the table is read a second time
 * to write the lines, as nothing allocated by Lua may be kept across lua_tolstring calls. */
static void checkheaders(lua_State *L, int idx, laws_http_req *req, laws_buf *scratch) {
  hline seen[STACK_LINES];
  size_t count = 0, bytes = 0, nlen, vlen, k, i;
  int reread = 0;
  const char **lines;
  char *w;
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *name, *v;
    int list;
    size_t n;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "bad option 'headers' (header names must be strings)");
    name = lua_tolstring(L, -2, &nlen);
    if (badname(name, nlen)) luaL_error(L, "bad header name '%s'", name);
    list = lua_type(L, -1) == LUA_TTABLE;
    n = list ? (size_t)lua_rawlen(L, -1) : 1;
    for (k = 1; k <= n; k++) {
      if (list) lua_rawgeti(L, -1, (int)k);
      if (lua_type(L, -1) != LUA_TSTRING) reread = 1;
      v = checkvalue(L, -1, name, &vlen);
      if (count < STACK_LINES) {
        seen[count].name = name; seen[count].nlen = nlen;
        seen[count].value = v; seen[count].vlen = vlen;
      } else {
        reread = 1;
      }
      if (list) lua_pop(L, 1);
      count++;
      bytes += nlen + vlen + 3;
    }
    lua_pop(L, 1);
  }
  scratch_reserve(L, scratch, count * sizeof(char *) + bytes + 1);
  lines = (const char **)(void *)scratch->p;
  w = (char *)(lines + count);
  i = 0;
#define PUT_LINE(NAME, NLEN, V, VLEN) do { \
    lines[i++] = w; \
    memcpy(w, (NAME), (NLEN)); w += (NLEN); \
    *w++ = ':'; *w++ = ' '; \
    memcpy(w, (V), (VLEN)); w += (VLEN); \
    *w++ = '\0'; \
  } while (0)
  if (!reread) {
    for (k = 0; k < count; k++) PUT_LINE(seen[k].name, seen[k].nlen, seen[k].value, seen[k].vlen);
  } else {
    lua_pushnil(L);
    while (lua_next(L, idx)) {
      const char *name = lua_tolstring(L, -2, &nlen);
      size_t n = lua_type(L, -1) == LUA_TTABLE ? (size_t)lua_rawlen(L, -1) : 1;
      for (k = 1; k <= n && i < count; k++) {
        const char *v;
        if (lua_type(L, -1) == LUA_TTABLE) lua_rawgeti(L, -1, (int)k); else lua_pushvalue(L, -1);
        v = lua_tolstring(L, -1, &vlen);
        PUT_LINE(name, nlen, v, vlen);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
#undef PUT_LINE
  scratch->len = (size_t)(w - scratch->p);
  req->headers = lines;
  req->nheaders = i;
}

void laws_lhttp_checkreq(lua_State *L, int idx, int sidx, laws_http_req *req, laws_buf *scratch) {
  int have_headers = 0;
  size_t n;
  idx = lua_absindex(L, idx);
  memset(req, 0, sizeof *req);
  if (sidx != 0) {
    lsession *u = tosession(L, sidx);
    if (u->s == NULL) luaL_error(L, "attempt to use a closed session");
    req->timeout_ms = u->timeout_ms;
    req->connect_timeout_ms = u->connect_timeout_ms;
    req->ca_file = u->ca_file;
    req->no_resend = u->no_resend;
    req->max_body = u->max_body;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "bad request (option names must be strings)");
    k = lua_tostring(L, -2);
    if (strcmp(k, "url") == 0) {
      req->url = checkstr(L, -1, k, &n);
      if (badchars(req->url, n)) luaL_error(L, "bad option 'url' (contains CR, LF or NUL)");
    } else if (strcmp(k, "method") == 0) {
      req->method = checkstr(L, -1, k, &n);
      if (badname(req->method, n)) luaL_error(L, "bad option 'method' (not an HTTP method)");
    } else if (strcmp(k, "body") == 0) {
      req->body = checkstr(L, -1, k, &req->body_len);
    } else if (strcmp(k, "headers") == 0) {
      if (lua_type(L, -1) != LUA_TTABLE) luaL_error(L, "bad option 'headers' (table expected, got %s)", luaL_typename(L, -1));
      have_headers = 1;
    } else if (strcmp(k, "timeout") == 0) {
      req->timeout_ms = seconds_ms(L, -1, k);
    } else if (strcmp(k, "connect_timeout") == 0) {
      req->connect_timeout_ms = seconds_ms(L, -1, k);
    } else if (strcmp(k, "max_body") == 0) {
      req->max_body = checkbytes(L, -1, k);
    } else if (strcmp(k, "ca_file") == 0) {
      req->ca_file = checkstr(L, -1, k, &n);
    } else if (strcmp(k, "resend") == 0) {
      req->no_resend = !checkbool(L, -1, k);
    } else {
      luaL_error(L, "unknown request option '%s'", k);
    }
    lua_pop(L, 1);
  }
  if (req->url == NULL) luaL_error(L, "bad request (url missing)");
  if (have_headers) {
    lua_getfield(L, idx, "headers");
    checkheaders(L, -1, req, scratch);
    lua_pop(L, 1);
  }
}

void laws_lhttp_wipereq(laws_buf *scratch) {
  if (scratch->p != NULL) OPENSSL_cleanse(scratch->p, scratch->len);
  scratch->len = 0;
  if (scratch->cap > 65536) laws_buf_free(scratch); /* one odd request keeps no big block */
}

/* ---- results ---- */

static void pushheaders(lua_State *L, const laws_http_res *res) {
  const char *p = res->head->p, *name, *value;
  size_t i;
  size_t nlen, vlen;
  lua_createtable(L, 0, (int)res->nhead);
  for (i = 0; i < res->nhead; i++) {
    name = p;
    nlen = strlen(name);
    value = name + nlen + 1;
    vlen = strlen(value);
    p = value + vlen + 1;
    /* the name string made once, used as key for the lookup and the store (a fresh table:
     * raw access is what getfield/setfield would do) */
    lua_pushlstring(L, name, nlen);
    lua_pushvalue(L, -1);
    lua_rawget(L, -3);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      lua_pushlstring(L, value, vlen);
    } else {
      lua_pushstring(L, strcmp(name, "set-cookie") == 0 ? "\n" : ", ");
      lua_pushlstring(L, value, vlen);
      lua_concat(L, 3);
    }
    lua_rawset(L, -3);
  }
}

int laws_lhttp_pushresult(lua_State *L, const laws_http_res *res) {
  if (res->code != CURLE_OK) {
    lua_pushnil(L);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, res->code_name);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, res->message);
    lua_setfield(L, -2, "message");
    lua_pushinteger(L, (lua_Integer)res->code);
    lua_setfield(L, -2, "curl_code");
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "transport");
    if (res->resent > 0) {
      lua_pushinteger(L, res->resent);
      lua_setfield(L, -2, "resent");
    }
    luaL_setmetatable(L, LAWS_ERROR_MT);  /* made by luaopen_laws_core, filled by laws.errors */
    return 2;
  }
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)res->status);
  lua_setfield(L, -2, "status");
  pushheaders(L, res);
  lua_setfield(L, -2, "headers");
  lua_pushlstring(L, res->body->p ? res->body->p : "", res->body->len);
  lua_setfield(L, -2, "body");
  if (res->resent > 0) {
    lua_pushinteger(L, res->resent);
    lua_setfield(L, -2, "resent");
  }
  return 1;
}

/* ---- session userdata ---- */

static int s_request(lua_State *L) {
  lsession *u = tosession(L, 1);
  laws_http_req req;
  laws_http_xfer x;
  laws_http_res res;
  int n;
  laws_lhttp_checkreq(L, 2, 1, &req, &u->scratch);  /* raises if the session is closed */
  laws_http_perform(&x, u->s, &req, &res);
  laws_lhttp_wipereq(&u->scratch);
  n = laws_lhttp_pushresult(L, &res);
  laws_http_xfer_cleanup(&x);
  return n;
}

/* session:request as a plain function of the request (upvalue 1: the session): what
 * laws.http.request is, without a Lua wrapper or a method lookup per call. */
static int bound_request(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  return s_request(L);
}

static int l_bind(lua_State *L) {
  tosession(L, 1);
  lua_settop(L, 1);
  lua_pushcclosure(L, bound_request, 1);
  return 1;
}

static int s_connects(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)laws_http_session_connects(laws_lhttp_checksession(L, 1)));
  return 1;
}

static int s_resends(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)laws_http_session_resends(laws_lhttp_checksession(L, 1)));
  return 1;
}

static int s_strays(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)laws_http_session_strays(laws_lhttp_checksession(L, 1)));
  return 1;
}

/* One idempotent release for close, __gc and __close. */
static int s_close(lua_State *L) {
  lsession *u = tosession(L, 1);
  laws_http_session_free(u->s);
  u->s = NULL;
  free(u->ca_file);
  u->ca_file = NULL;
  laws_buf_free(&u->scratch);
  return 0;
}

static int s_tostring(lua_State *L) {
  lsession *u = tosession(L, 1);
  if (u->s == NULL) lua_pushliteral(L, "laws.http.session (closed)");
  else lua_pushfstring(L, "laws.http.session (%p)", (void *)u);
  return 1;
}

static int l_session(lua_State *L) {
  lsession *u;
  int o = lua_gettop(L) >= 1 && !lua_isnil(L, 1);
  if (o) luaL_checktype(L, 1, LUA_TTABLE);
  u = (lsession *)lua_newuserdatauv(L, sizeof *u, 0);
  memset(u, 0, sizeof *u);               /* closed until it is open */
  luaL_setmetatable(L, LAWS_HTTP_SESSION_MT);
  if (o) {
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (strcmp(k, "timeout") == 0) u->timeout_ms = seconds_ms(L, -1, k);
      else if (strcmp(k, "connect_timeout") == 0) u->connect_timeout_ms = seconds_ms(L, -1, k);
      else if (strcmp(k, "max_body") == 0) u->max_body = checkbytes(L, -1, k);
      else if (strcmp(k, "resend") == 0) u->no_resend = !checkbool(L, -1, k);
      else if (strcmp(k, "ca_file") == 0) {
        size_t n;
        const char *v = checkstr(L, -1, k, &n);
        free(u->ca_file);
        u->ca_file = malloc(n + 1);
        if (u->ca_file == NULL) return luaL_error(L, "out of memory");
        memcpy(u->ca_file, v, n + 1);
      } else return luaL_error(L, "unknown session option '%s'", k);
      lua_pop(L, 1);
    }
  }
  u->s = laws_http_session_new();
  if (u->s == NULL) return luaL_error(L, "cannot create an HTTP session (libcurl init failed)");
  return 1;
}

/* Writes the current defaults into the table at idx (seconds, bytes; 0: no bound). */
static void setlimits(lua_State *L, int idx) {
  laws_http_limits l;
  idx = lua_absindex(L, idx);
  laws_http_limits_get(&l);
  lua_pushnumber(L, l.connect_timeout_ms > 0 ? l.connect_timeout_ms / 1000.0 : 0);
  lua_setfield(L, idx, "connect_timeout");
  lua_pushnumber(L, l.timeout_ms > 0 ? l.timeout_ms / 1000.0 : 0);
  lua_setfield(L, idx, "timeout");
  if (l.max_body < ((size_t)1 << 53)) lua_pushinteger(L, (lua_Integer)l.max_body);
  else lua_pushnumber(L, (lua_Number)l.max_body);  /* "no real cap" */
  lua_setfield(L, idx, "max_body");
}

/* http_defaults([opts]) -> the process-wide defaults { connect_timeout, timeout, max_body },
 * after applying opts. Upvalue 1: core.http_limits, kept equal to them for the Lua transports. */
static int l_defaults(lua_State *L) {
  laws_http_limits l = { 0, 0, 0 };
  if (!lua_isnoneornil(L, 1)) {
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
      if (strcmp(k, "timeout") == 0) l.timeout_ms = seconds_ms(L, -1, k);
      else if (strcmp(k, "connect_timeout") == 0) l.connect_timeout_ms = seconds_ms(L, -1, k);
      else if (strcmp(k, "max_body") == 0) l.max_body = checkbytes(L, -1, k);
      else return luaL_error(L, "unknown default '%s' (timeout, connect_timeout, max_body)", k);
      lua_pop(L, 1);
    }
    laws_http_limits_set(&l);
    setlimits(L, lua_upvalueindex(1));
  }
  lua_createtable(L, 0, 3);
  setlimits(L, -1);
  return 1;
}

static const luaL_Reg methods[] = {
  { "request", s_request }, { "close", s_close }, { "connects", s_connects },
  { "resends", s_resends }, { "strays", s_strays }, { NULL, NULL }
};

static const luaL_Reg funcs[] = {
  { "http_session", l_session }, { "http_bind", l_bind }, { NULL, NULL }
};

int laws_http_open(lua_State *L) {
  int mod = lua_gettop(L);
  if (luaL_newmetatable(L, LAWS_HTTP_SESSION_MT)) {
    lua_newtable(L);
    luaL_setfuncs_compat(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, s_close);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, s_close);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, s_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, LAWS_HTTP_SESSION_MT);
    lua_setfield(L, -2, "__name");
  }
  lua_pop(L, 1);
  lua_pushvalue(L, mod);
  luaL_setfuncs_compat(L, funcs);
  lua_newtable(L);
  setlimits(L, -1);  /* the LAWS_HTTP_DEFAULT_* values until http_defaults changes them */
  lua_pushvalue(L, -1);
  lua_pushcclosure(L, l_defaults, 1);
  lua_setfield(L, -3, "http_defaults");
  lua_setfield(L, -2, "http_limits");
  lua_pop(L, 1);
  return 0;
}
