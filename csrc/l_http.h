/* The http binding's helpers, for other binding files (l_multi.c reuses them so a request
 * table means the same thing to the blocking and the async transport). */
#ifndef LAWS_L_HTTP_H
#define LAWS_L_HTTP_H

#include "laws_lua.h"
#include "http.h"

/* The session behind the userdata at idx; raises "attempt to use a closed session". */
laws_http_session *laws_lhttp_checksession(lua_State *L, int idx);

/* Reads the request table at idx into *req (raises on misuse: unknown option, bad type,
 * missing url, CR/LF/NUL in a header, closed session). The header lines are written into
 * *scratch (a buffer the caller owns and reuses, so a raise leaks nothing): keep it and the
 * request table unchanged until laws_http_xfer_init has run (it copies the lines), then call
 * laws_lhttp_wipereq. Session defaults (timeout, connect_timeout, ca_file) are taken from
 * the session userdata at sidx (0: none). Leaves the stack as it was. */
void laws_lhttp_checkreq(lua_State *L, int idx, int sidx, laws_http_req *req, laws_buf *scratch);

/* Wipes the header lines checkreq wrote (they hold the session token and the signature). */
void laws_lhttp_wipereq(laws_buf *scratch);

/* Pushes the result: res table (1 value) or nil, err (2 values). Returns the count. */
int laws_lhttp_pushresult(lua_State *L, const laws_http_res *res);

#endif
