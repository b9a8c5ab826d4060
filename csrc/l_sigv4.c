/* laws.core signing functions: sigv4_sign, sigv4_canonical, sigv4a_pubkey, sigv4a_verify,
 * sigv4_cached_keys. Reads the Lua tables into a laws_sigv4_request, builds the signed
 * request table from the result. The signer context (key caches, buffers) is one userdata
 * per Lua state, shared as an upvalue. */
#include <stdarg.h>
#include <string.h>

#include "laws_lua.h"
#include "hash.h"
#include "sigv4.h"
#include "text.h"

#define STACK_HEADERS 32

/* Upvalues of the signing functions: 1 the signer, 2 the details metatable, then the names
 * below as Lua strings (pushed without hashing a C string each time; bench/10-sign.sh), then
 * the last Host and X-Amz-Date strings given out (reused while they do not change). */
static const char *const NAMES[] = {
  "method", "url", "body", "headers", "access_key_id", "secret_access_key", "session_token",
  "Host", "X-Amz-Date", "X-Amz-Region-Set", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "Authorization",
  NULL
};
enum { N_METHOD, N_URL, N_BODY, N_HEADERS, N_AKID, N_SECRET, N_TOKEN,
       N_HOST, N_DATE, N_REGION_SET, N_SEC_TOKEN, N_CONTENT_SHA, N_AUTHORIZATION, N_COUNT };
#define UP_NAME(i) lua_upvalueindex(3 + (i))
#define UP_LAST_HOST lua_upvalueindex(3 + N_COUNT)
#define UP_LAST_DATE lua_upvalueindex(4 + N_COUNT)
#define NUPVALUES (4 + N_COUNT)

#define NOPTS 12

/* The signer of this Lua state: an upvalue of the signing functions. optname: the option names
 * as interned Lua strings (anchored by the signing functions' upvalues), so an option key is
 * told by its address first (short strings are interned), by strcmp only otherwise. */
typedef struct {
  laws_sigv4_ctx *c;
  const char *optname[NOPTS], *name[N_COUNT];
} ctx_box;

/* One idempotent release for close, __gc and __close (wipes the cached keys). */
static int ctx_close(lua_State *L) {
  ctx_box *b = (ctx_box *)luaL_checkudata(L, 1, LAWS_SIGNER_MT);
  laws_sigv4_ctx_free(b->c);
  b->c = NULL;
  return 0;
}

static int ctx_tostring(lua_State *L) {
  ctx_box *b = (ctx_box *)luaL_checkudata(L, 1, LAWS_SIGNER_MT);
  return laws_push_udname(L, 1, b->c == NULL);
}

static laws_sigv4_ctx *upctx(lua_State *L) {
  ctx_box *b = (ctx_box *)lua_touserdata(L, lua_upvalueindex(1));
  if (b->c == NULL) luaL_error(L, "attempt to use a closed signer");
  return b->c;
}

static ctx_box *upbox(lua_State *L) { return (ctx_box *)lua_touserdata(L, lua_upvalueindex(1)); }

/* Misuse raises with the position of the code that called laws.sigv4.sign/presign/canonical
 * (level 2: level 1 is the thin Lua wrapper), so the message points at the user's line. */
static int raise(lua_State *L, const char *fmt, ...) {
  va_list ap;
  luaL_where(L, 2);
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  lua_concat(L, 2);
  return lua_error(L);
}

static const char *const OPTS[] = {
  "service", "region", "time", "presign", "expires", "algorithm", "region_set", "normalize_path",
  "double_encode", "payload", "content_sha256_header", "omit_session_token", NULL
};
static const int OPT_TYPES[] = {
  LUA_TSTRING, LUA_TSTRING, LUA_TNUMBER, LUA_TBOOLEAN, LUA_TNUMBER, LUA_TSTRING, LUA_TSTRING, LUA_TBOOLEAN,
  LUA_TBOOLEAN, LUA_TSTRING, LUA_TBOOLEAN, LUA_TBOOLEAN
};

enum { O_SERVICE, O_REGION, O_TIME, O_PRESIGN, O_EXPIRES, O_ALGORITHM, O_REGION_SET, O_NORMALIZE_PATH,
       O_DOUBLE_ENCODE, O_PAYLOAD, O_CONTENT_SHA256_HEADER, O_OMIT_SESSION_TOKEN };

/* 1 if s has a control character (or, with slash, a '/'). */
static int bad_chars(const char *s, size_t n, int slash) {
  return laws_has_ctl(s, n) || (slash && memchr(s, '/', n) != NULL);
}

/* One pass over options: checks every name and type (raises naming the bad one) and fills
 * r. Strings stay anchored by the options table. Returns the algorithm name or NULL. */
static const char *read_options(lua_State *L, int idx, const char *fn, laws_sigv4_request *r) {
  const char *alg = NULL;
  const ctx_box *box = upbox(L);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    const char *k;
    size_t kl, sl;
    int i;
    if (lua_type(L, -2) != LUA_TSTRING) raise(L, "%s: option names must be strings", fn);
    k = lua_tolstring(L, -2, &kl);
    for (i = 0; i < NOPTS && box->optname[i] != k; i++) {}  /* interned: the address tells */
    if (i == NOPTS)
      for (i = 0; OPTS[i] && (OPTS[i][0] != k[0] || strcmp(OPTS[i], k) != 0); i++) {}
    if (!OPTS[i]) raise(L, "%s: unknown option '%s'", fn, k);
    if (lua_type(L, -1) != OPT_TYPES[i])
      raise(L, "%s: options.%s must be a %s", fn, k, lua_typename(L, OPT_TYPES[i]));
    switch (i) {
    case O_SERVICE: r->service = lua_tolstring(L, -1, &r->service_len); break;
    case O_REGION: r->region = lua_tolstring(L, -1, &r->region_len); break;
    case O_REGION_SET: r->region_set = lua_tolstring(L, -1, &r->region_set_len); break;
    case O_PAYLOAD: r->payload = lua_tolstring(L, -1, &r->payload_len); break;
    case O_ALGORITHM: alg = lua_tolstring(L, -1, &sl); break;
    case O_PRESIGN: r->presign = lua_toboolean(L, -1); break;
    case O_NORMALIZE_PATH: r->normalize_path = lua_toboolean(L, -1); break;
    case O_DOUBLE_ENCODE: r->double_encode = lua_toboolean(L, -1); break;
    case O_CONTENT_SHA256_HEADER: r->content_sha256_header = lua_toboolean(L, -1); break;
    case O_OMIT_SESSION_TOKEN: r->omit_session_token = lua_toboolean(L, -1); break;
    case O_EXPIRES: {
      lua_Number n = lua_tonumber(L, -1);
      r->expires = n >= 1 && n <= 604800 && n == (lua_Number)(long)n ? (long)n : -1; /* no UB cast */
      break;
    }
    default: break; /* O_TIME: passed separately, already resolved by the Lua side */
    }
    lua_pop(L, 1);
  }
  return alg;
}

/* Stack slots of sign_impl, after its five arguments: the request and credential fields (kept
 * anchored on the stack), the signed request being built and its headers. */
enum { S_METHOD = 6, S_URL, S_BODY, S_HEADERS, S_AKID, S_SECRET, S_TOKEN, S_SIGNED, S_HCOPY, S_TOP = S_HCOPY };

/* The string in slot, or NULL when it is nil (raising when required or not a string). */
static const char *slot_str(lua_State *L, int slot, size_t *len, int required, const char *what, const char *fn) {
  int type = lua_type(L, slot);
  if (type == LUA_TNIL) {
    if (required) raise(L, "%s: %s is missing", fn, what);
    *len = 0;
    return NULL;
  }
  if (type != LUA_TSTRING) raise(L, "%s: %s must be a string", fn, what);
  return lua_tolstring(L, slot, len);
}

/* bench/10-sign.sh fast path: one pass over the request picks method, url, body and headers
 * (their keys told by address, short strings being interned) and, when copy is set, fills the
 * signed request (S_SIGNED) with every field. A request with a metatable has the four fields
 * read again through lua_gettable, so __index is honoured as before. */
static void read_request(lua_State *L, const ctx_box *box, int copy) {
  static const int slot[] = { S_METHOD, S_URL, S_BODY, S_HEADERS };
  int i;
  if (copy) {
    lua_createtable(L, 0, 6);
    lua_replace(L, S_SIGNED);
  }
  lua_pushnil(L);
  while (lua_next(L, 1)) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -2);
      for (i = 0; i < 4 && box->name[i] != k; i++) {}
      if (i == 4)
        for (i = 0; i < 4 && strcmp(NAMES[i], k) != 0; i++) {}
      if (i < 4) {  /* lua_copy is not in Lua 5.1 */
        lua_pushvalue(L, -1);
        lua_replace(L, slot[i]);
      }
    }
    if (copy) {
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, S_SIGNED);
    }
    lua_pop(L, 1);
  }
  if (lua_getmetatable(L, 1)) {
    lua_pop(L, 1);
    for (i = 0; i < 4; i++) {
      lua_pushvalue(L, UP_NAME(i));
      lua_gettable(L, 1);
      lua_replace(L, slot[i]);
    }
  }
}

/* credentials.<name> into slot (lua_gettable, as lua_getfield, but with the interned key). */
static void read_cred(lua_State *L, int name, int slot) {
  lua_pushvalue(L, UP_NAME(name));
  lua_gettable(L, 2);
  lua_replace(L, slot);
}

/* Fills h (capacity cap) from the headers table (a list value gives one entry per string);
 * returns the entry count, or cap + 1 as soon as they do not fit (the caller then retries with
 * room for all). When copy is set, the headers are also copied into the table at S_HCOPY in
 * the same pass (lists too: the caller's table stays untouched). */
static size_t fill_headers(lua_State *L, int t, laws_sigv4_header *h, size_t cap, int copy) {
  size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, t)) {
    size_t nlen, j, m;
    const char *name;
    int tv = lua_type(L, -1);
    if (lua_type(L, -2) != LUA_TSTRING) raise(L, "request.headers: header names must be strings");
    name = lua_tolstring(L, -2, &nlen);
    if (tv != LUA_TSTRING && tv != LUA_TTABLE)
      raise(L, "request.headers[\"%s\"] must be a string or a list of strings", name);
    m = tv == LUA_TTABLE ? lua_rawlen(L, -1) : 1;
    if (count + m > cap) {
      lua_pop(L, 2);
      return cap + 1;
    }
    if (tv == LUA_TSTRING) {
      h[count].name = name; h[count].nlen = nlen;
      h[count].value = lua_tolstring(L, -1, &h[count].vlen);
      count++;
    } else {
      if (copy) lua_createtable(L, (int)m, 0);
      for (j = 1; j <= m; j++) {
        lua_rawgeti(L, copy ? -2 : -1, (int)j);
        if (lua_type(L, -1) != LUA_TSTRING)
          raise(L, "request.headers[\"%s\"][%d] must be a string", name, (int)j);
        h[count].name = name; h[count].nlen = nlen;
        h[count].value = lua_tolstring(L, -1, &h[count].vlen); /* anchored by the list */
        count++;
        if (copy) lua_rawseti(L, -2, (int)j);
        else lua_pop(L, 1);
      }
      if (copy) lua_replace(L, -2);  /* the copy takes the list's place */
    }
    if (copy) {
      lua_pushvalue(L, -2);
      lua_pushvalue(L, -2);
      lua_rawset(L, S_HCOPY);
    }
    lua_pop(L, 1);
  }
  return count;
}

/* Headers table -> array of laws_sigv4_header, on the C stack when they fit. */
static laws_sigv4_header *read_headers(lua_State *L, int t, size_t *n, laws_sigv4_header *stack_h, int copy) {
  size_t count = 0;
  laws_sigv4_header *h;
  if ((*n = fill_headers(L, t, stack_h, STACK_HEADERS, copy)) <= STACK_HEADERS) return stack_h;
  lua_pushnil(L);
  while (lua_next(L, t)) { /* many headers: count, then an array in a userdata (collected if we raise) */
    count += lua_type(L, -1) == LUA_TTABLE ? lua_rawlen(L, -1) : 1;
    lua_pop(L, 1);
  }
  h = (laws_sigv4_header *)lua_newuserdata(L, count * sizeof *h);
  *n = fill_headers(L, t, h, count, copy);
  return h;
}

/* sigv4_sign(request, credentials, options, time, url_only) -> signed, details
 *   url_only (presign): query mode, and the first result is just the URL string
 * sigv4_canonical(...) -> canonical_request, string_to_sign (no key, no signature) */
static void push_signed(lua_State *L, const laws_sigv4_request *rq, const laws_sigv4_result *res);

/* The canonical request as shown to Lua (details, canonical()): the session token is a secret,
 * so its value is shown as TOKEN_MARKER: after "x-amz-security-token:" (header mode), after
 * "X-Amz-Security-Token=" (query mode, where it is URI-encoded), and anywhere else it occurs
 * raw. The string to sign still carries the hash of the real canonical request. */
#define TOKEN_MARKER "<session-token>"

static const char *find_mem(const char *h, size_t hn, const char *n, size_t nn) {
  size_t i;
  if (nn == 0 || hn < nn) return NULL;
  for (i = 0; i + nn <= hn; i++) {
    const char *p = memchr(h + i, n[0], hn - nn - i + 1);
    if (p == NULL) return NULL;
    if (memcmp(p, n, nn) == 0) return p;
    i = (size_t)(p - h);
  }
  return NULL;
}

static void push_canonical(lua_State *L, const char *token, size_t token_len, const char *c, size_t n) {
  static const char *const KEYS[] = { "\nx-amz-security-token:", "X-Amz-Security-Token=" };
  luaL_Buffer b;
  size_t i = 0;
  if (token == NULL) { lua_pushlstring(L, c, n); return; }
  luaL_buffinit(L, &b);
  while (i < n) {
    const char *next = NULL, *val = NULL;
    size_t vlen = 0, k;
    for (k = 0; k < 2; k++) {  /* the earliest marked value */
      const char *p = find_mem(c + i, n - i, KEYS[k], strlen(KEYS[k]));
      if (p && (next == NULL || p < next)) {
        next = p;
        val = p + strlen(KEYS[k]);
        {  /* the value ends at '\n' (or '&' in the query); the buffer need not end in NUL */
          size_t rest = (size_t)(c + n - val);
          const char *e = memchr(val, '\n', rest);
          if (k == 1) {
            const char *amp = memchr(val, '&', e ? (size_t)(e - val) : rest);
            if (amp) e = amp;
          }
          vlen = e ? (size_t)(e - val) : rest;
        }
      }
    }
    {  /* a raw copy elsewhere (say, a header of the caller's) */
      const char *p = find_mem(c + i, n - i, token, token_len);
      if (p && (next == NULL || p < next)) { next = val = p; vlen = token_len; }
    }
    if (next == NULL) break;
    luaL_addlstring(&b, c + i, (size_t)(val - (c + i)));
    luaL_addstring(&b, TOKEN_MARKER);
    i = (size_t)(val - c) + vlen;
  }
  if (i < n) luaL_addlstring(&b, c + i, n - i);
  luaL_pushresult(&b);
}

/* details = { canonical_request, string_to_sign, signature }, built when first read: most
 * callers (every client attempt) never read them. Until then the table holds, at [1], what is
 * needed to build them in a plain userdata (opaque to pairs and tostring, and no longer tied to
 * the signer's buffers, which the next signature reuses): the canonical request, the string to
 * sign without its last line (the canonical request's hash, computed again when read) and the
 * signature. The session token, hidden when canonical_request is built, is found again in its
 * canonical header line; it is copied only when it is not there verbatim. The table's
 * metatable (upvalue 2 of sigv4_sign) has __index = details_index. */
typedef struct {
  size_t clen, plen, glen, tlen;  /* canonical request, string to sign less its hash, signature, token copy */
  int has_token;
} details_data;

#define TOKEN_LINE "\nx-amz-security-token:"

static void push_details(lua_State *L, const laws_sigv4_request *rq, const laws_sigv4_result *res) {
  details_data *d;
  size_t tlen = 0;
  char *p;
  /* header mode, token signed, no space in it: its canonical line holds it as it is */
  if (rq->token && (rq->presign || rq->omit_session_token ||
                    memchr(rq->token, ' ', rq->token_len) != NULL))  /* the one whitespace bad_chars lets in */
    tlen = rq->token_len;
  lua_createtable(L, 1, 0);
  d = (details_data *)lua_newuserdatauv(L, sizeof *d + res->canonical_len + res->sts_len - 2 * LAWS_SHA256_LEN +
                                           res->signature_len + tlen, 0);
  d->clen = res->canonical_len; d->plen = res->sts_len - 2 * LAWS_SHA256_LEN; d->glen = res->signature_len;
  d->tlen = tlen;
  d->has_token = rq->token != NULL;
  p = (char *)(d + 1);
  memcpy(p, res->canonical_request, d->clen); p += d->clen;
  memcpy(p, res->string_to_sign, d->plen); p += d->plen;
  memcpy(p, res->signature, d->glen); p += d->glen;
  if (tlen) memcpy(p, rq->token, tlen);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_setmetatable(L, -2);
}

/* __index of a details table: turns what [1] holds into the three fields (once). */
static int details_index(lua_State *L) {
  details_data *d;
  const char *creq, *tok = NULL;
  size_t toklen = 0;
  unsigned char h[LAWS_SHA256_LEN];
  char hex[2 * LAWS_SHA256_LEN + 1];
  lua_settop(L, 2);
  lua_rawgeti(L, 1, 1);
  d = (details_data *)lua_touserdata(L, -1);
  if (d == NULL) return 0;  /* already filled in: the key is simply absent */
  creq = (const char *)(d + 1);
  if (d->tlen) {
    tok = creq + d->clen + d->plen + d->glen;
    toklen = d->tlen;
  } else if (d->has_token && (tok = find_mem(creq, d->clen, TOKEN_LINE, sizeof TOKEN_LINE - 1)) != NULL) {
    const char *e;
    tok += sizeof TOKEN_LINE - 1;
    e = memchr(tok, '\n', d->clen - (size_t)(tok - creq));
    toklen = e ? (size_t)(e - tok) : d->clen - (size_t)(tok - creq);
  }
  if (laws_sha256(creq, d->clen, h) != 0) return luaL_error(L, "laws.sigv4: OpenSSL failure building details");
  laws_hex(h, sizeof h, hex);
  push_canonical(L, tok, toklen, creq, d->clen);
  lua_setfield(L, 1, "canonical_request");
  lua_pushlstring(L, creq + d->clen, d->plen);
  lua_pushlstring(L, hex, 2 * LAWS_SHA256_LEN);
  lua_concat(L, 2);
  lua_setfield(L, 1, "string_to_sign");
  lua_pushlstring(L, creq + d->clen + d->plen, d->glen);
  lua_setfield(L, 1, "signature");
  lua_pushnil(L);
  lua_rawseti(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_rawget(L, 1);
  return 1;
}

static int sign_impl(lua_State *L, int canonical_only) {
  const char *fn = canonical_only ? "laws.sigv4.canonical"
                   : lua_toboolean(L, 5) ? "laws.sigv4.presign" : "laws.sigv4.sign";
  laws_sigv4_request r;
  const laws_sigv4_result *res;
  const char *alg;
  size_t nh = 0;
  int rc, url_only, copy;
  laws_sigv4_header stack_h[STACK_HEADERS];
  memset(&r, 0, sizeof r);
  if (!lua_istable(L, 1)) return raise(L, "%s: request must be a table", fn);
  if (!lua_istable(L, 2)) return raise(L, "%s: credentials must be a table", fn);
  if (!lua_istable(L, 3)) return raise(L, "%s: options must be a table", fn);
  url_only = lua_toboolean(L, 5);
  copy = !canonical_only && !url_only;  /* only sign() returns a signed request table */
  lua_settop(L, S_TOP);
  luaL_checkstack(L, 12, "laws.sigv4");  /* the slots above take most of the LUA_MINSTACK a C call gets */
  r.expires = 900;
  r.normalize_path = r.double_encode = 1;
  alg = read_options(L, 3, fn, &r);
  read_request(L, upbox(L), copy);
  read_cred(L, N_AKID, S_AKID);
  read_cred(L, N_SECRET, S_SECRET);
  read_cred(L, N_TOKEN, S_TOKEN);
  r.method = slot_str(L, S_METHOD, &r.method_len, 1, "request.method", fn);
  r.url = slot_str(L, S_URL, &r.url_len, 1, "request.url", fn);
  r.body = slot_str(L, S_BODY, &r.body_len, 0, "request.body", fn);
  r.access_key_id = slot_str(L, S_AKID, &r.akid_len, 1, "credentials.access_key_id", fn);
  r.secret = slot_str(L, S_SECRET, &r.secret_len, 1, "credentials.secret_access_key", fn);
  r.token = slot_str(L, S_TOKEN, &r.token_len, 0, "credentials.session_token", fn);
  if (r.service == NULL) return raise(L, "%s: options.service is missing", fn);
  if (alg == NULL || strcmp(alg, "AWS4-HMAC-SHA256") == 0) r.algorithm = LAWS_SIGV4_HMAC;
  else if (strcmp(alg, "AWS4-ECDSA-P256-SHA256") == 0) r.algorithm = LAWS_SIGV4A;
  else return raise(L, "%s: options.algorithm must be \"AWS4-HMAC-SHA256\" or \"AWS4-ECDSA-P256-SHA256\"", fn);
  if (r.region == NULL && r.algorithm == LAWS_SIGV4_HMAC) return raise(L, "%s: options.region is missing", fn);
  if (r.token && r.token_len == 0) r.token = NULL; /* an empty token is no token */
  /* these land in header values and in the credential scope: a CR/LF would inject a header,
   * a '/' would shift the scope. The message names the field, never the (secret) value. */
  if (bad_chars(r.access_key_id, r.akid_len, 0)) return raise(L, "%s: credentials.access_key_id contains a control character", fn);
  if (r.token && bad_chars(r.token, r.token_len, 0)) return raise(L, "%s: credentials.session_token contains a control character", fn);
  if (bad_chars(r.service, r.service_len, 1)) return raise(L, "%s: options.service contains a control character or '/'", fn);
  if (r.region && bad_chars(r.region, r.region_len, 1)) return raise(L, "%s: options.region contains a control character or '/'", fn);
  if (r.region_set && bad_chars(r.region_set, r.region_set_len, 1)) return raise(L, "%s: options.region_set contains a control character or '/'", fn);
  if (!lua_isnumber(L, 4)) return raise(L, "%s: options.time must be a number", fn);
  if (!(lua_tonumber(L, 4) >= 0 && lua_tonumber(L, 4) < 253402300800.0))
    return raise(L, "%s: options.time is out of range", fn);
  r.time = (int64_t)lua_tonumber(L, 4);
  if (url_only) r.presign = 1;
  r.canonical_only = canonical_only;
  if (!lua_isnil(L, S_HEADERS)) {
    if (!lua_istable(L, S_HEADERS)) return raise(L, "%s: request.headers must be a table", fn);
    if (copy) {  /* room for a few headers besides the (up to six) the signer adds */
      lua_createtable(L, 0, 8);
      lua_replace(L, S_HCOPY);
    }
    r.headers = read_headers(L, S_HEADERS, &nh, stack_h, copy);
    r.nheaders = nh;
  }
  rc = laws_sigv4_sign(upctx(L), &r, &res);
  if (rc == LAWS_SIGV4_EINVAL) return raise(L, "%s: %s", fn, res->error);
  if (rc != LAWS_SIGV4_OK) {
    lua_pushnil(L);
    lua_pushstring(L, rc == LAWS_SIGV4_ENOMEM ? "out of memory while signing" : "OpenSSL failure while signing");
    return 2;
  }
  if (canonical_only) {
    push_canonical(L, r.token, r.token_len, res->canonical_request, res->canonical_len);
    lua_pushlstring(L, res->string_to_sign, res->sts_len);
    return 2;
  }

  if (url_only) {
    lua_pushlstring(L, res->url, res->url_len);
  } else {
    push_signed(L, &r, res);
  }
  push_details(L, &r, res);
  return 2;
}

/* The name slot of a header the signer adds, or -1 for one this file does not know. */
static int added_name(const char *n) {
  int i;
  switch (n[0]) {
  case 'H': i = N_HOST; break;
  case 'A': i = N_AUTHORIZATION; break;
  case 'X':
    switch (strncmp(n, "X-Amz-", 6) == 0 ? n[6] : 0) {
    case 'D': i = N_DATE; break;
    case 'R': i = N_REGION_SET; break;
    case 'S': i = N_SEC_TOKEN; break;
    case 'C': i = N_CONTENT_SHA; break;
    default: return -1;
    }
    break;
  default: return -1;
  }
  return strcmp(NAMES[i], n) == 0 ? i : -1;
}

/* Pushes s, reusing the string last given out through upvalue up when it has the same bytes
 * (the host and, within a second, the date repeat from one signature to the next). */
static void push_cached(lua_State *L, int up, const char *s, size_t n) {
  size_t cl;
  const char *c = lua_tolstring(L, up, &cl);
  if (c != NULL && cl == n && memcmp(c, s, n) == 0) {
    lua_pushvalue(L, up);
    return;
  }
  lua_pushlstring(L, s, n);
  lua_pushvalue(L, -1);
  lua_replace(L, up);
}

/* The signed request: the table at S_SIGNED (every field of request), with new headers (the
 * copy at S_HCOPY less the headers the signer replaces, plus those it adds) and, presigned,
 * the new url. */
static void push_signed(lua_State *L, const laws_sigv4_request *rq, const laws_sigv4_result *res) {
  size_t i;
  int k;
  if (rq->presign) {
    lua_pushvalue(L, UP_NAME(N_URL));
    lua_pushlstring(L, res->url, res->url_len);
    lua_rawset(L, S_SIGNED);
  }
  if (lua_isnil(L, S_HCOPY)) {
    lua_createtable(L, 0, res->nadded);
    lua_replace(L, S_HCOPY);
  }
  for (i = 0; i < rq->nheaders; i++) {
    if (!res->dropped[i]) continue;
    lua_pushlstring(L, rq->headers[i].name, rq->headers[i].nlen);
    lua_pushnil(L);
    lua_rawset(L, S_HCOPY);
  }
  for (k = 0; k < res->nadded; k++) {
    int n = added_name(res->added_name[k]);
    if (n >= 0) lua_pushvalue(L, UP_NAME(n));
    else lua_pushstring(L, res->added_name[k]);
    if (n == N_SEC_TOKEN && rq->token) {
      lua_pushvalue(L, S_TOKEN);  /* the same bytes as credentials.session_token: the caller's string */
    } else if (n == N_HOST) {
      push_cached(L, UP_LAST_HOST, res->added_value[k], res->added_len[k]);
    } else if (n == N_DATE) {
      push_cached(L, UP_LAST_DATE, res->added_value[k], res->added_len[k]);
    } else {
      lua_pushlstring(L, res->added_value[k], res->added_len[k]);
    }
    lua_rawset(L, S_HCOPY);
  }
  lua_pushvalue(L, UP_NAME(N_HEADERS));
  lua_pushvalue(L, S_HCOPY);
  lua_rawset(L, S_SIGNED);
  lua_pushvalue(L, S_SIGNED);
}

static int l_sign(lua_State *L) { return sign_impl(L, 0); }
static int l_canonical(lua_State *L) { return sign_impl(L, 1); }

static int l_cached_keys(lua_State *L) {
  const char *alg = luaL_optstring(L, 1, "AWS4-HMAC-SHA256");
  lua_pushinteger(L, laws_sigv4_cached_keys(upctx(L), strcmp(alg, "AWS4-ECDSA-P256-SHA256") == 0));
  return 1;
}

static int l_pubkey(lua_State *L) {
  size_t al, sl;
  const char *akid = luaL_checklstring(L, 1, &al), *secret = luaL_checklstring(L, 2, &sl);
  laws_ec_key *k = laws_sigv4a_derive(akid, al, secret, sl);
  unsigned char x[32], y[32];
  char hx[65], hy[65];
  if (k == NULL) {
    lua_pushnil(L);
    lua_pushstring(L, "sigv4a key derivation failed");
    return 2;
  }
  laws_sigv4a_pubkey(k, x, y);
  laws_sigv4a_key_free(k);
  laws_hex(x, 32, hx);
  laws_hex(y, 32, hy);
  lua_pushstring(L, hx);
  lua_pushstring(L, hy);
  return 2;
}

static void unhex_arg(lua_State *L, int i, unsigned char *out, size_t n, size_t *got) {
  size_t len;
  const char *s = luaL_checklstring(L, i, &len);
  if (len % 2 || len / 2 > n || laws_unhex(s, len / 2, out) != 0) luaL_argerror(L, i, "bad hex string");
  *got = len / 2;
}

/* sigv4a_verify(xhex, yhex, message, sighex) -> boolean */
static int l_verify(lua_State *L) {
  unsigned char x[32], y[32], sig[128];
  size_t xl, yl, sl, ml;
  const char *msg;
  int ok;
  unhex_arg(L, 1, x, 32, &xl);
  unhex_arg(L, 2, y, 32, &yl);
  msg = luaL_checklstring(L, 3, &ml);
  unhex_arg(L, 4, sig, sizeof sig, &sl);
  if (xl != 32 || yl != 32) return luaL_argerror(L, xl != 32 ? 1 : 2, "expected 64 hex digits");
  ok = laws_sigv4a_verify(x, y, msg, ml, sig, sl);
  lua_pushboolean(L, ok == 1);
  return 1;
}

static const luaL_Reg with_ctx[] = {
  {"sigv4_sign", l_sign},
  {"sigv4_canonical", l_canonical},
  {"sigv4_cached_keys", l_cached_keys},
  {NULL, NULL}
};

int laws_sigv4_open(lua_State *L) {
  int t = lua_gettop(L), i;
  ctx_box *b = (ctx_box *)lua_newuserdata(L, sizeof *b);
  b->c = NULL;  /* closed until it is open */
  laws_class_open(L, LAWS_SIGNER_MT, NULL, ctx_close, ctx_tostring);
  luaL_setmetatable(L, LAWS_SIGNER_MT);
  if ((b->c = laws_sigv4_ctx_new()) == NULL) return luaL_error(L, "laws.core: out of memory");
  lua_createtable(L, 0, 1);  /* t + 2: the metatable of details tables */
  lua_pushcfunction(L, details_index);
  lua_setfield(L, -2, "__index");
  luaL_checkstack(L, 2 * NOPTS + N_COUNT + NUPVALUES + 4, "laws.core");
  for (i = 0; i < NOPTS; i++) {  /* t + 3 ...: the option names, anchored (see ctx_box) */
    lua_pushstring(L, OPTS[i]);
    b->optname[i] = lua_tostring(L, -1);
  }
  for (i = 0; i < N_COUNT; i++) {  /* t + 3 + NOPTS ... */
    lua_pushstring(L, NAMES[i]);
    b->name[i] = lua_tostring(L, -1);
  }
  for (i = 0; with_ctx[i].name; i++) {
    int j;
    lua_pushvalue(L, t + 1);
    lua_pushvalue(L, t + 2);
    for (j = 0; j < N_COUNT; j++) lua_pushvalue(L, t + 3 + NOPTS + j);
    lua_pushnil(L);  /* UP_LAST_HOST */
    lua_pushnil(L);  /* UP_LAST_DATE */
    for (j = 0; j < NOPTS; j++) lua_pushvalue(L, t + 3 + j);  /* anchors of optname */
    lua_pushcclosure(L, with_ctx[i].func, NUPVALUES + NOPTS);
    lua_setfield(L, t, with_ctx[i].name);
  }
  lua_pushcfunction(L, l_pubkey);
  lua_setfield(L, t, "sigv4a_pubkey");
  lua_pushcfunction(L, l_verify);
  lua_setfield(L, t, "sigv4a_verify");
  lua_settop(L, t);
  return 0;
}
