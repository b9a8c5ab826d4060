/* libcurl multi driver for laws.async: many transfers on one thread, waiting done with poll()
 * on the sockets libcurl reports through CURLMOPT_SOCKETFUNCTION / CURLMOPT_TIMERFUNCTION
 * (no busy waiting). Easy handles come from http.c (laws_http_xfer_init): this file only
 * drives them. Pure C: no lua.h; it never calls back into user code. */
#ifndef LAWS_MULTI_H
#define LAWS_MULTI_H

#include <stddef.h>
#include <curl/curl.h>

typedef struct laws_multi laws_multi;

#define LAWS_FD_READ 1
#define LAWS_FD_WRITE 2
/* id changes whenever libcurl starts watching a socket anew: an fd number closed and reused by
 * a new connection between two calls shows as a new id, so an event loop re-registers it. */
typedef struct laws_multi_fd { int fd; int events; unsigned id; } laws_multi_fd;

laws_multi *laws_multi_new(void);
/* The caller removes its transfers first (laws_multi_remove). */
void laws_multi_free(laws_multi *m);

/* Start a prepared easy handle. Returns CURLM_OK or the CURLMcode. */
CURLMcode laws_multi_add(laws_multi *m, CURL *easy);
/* Take a transfer out (finished or not): cancellation. Safe for a handle not in the multi. */
void laws_multi_remove(laws_multi *m, CURL *easy);

/* Wait at most timeout_ms (-1: until something happens) for socket events or libcurl's
 * timer, then let libcurl act on them. Returns the number of transfers still running, or
 * -1 with *err set on a multi-level failure. */
int laws_multi_wait(laws_multi *m, long timeout_ms, const char **err);
/* Next finished transfer: its easy handle (already removed from the multi) and result,
 * or NULL when none. */
CURL *laws_multi_done(laws_multi *m, CURLcode *result);

/* Milliseconds until libcurl's timer is due (0: now), or -1 when none is set. */
long laws_multi_timeout_ms(const laws_multi *m);
/* Copies up to max sockets libcurl waits on into out; returns how many there are. */
size_t laws_multi_fds(const laws_multi *m, laws_multi_fd *out, size_t max);
/* Transfers added and not yet done or removed. */
size_t laws_multi_count(const laws_multi *m);

#endif
