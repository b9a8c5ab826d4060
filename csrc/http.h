/* HTTP over libcurl, pure C (no lua.h). Used by l_http.c (blocking easy transfers) and by
 * multi.c (the async driver adds the same easy handles to a curl multi handle).
 *
 * One transfer's life:
 *   laws_http_xfer x;
 *   laws_http_xfer_init(&x, session, &req)      acquire a pooled easy handle, set every option
 *   curl_easy_perform(x.easy)   -- or curl_multi_add_handle(m, x.easy) ... CURLMSG_DONE
 *   laws_http_xfer_result(&x, rc, &res)          status, headers, body or the error
 *   laws_http_xfer_cleanup(&x)                   frees buffers, gives the easy handle back
 * The request strings (url, headers, body, ca_file) must stay alive until xfer_result:
 * libcurl reads the body in place (CURLOPT_POSTFIELDS, no copy). CURLOPT_PRIVATE of the easy
 * handle points at the laws_http_xfer, so a multi driver can find it from CURLMSG_DONE. */
#ifndef LAWS_HTTP_H
#define LAWS_HTTP_H

#include <stddef.h>
#include <curl/curl.h>

#include "buf.h"

/* A session: a curl share (DNS cache, TLS sessions, connection cache) and a small pool of idle
 * easy handles. Single-threaded: use it from the thread that made it. It must outlive every
 * transfer started from it (a multi driver keeps a reference while transfers run). */
typedef struct laws_http_session laws_http_session;

laws_http_session *laws_http_session_new(void);   /* NULL when out of memory */
void laws_http_session_free(laws_http_session *s); /* also frees idle easy handles */

/* Defaults for every request laws makes, on every transport: laws.core exports them as
 * core.http_limits { connect_timeout, timeout (s), max_body (bytes) } for the Lua transports.
 * A request's own timeout/connect_timeout/max_body (or its session's) replaces them. */
#define LAWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define LAWS_HTTP_DEFAULT_TIMEOUT_MS 60000L
#define LAWS_HTTP_DEFAULT_MAX_BODY ((size_t)64 * 1024 * 1024)

/* A request's timeout_ms / connect_timeout_ms: 0 takes the process default, LAWS_HTTP_NO_LIMIT
 * says "no bound of its own" (timeout: the attempt is not bounded; connect_timeout: the connect
 * is bounded by timeout alone). */
#define LAWS_HTTP_NO_LIMIT (-1L)

/* The process-wide defaults used when neither a request nor its session sets a value; they
 * start as the LAWS_HTTP_DEFAULT_* above. In laws_http_limits_set a 0 leaves that default as it
 * is; a timeout may be LAWS_HTTP_NO_LIMIT. Not thread-safe: set them before transfers run. */
typedef struct laws_http_limits {
  long connect_timeout_ms, timeout_ms;
  size_t max_body;
} laws_http_limits;
void laws_http_limits_get(laws_http_limits *out);
void laws_http_limits_set(const laws_http_limits *in);

typedef struct laws_http_req {
  const char *method;          /* "GET", "POST", ...; NULL means GET */
  const char *url;             /* http:// or https:// only */
  const char *const *headers;  /* "Name: value" lines (already validated: no CR, LF, NUL) */
  size_t nheaders;
  const char *body;            /* NULL: no body; otherwise body_len bytes (may be 0) */
  size_t body_len;
  long timeout_ms;             /* the whole attempt; 0: the default; LAWS_HTTP_NO_LIMIT: none */
  long connect_timeout_ms;     /* 0: the default; LAWS_HTTP_NO_LIMIT: bounded by timeout only */
  size_t max_body;             /* response body cap in bytes; 0: the default */
  const char *ca_file;         /* NULL: $AWS_CA_BUNDLE if set, else the system bundle */
  int no_resend;               /* 1: fail (GOT_NOTHING) instead of letting libcurl re-send the
                                  request on a fresh connection (see "Re-sent requests" below) */
} laws_http_req;

typedef struct laws_http_xfer {
  CURL *easy;
  laws_http_session *session;
  struct curl_slist *hdrs;
  laws_buf head;               /* final response's headers: "name\0value\0"..., names lower-cased */
  laws_buf body;
  size_t nhead;                /* number of headers in head */
  int oom;                     /* a callback ran out of memory */
  int sends;                   /* times libcurl started sending this request (CURLOPT_PREREQFUNCTION) */
  int no_resend, refused;      /* req->no_resend; a re-send was refused */
  size_t max_body;             /* the cap in force for this transfer */
  int too_large;               /* the response announced or grew past max_body: aborted */
  int head_only;               /* a HEAD request: its Content-Length announces no body */
  long status;                 /* status of the response being read (header callback) */
  int live;                    /* counted in its session's transfers (init to cleanup) */
  int nhold;                   /* connections this transfer uses (see "Stray responses") */
  int hold_fd[4];
  unsigned hold_gen[4];
  char errbuf[CURL_ERROR_SIZE];
  void *user;                  /* free for the caller (multi driver: its own task record) */
} laws_http_xfer;

typedef struct laws_http_res {
  CURLcode code;               /* CURLE_OK: status/head/body are valid */
  const char *code_name;       /* "COULDNT_CONNECT" ... (CURLE_ name without prefix), or
                                  "ResponseTooLarge" (code CURLE_FILESIZE_EXCEEDED) when the
                                  body would pass max_body */
  const char *message;         /* libcurl's message (error buffer or curl_easy_strerror) */
  long status;
  const laws_buf *head;        /* points into the xfer: valid until xfer_cleanup */
  size_t nhead;
  const laws_buf *body;
  int resent;                  /* extra sends libcurl made on its own (0 normally); also on errors */
} laws_http_res;

/* Returns CURLE_OK, or an error (x->errbuf says why) after which only cleanup is allowed. */
CURLcode laws_http_xfer_init(laws_http_xfer *x, laws_http_session *s, const laws_http_req *req);
void laws_http_xfer_result(laws_http_xfer *x, CURLcode rc, laws_http_res *res);
void laws_http_xfer_cleanup(laws_http_xfer *x);

/* Blocking: init + curl_easy_perform + result. Call xfer_cleanup afterwards in all cases. */
void laws_http_perform(laws_http_xfer *x, laws_http_session *s, const laws_http_req *req,
                       laws_http_res *res);

/* libcurl's header callback: takes one header line of the response ("Name: value\r\n", a status
 * line, an obs-fold continuation) into x->head. Returns n, or 0 when out of memory. Exposed for
 * the fuzz target. */
size_t laws_http_header_line(laws_http_xfer *x, const char *p, size_t n);

/* "COULDNT_CONNECT" for CURLE_COULDNT_CONNECT; "UNKNOWN" for a code this libcurl version does
 * not name. Never NULL. */
const char *laws_http_code_name(CURLcode c);

/* Connections the session's share has opened so far (CURLINFO_NUM_CONNECTS summed). */
long laws_http_session_connects(const laws_http_session *s);

/* Re-sent requests. When a reused keep-alive connection dies before the first response byte
 * (EOF or RECV_ERROR on read, SEND_ERROR while sending), libcurl 7.x sends the same request again
 * on a fresh connection, up to 5 times, and reports only the last outcome ("Connection died,
 * retrying a fresh connect", Curl_retry_request in lib/transfer.c). No option turns this off.
 * The server may have received and acted on the first copy (a POST executed twice). We count
 * the sends with CURLOPT_PREREQFUNCTION (called once per request written, reused connection or
 * new): res->resent = sends - 1. With req->no_resend the second send is aborted instead and the
 * transfer fails with CURLE_GOT_NOTHING, so the caller's retry logic decides. */
long laws_http_session_resends(const laws_http_session *s); /* sum of res->resent so far */

/* Stray responses. libcurl 7.x checks an idle keep-alive connection only for EOF before it
 * reuses it: bytes the server wrote after a complete response (an unsolicited second answer)
 * stay queued and are read as the answer to the next request, and every later answer comes
 * one request late. The session knows the sockets of its connections (open/close socket
 * callbacks) and which ones running transfers use (opened by them, or reused: found by local
 * port in the pre-request callback). laws_http_xfer_init first polls the idle ones (one poll
 * serves a burst of transfers set up within 1 ms with nothing becoming idle in between); one
 * with bytes waiting gets a socket that reads EOF dup'ed over its descriptor, so libcurl's own
 * check finds it dead and closes it instead of reusing it. A socket in use is never touched.
 * Bytes already read into libcurl's or the TLS layer's buffers, or arriving after the next
 * request has gone out, are not seen. Returns the connections closed this way so far. */
long laws_http_session_strays(const laws_http_session *s);

#endif
