/* Shared by the binding files: each area exports one opener that adds its functions
 * to the table on top of the stack (the laws.core module table). */
#ifndef LAWS_LUA_H
#define LAWS_LUA_H

#include "compat.h"

int laws_hash_open(lua_State *L);   /* l_hash.c:   sha256_hex, hmac_sha256, hex helpers */
int laws_sigv4_open(lua_State *L);  /* l_sigv4.c:  sigv4_sign, sigv4a key derivation */
int laws_http_open(lua_State *L);   /* l_http.c:   http sessions over libcurl easy + share */
int laws_retry_open(lua_State *L);  /* l_retry.c:  backoff schedules, retry quota, rate limiter */
int laws_time_open(lua_State *L);   /* l_time.c:   monotonic/wall clocks, sleep, uuid4 */
int laws_multi_open(lua_State *L);  /* l_multi.c:  libcurl multi driver for laws.async */

#endif
