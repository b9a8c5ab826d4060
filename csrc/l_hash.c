/* laws.core hash and text helpers: sha256_hex, hmac_sha256, hex, uri_encode, json_plain.
 * Translation only. One reusable
 * laws_hasher per Lua state (an upvalue userdata), so a helper call fetches nothing. */
#include <openssl/crypto.h>
#include <string.h>

#include "laws_lua.h"
#include "hash.h"
#include "sigv4.h"
#include "text.h"

/* One idempotent release for close, __gc and __close. */
static int hasher_close(lua_State *L) {
  laws_hasher **h = (laws_hasher **)luaL_checkudata(L, 1, LAWS_HASHER_MT);
  laws_hasher_free(*h);
  *h = NULL;
  return 0;
}

static int hasher_tostring(lua_State *L) {
  laws_hasher **h = (laws_hasher **)luaL_checkudata(L, 1, LAWS_HASHER_MT);
  return laws_push_udname(L, 1, *h == NULL);
}

static laws_hasher *uphasher(lua_State *L) {
  laws_hasher *h = *(laws_hasher **)lua_touserdata(L, lua_upvalueindex(1));
  if (h == NULL) luaL_error(L, "attempt to use a closed hasher");
  return h;
}

static int l_sha256_hex(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  unsigned char d[LAWS_SHA256_LEN];
  char hex[2 * LAWS_SHA256_LEN + 1];
  if (laws_hasher_sha256(uphasher(L), s, len, d) != 0) return luaL_error(L, "sha256_hex: OpenSSL failure");
  laws_hex(d, sizeof d, hex);
  lua_pushlstring(L, hex, 2 * LAWS_SHA256_LEN);
  return 1;
}

static int l_hmac_sha256(lua_State *L) {
  size_t klen, dlen;
  const char *key = luaL_checklstring(L, 1, &klen);
  const char *data = luaL_checklstring(L, 2, &dlen);
  const char *fmt = luaL_optstring(L, 3, "raw");
  unsigned char d[LAWS_SHA256_LEN];
  char hex[2 * LAWS_SHA256_LEN + 1];
  int as_hex = fmt[0] == 'h' && fmt[1] == 'e' && fmt[2] == 'x' && fmt[3] == '\0';
  if (!as_hex && !(fmt[0] == 'r' && fmt[1] == 'a' && fmt[2] == 'w' && fmt[3] == '\0'))
    return luaL_argerror(L, 3, "expected \"hex\" or \"raw\"");
  if (laws_hasher_hmac(uphasher(L), key, klen, data, dlen, d) != 0) return luaL_error(L, "hmac_sha256: OpenSSL failure");
  if (as_hex) {
    laws_hex(d, sizeof d, hex);
    lua_pushlstring(L, hex, 2 * LAWS_SHA256_LEN);
  } else {
    lua_pushlstring(L, (const char *)d, sizeof d);
  }
  OPENSSL_cleanse(d, sizeof d); /* an HMAC output is often a derived key */
  return 1;
}

static int l_hex(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  char *out;
  if (len > ((size_t)-1) / 2 - 1) return luaL_argerror(L, 1, "string too long");
  out = lua_newuserdata(L, 2 * len + 1); /* collected even if the push below raises */
  laws_hex((const unsigned char *)s, len, out);
  lua_pushlstring(L, out, 2 * len);
  return 1;
}

/* uri_encode(s [, keep_slash]) -> RFC 3986 percent-encoding (unreserved bytes kept, and '/'
 * with keep_slash); s itself when nothing needs encoding. */
static int l_uri_encode(lua_State *L) {
  size_t len, plain;
  const char *s = luaL_checklstring(L, 1, &len);
  int keep = lua_toboolean(L, 2);
  laws_buf b;
  plain = laws_uri_plain_len(s, len, keep);
  if (plain == len) {
    lua_settop(L, 1);
    return 1;
  }
  memset(&b, 0, sizeof b);
  laws_buf_add(&b, s, plain);
  laws_uri_encode_ex(&b, s + plain, len - plain, keep);
  if (b.oom) {
    laws_buf_free(&b);
    return luaL_error(L, "uri_encode: out of memory");
  }
  lua_pushlstring(L, b.p ? b.p : "", b.len);
  laws_buf_free(&b);
  return 1;
}

/* json_plain(s) -> true when s needs no escaping inside a JSON string */
static int l_json_plain(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  lua_pushboolean(L, laws_json_plain_len(s, len) == len);
  return 1;
}

int laws_hash_open(lua_State *L) {
  int t = lua_gettop(L);
  laws_hasher **h = (laws_hasher **)lua_newuserdata(L, sizeof *h);
  *h = NULL;  /* closed until it is open */
  laws_class_open(L, LAWS_HASHER_MT, NULL, hasher_close, hasher_tostring);
  luaL_setmetatable(L, LAWS_HASHER_MT);
  if ((*h = laws_hasher_new()) == NULL) return luaL_error(L, "laws.core: cannot set up SHA-256/HMAC (OpenSSL)");
  lua_pushvalue(L, t + 1);
  lua_pushcclosure(L, l_sha256_hex, 1);
  lua_setfield(L, t, "sha256_hex");
  lua_pushvalue(L, t + 1);
  lua_pushcclosure(L, l_hmac_sha256, 1);
  lua_setfield(L, t, "hmac_sha256");
  lua_pushcfunction(L, l_hex);
  lua_setfield(L, t, "hex");
  lua_pushcfunction(L, l_uri_encode);
  lua_setfield(L, t, "uri_encode");
  lua_pushcfunction(L, l_json_plain);
  lua_setfield(L, t, "json_plain");
  lua_settop(L, t);
  return 0;
}
