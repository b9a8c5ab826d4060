/* The multi driver (csrc/multi.c) from C: transfers from http.c's laws_http_xfer_init driven
 * by laws_multi_wait / laws_multi_done against the tiny keep-alive server, idle waits, removal
 * of a running transfer, the socket list for external loops, a refused connection. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include "http.h"
#include "mini_httpd.h"
#include "multi.h"
#include "tap.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_idle(laws_multi *m) {
  const char *err = NULL;
  double t0 = now_s();
  clock_t c0 = clock();
  int r = laws_multi_wait(m, 60, &err);
  double dt = now_s() - t0;
  double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
  TAP_OK(r == 0 && err == NULL, "idle wait returns 0 running");
  TAP_OK(dt >= 0.055 && dt < 0.5, "idle wait of 60 ms took %.1f ms", dt * 1e3);
  TAP_OK(cpu < 0.01, "idle wait used %.2f ms of CPU", cpu * 1e3);
  TAP_OK(laws_multi_fds(m, NULL, 0) == 0, "no sockets watched when idle");
  TAP_OK(laws_multi_timeout_ms(m) == -1, "no libcurl timer when idle");
}

#define N 20

static void test_many(laws_multi *m, laws_http_session *s, const char *url) {
  static laws_http_xfer x[N];
  laws_http_req req;
  int i, ok = 0, done = 0, saw_fds = 0, bad_ids = 0;
  const char *err = NULL;
  double t0 = now_s();
  memset(&req, 0, sizeof req);
  req.method = "POST";
  req.url = url;
  req.body = "{}";
  req.body_len = 2;
  for (i = 0; i < N; i++) {
    if (laws_http_xfer_init(&x[i], s, &req) != CURLE_OK || laws_multi_add(m, x[i].easy) != CURLM_OK) break;
  }
  TAP_OK(i == N, "%d transfers added", N);
  TAP_OK(laws_multi_count(m) == N, "count %zu", laws_multi_count(m));
  while (done < N && now_s() - t0 < 10) {
    CURL *e;
    CURLcode rc;
    laws_multi_fd fds[64];
    size_t k, n;
    if (laws_multi_wait(m, 1000, &err) < 0) break;
    n = laws_multi_fds(m, fds, 64);
    if (n > 0) saw_fds = 1;
    for (k = 0; k < n && k < 64; k++)
      if (fds[k].id == 0 || (fds[k].events & (LAWS_FD_READ | LAWS_FD_WRITE)) == 0) bad_ids++;
    while ((e = laws_multi_done(m, &rc)) != NULL) {
      laws_http_xfer *xp = NULL;
      laws_http_res res;
      curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&xp);
      laws_http_xfer_result(xp, rc, &res);
      if (res.code == CURLE_OK && res.status == 200 && res.body->len == 12 &&
          memcmp(res.body->p, "hello, laws\n", 12) == 0) ok++;
      laws_http_xfer_cleanup(xp);
      done++;
    }
  }
  TAP_OK(err == NULL, "no multi error (%s)", err ? err : "");
  TAP_OK(ok == N, "%d of %d answered 200 with the body", ok, N);
  TAP_OK(saw_fds, "sockets listed while transfers ran");
  TAP_OK(bad_ids == 0, "every listed socket has an id and events");
  TAP_OK(laws_multi_count(m) == 0, "count back to 0");
}

static void test_remove(laws_multi *m, laws_http_session *s, const char *url) {
  laws_http_xfer x;
  laws_http_req req;
  const char *err = NULL;
  CURLcode rc;
  int added;
  memset(&req, 0, sizeof req);
  req.url = url;
  /* (TAP_OK evaluates its condition twice: no side effects inside) */
  added = laws_http_xfer_init(&x, s, &req) == CURLE_OK && laws_multi_add(m, x.easy) == CURLM_OK;
  TAP_OK(added, "transfer added");
  TAP_OK(laws_multi_timeout_ms(m) == 0, "libcurl asks to act at once after an add");
  laws_multi_wait(m, 0, &err);
  laws_multi_remove(m, x.easy);
  TAP_OK(laws_multi_count(m) == 0, "removed mid-transfer: count %zu", laws_multi_count(m));
  laws_multi_wait(m, 20, &err);
  TAP_OK(laws_multi_done(m, &rc) == NULL, "a removed transfer is never reported done");
  laws_multi_remove(m, x.easy);  /* twice: harmless */
  laws_http_xfer_cleanup(&x);
}

static void test_refused(laws_multi *m, laws_http_session *s) {
  laws_http_xfer x;
  laws_http_req req;
  laws_http_res res;
  const char *err = NULL;
  CURL *e = NULL;
  CURLcode rc = CURLE_OK;
  double t0 = now_s();
  memset(&req, 0, sizeof req);
  req.url = "http://127.0.0.1:1/";
  req.connect_timeout_ms = 2000;
  laws_http_xfer_init(&x, s, &req);
  laws_multi_add(m, x.easy);
  while (e == NULL && now_s() - t0 < 5) {
    laws_multi_wait(m, 500, &err);
    e = laws_multi_done(m, &rc);
  }
  TAP_OK(e == x.easy, "refused transfer reported done");
  laws_http_xfer_result(&x, rc, &res);
  TAP_STREQ(res.code_name, "COULDNT_CONNECT", "refused: COULDNT_CONNECT");
  laws_http_xfer_cleanup(&x);
}

int main(void) {
  mini_httpd h;
  pthread_t t;
  char url[64];
  laws_http_session *s;
  laws_multi *m;
  m = laws_multi_new();
  s = laws_http_session_new();
  TAP_OK(m != NULL && s != NULL, "multi and session");
  test_idle(m);
  if (mini_httpd_listen(&h) != 0) {
    TAP_OK(0, "cannot listen on loopback");
    return TAP_DONE();
  }
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x", h.port);
  pthread_create(&t, NULL, mini_httpd_run, &h);
  test_many(m, s, url);
  test_remove(m, s, url);
  test_refused(m, s);
  laws_multi_free(m);
  laws_http_session_free(s);
  h.stop = 1;
  pthread_join(t, NULL);
  curl_global_cleanup();
  return TAP_DONE();
}
