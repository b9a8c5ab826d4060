/* The http binding's helpers, for other binding files (l_multi.c reuses them so a request
 * table means the same thing to the blocking and the async transport). */
#ifndef LAWS_L_HTTP_H
#define LAWS_L_HTTP_H

#include "compat.h"
#include "http.h"

#define LAWS_HTTP_SESSION_MT "laws.http.session"

/* The session behind the userdata at idx; raises "attempt to use a closed session". */
laws_http_session *laws_lhttp_checksession(lua_State *L, int idx);

/* Reads the request table at idx into *req (raises on misuse: unknown option, bad type,
 * missing url, CR/LF/NUL in a header). Pushes one scratch value holding the header lines: keep
 * it and the request table referenced until the transfer has finished. Session defaults
 * (timeout, connect_timeout, ca_file) are taken from the session userdata at sidx (0: none). */
void laws_lhttp_checkreq(lua_State *L, int idx, int sidx, laws_http_req *req);

/* Wipes the header lines checkreq copied (they hold the session token and the signature). */
void laws_lhttp_wipereq(laws_http_req *req);

/* Pushes the result: res table (1 value) or nil, err (2 values). Returns the count. */
int laws_lhttp_pushresult(lua_State *L, const laws_http_res *res);

#endif
