/* libcurl multi driver for laws.async: many transfers on one thread, connections and DNS
 * cache shared through the multi handle, waiting done with poll() on the sockets libcurl
 * reports through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION (no busy waiting).
 * Pure C: no lua.h. The caller owns the loop; this file never calls back into user code. */
#ifndef LAWS_MULTI_H
#define LAWS_MULTI_H

#include <stddef.h>
#include <stdint.h>
#include <curl/curl.h>

typedef struct laws_multi laws_multi;

typedef struct laws_buf { char *p; size_t n, cap; } laws_buf;

/* One transfer. Filled by laws_xfer_setup (request) and by libcurl (response). */
typedef struct laws_xfer {
  CURL *easy;
  struct curl_slist *req_headers;
  char *body;                 /* copy of the request body (libcurl reads it during the transfer) */
  size_t body_len;
  laws_buf res_body, res_headers;  /* raw header block: every header line of the last response */
  long status;
  CURLcode result;
  char errbuf[CURL_ERROR_SIZE];
  uint64_t id;
  int in_multi;
  struct laws_xfer *next;     /* free list / done list */
} laws_xfer;

typedef struct laws_xfer_req {
  const char *method, *url;
  const char *const *headers; size_t nheaders;   /* "Name: value" lines */
  const char *body; size_t body_len;
  long timeout_ms, connect_timeout_ms;           /* 0: none */
} laws_xfer_req;

#define LAWS_FD_READ 1
#define LAWS_FD_WRITE 2
typedef struct laws_multi_fd { int fd; int events; } laws_multi_fd;

laws_multi *laws_multi_new(void);
void laws_multi_free(laws_multi *m);            /* removes and frees every transfer */

/* A transfer object (pooled: its easy handle is reused, so is its TLS session cache). */
laws_xfer *laws_multi_xfer(laws_multi *m);
/* Prepare the request; returns 0 or a CURLcode. Copies everything it needs. */
int laws_xfer_setup(laws_xfer *x, const laws_xfer_req *r);
/* Start it. Returns CURLM_OK or a CURLMcode; on failure the transfer is not in the multi. */
int laws_multi_start(laws_multi *m, laws_xfer *x);
/* Remove (if running) and return to the pool. Safe at any time: used for cancellation. */
void laws_multi_release(laws_multi *m, laws_xfer *x);

/* Wait at most timeout_ms (-1: until something happens) for socket events or libcurl's
 * timer, then let libcurl act on them. Returns the number of transfers still running, or
 * -1 with *err set on a multi-level failure. */
int laws_multi_wait(laws_multi *m, long timeout_ms, const char **err);
/* Next finished transfer (result and status filled), or NULL. It stays owned by the
 * caller until laws_multi_release. */
laws_xfer *laws_multi_done(laws_multi *m);

/* Milliseconds until libcurl's timer is due (0: now), or -1 when none is set. */
long laws_multi_timeout_ms(laws_multi *m);
/* Copies up to max sockets libcurl waits on into out; returns how many there are. */
size_t laws_multi_fds(laws_multi *m, laws_multi_fd *out, size_t max);
size_t laws_multi_running(const laws_multi *m);
/* libcurl's name of a CURLcode without the CURLE_ prefix ("COULDNT_CONNECT"). */
const char *laws_multi_code_name(int code);

#endif
