/* Shared by the binding files: each area exports one opener that adds its functions
 * to the table on top of the stack (the laws.core module table). */
#ifndef LAWS_LUA_H
#define LAWS_LUA_H

#include "compat.h"

/* Metatable names (registry keys and __name): laws.<type>. */
#define LAWS_ERROR_MT "laws.error"               /* error values made in C (core.error_mt) */
#define LAWS_HTTP_SESSION_MT "laws.http.session"
#define LAWS_MULTI_MT "laws.multi"
#define LAWS_SIGNER_MT "laws.sigv4.signer"       /* key caches and buffers of one Lua state */
#define LAWS_HASHER_MT "laws.hasher"
#define LAWS_BACKOFF_MT "laws.backoff.schedule"  /* one policy's delays (laws.backoff is the Lua policy) */
#define LAWS_QUOTA_MT "laws.retry.quota"
#define LAWS_RATELIMITER_MT "laws.retry.ratelimiter"

int laws_hash_open(lua_State *L);   /* l_hash.c:   sha256_hex, hmac_sha256, hex helpers */
int laws_sigv4_open(lua_State *L);  /* l_sigv4.c:  sigv4_sign, sigv4a key derivation */
int laws_http_open(lua_State *L);   /* l_http.c:   http sessions over libcurl easy + share */
int laws_retry_open(lua_State *L);  /* l_retry.c:  backoff schedules, retry quota, rate limiter */
int laws_time_open(lua_State *L);   /* l_time.c:   monotonic/wall clocks, sleep, uuid4 */
int laws_multi_open(lua_State *L);  /* l_multi.c:  libcurl multi driver for laws.async */

/* core.c. The metatable of a userdata type that holds a resource (liolib's model): methods
 * (NULL: none) plus close as __index; close also as __gc and __close (__close is harmless
 * before 5.4); __name = mt; tostring as __tostring ("<mt> (0x...)" or "<mt> (closed)"). close
 * must be idempotent and every method must raise "attempt to use a closed <noun>" once it ran.
 * Leaves the stack as it was. */
void laws_class_open(lua_State *L, const char *mt, const luaL_Reg *methods, lua_CFunction close,
                     lua_CFunction tostring);
/* Pushes "<__name> (closed)" or "<__name> (0x...)" for the userdata at idx: for __tostring. */
int laws_push_udname(lua_State *L, int idx, int closed);

#endif
