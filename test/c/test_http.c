/* csrc/http.c from C: buffers, code names, blocking transfers, the share between pooled easy
 * handles, the same transfer API driven by a curl multi handle (as multi.c does), the request
 * defaults and the response body cap. */
#include <pthread.h>

#include "tap.h"
#include "http.h"
#include "mini_httpd.h"

static void test_buf(void) {
  laws_buf b = { 0 };
  size_t i, reallocs = 0, cap = 0;
  int ok = 1;
  for (i = 0; i < 100000; i++) {
    char c = (char)('a' + i % 26);
    if (laws_buf_append(&b, &c, 1) != 0) ok = 0;
    if (b.cap != cap) { reallocs++; cap = b.cap; }
  }
  TAP_OK(ok && b.len == 100000, "100000 one-byte appends");
  TAP_OK(reallocs <= 10, "capacity grows geometrically (%zu growths)", reallocs);
  for (i = 0; i < b.len; i++) if (b.p[i] != (char)('a' + i % 26)) ok = 0;
  TAP_OK(ok, "content kept across growths");
  TAP_OK(laws_buf_append(&b, NULL, 0) == 0 && b.len == 100000, "empty append is a no-op");
  laws_buf_free(&b);
  TAP_OK(b.p == NULL && b.len == 0 && b.cap == 0, "free resets the buffer");
}

static void test_names(void) {
  TAP_STREQ(laws_http_code_name(CURLE_COULDNT_CONNECT), "COULDNT_CONNECT", "code 7");
  TAP_STREQ(laws_http_code_name(CURLE_OPERATION_TIMEDOUT), "OPERATION_TIMEDOUT", "code 28");
  TAP_STREQ(laws_http_code_name(CURLE_GOT_NOTHING), "GOT_NOTHING", "code 52");
  TAP_STREQ(laws_http_code_name(CURLE_PEER_FAILED_VERIFICATION), "PEER_FAILED_VERIFICATION", "code 60");
  TAP_STREQ(laws_http_code_name(CURLE_UNRECOVERABLE_POLL), "UNRECOVERABLE_POLL", "code 99");
  TAP_STREQ(laws_http_code_name((CURLcode)1000), "UNKNOWN", "unknown code");
}

static const char *header(const laws_http_res *r, const char *name) {
  const char *p = r->head->p;
  size_t i;
  for (i = 0; i < r->nhead; i++) {
    const char *v = p + strlen(p) + 1;
    if (strcmp(p, name) == 0) return v;
    p = v + strlen(v) + 1;
  }
  return NULL;
}

static void test_blocking(laws_http_session *s, const char *url) {
  const char *hdrs[] = { "X-Amz-Date: 20251126T000000Z", "X-Empty: " };
  laws_http_req req = { 0 };
  laws_http_xfer x;
  laws_http_res res;
  req.method = "POST";
  req.url = url;
  req.headers = hdrs;
  req.nheaders = 2;
  req.body = "{}";
  req.body_len = 2;
  req.timeout_ms = 5000;
  laws_http_perform(&x, s, &req, &res);
  TAP_OK(res.code == CURLE_OK, "POST succeeds (%s)", res.message);
  TAP_OK(res.status == 200, "status 200");
  TAP_OK(res.body && res.body->len == 12 && memcmp(res.body->p, "hello, laws\n", 12) == 0, "body");
  TAP_STREQ(header(&res, "content-type"), "text/plain", "header names lower-cased");
  TAP_STREQ(header(&res, "content-length"), "12", "every header kept");
  laws_http_xfer_cleanup(&x);
  TAP_OK(x.easy == NULL && x.body.p == NULL, "cleanup releases the handle and buffers");
}

/* Two easy handles alive at once from one session: the second reuses the first's connection
 * through the share's connection cache. */
static void test_share(laws_http_session *s, mini_httpd *h, const char *url) {
  laws_http_req req = { 0 };
  laws_http_xfer a, b;
  laws_http_res ra, rb;
  long c0 = laws_http_session_connects(s), s0 = h->connections;
  req.url = url;
  laws_http_perform(&a, s, &req, &ra);
  laws_http_perform(&b, s, &req, &rb);
  TAP_OK(a.easy != b.easy, "two distinct easy handles");
  TAP_OK(ra.status == 200 && rb.status == 200, "both answered");
  TAP_OK(laws_http_session_connects(s) - c0 == 0, "no new connection (session counted %ld)",
         laws_http_session_connects(s) - c0);
  TAP_OK(h->connections == s0, "server saw no new connection");
  laws_http_xfer_cleanup(&a);
  laws_http_xfer_cleanup(&b);
}

static void test_multi(laws_http_session *s, const char *url) {
  CURLM *m = curl_multi_init();
  laws_http_req req = { 0 };
  laws_http_xfer x[3];
  int i, running = 1, done = 0, ok = 1;
  req.url = url;
  for (i = 0; i < 3; i++) {
    if (laws_http_xfer_init(&x[i], s, &req) != CURLE_OK) ok = 0;
    x[i].user = &x[i];
    curl_multi_add_handle(m, x[i].easy);
  }
  TAP_OK(ok, "three transfers set up");
  while (running || done < 3) {
    CURLMsg *msg;
    int left;
    curl_multi_perform(m, &running);
    while ((msg = curl_multi_info_read(m, &left)) != NULL) {
      laws_http_xfer *xp = NULL;
      laws_http_res res;
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&xp);
      curl_multi_remove_handle(m, msg->easy_handle);
      laws_http_xfer_result(xp, msg->data.result, &res);
      if (xp == NULL || xp->user != xp || res.status != 200 || res.body->len != 12) ok = 0;
      done++;
    }
    if (running) curl_multi_poll(m, NULL, 0, 100, NULL);
  }
  TAP_OK(ok && done == 3, "multi: CURLINFO_PRIVATE finds each xfer; all answered");
  for (i = 0; i < 3; i++) laws_http_xfer_cleanup(&x[i]);
  curl_multi_cleanup(m);
}

static void test_errors(laws_http_session *s) {
  laws_http_req req = { 0 };
  laws_http_xfer x;
  laws_http_res res;
  req.url = "http://127.0.0.1:1/";
  laws_http_perform(&x, s, &req, &res);
  TAP_OK(res.code == CURLE_COULDNT_CONNECT, "refused: COULDNT_CONNECT");
  TAP_STREQ(res.code_name, "COULDNT_CONNECT", "code name");
  TAP_OK(res.message && strstr(res.message, "127.0.0.1") != NULL, "libcurl's message: %s", res.message);
  laws_http_xfer_cleanup(&x);
  req.url = "ftp://127.0.0.1/";
  laws_http_perform(&x, s, &req, &res);
  TAP_STREQ(res.code_name, "UNSUPPORTED_PROTOCOL", "only http and https");
  laws_http_xfer_cleanup(&x);
}

/* The process-wide defaults start as http.h's; 0 leaves one as it is. */
static void test_limits(void) {
  laws_http_limits l, saved, set = { 0, 0, 0 };
  laws_http_limits_get(&saved);
  TAP_OK(saved.connect_timeout_ms == LAWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS &&
         saved.timeout_ms == LAWS_HTTP_DEFAULT_TIMEOUT_MS && saved.max_body == LAWS_HTTP_DEFAULT_MAX_BODY,
         "defaults start as LAWS_HTTP_DEFAULT_*");
  set.timeout_ms = LAWS_HTTP_NO_LIMIT;
  set.max_body = 100;
  laws_http_limits_set(&set);
  laws_http_limits_get(&l);
  TAP_OK(l.timeout_ms == LAWS_HTTP_NO_LIMIT && l.max_body == 100 &&
         l.connect_timeout_ms == LAWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS, "set changes only what is given");
  laws_http_limits_set(&saved);
}

/* max_body: the 12-byte answer fits a cap of 12, not one of 11 (refused at its Content-Length). */
static void test_max_body(laws_http_session *s, const char *url) {
  laws_http_req req = { 0 };
  laws_http_xfer x;
  laws_http_res res;
  req.url = url;
  req.max_body = 12;
  laws_http_perform(&x, s, &req, &res);
  TAP_OK(res.code == CURLE_OK && res.body->len == 12, "a body of exactly max_body bytes");
  laws_http_xfer_cleanup(&x);
  req.max_body = 11;
  laws_http_perform(&x, s, &req, &res);
  TAP_OK(res.code == CURLE_FILESIZE_EXCEEDED, "one byte more: FILESIZE_EXCEEDED (%d)", (int)res.code);
  TAP_STREQ(res.code_name, "ResponseTooLarge", "code name ResponseTooLarge");
  TAP_OK(res.message && strstr(res.message, "max_body (11 bytes)") != NULL, "message names the cap: %s", res.message);
  laws_http_xfer_cleanup(&x);
  req.max_body = 0;  /* the default */
  laws_http_perform(&x, s, &req, &res);
  TAP_OK(res.code == CURLE_OK && res.status == 200, "the same session answers again");
  laws_http_xfer_cleanup(&x);
}

/* A Content-Length over the cap stops the header callback, unless no body can follow. */
static void test_announced(void) {
  static const char *const cases[][2] = {
    { "HTTP/1.1 200 OK\r\n", "1" }, { "HTTP/1.1 204 No Content\r\n", "0" },
    { "HTTP/1.1 304 Not Modified\r\n", "0" }, { "HTTP/1.1 100 Continue\r\n", "0" },
    { "HTTP/2 200\r\n", "1" },
  };
  const char *big = "Content-Length: 99999999999999999999999999\r\n";
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    laws_http_xfer x;
    size_t r;
    memset(&x, 0, sizeof x);
    x.max_body = 1000;
    laws_http_header_line(&x, cases[i][0], strlen(cases[i][0]));
    r = laws_http_header_line(&x, big, strlen(big));
    TAP_OK((r == 0) == (cases[i][1][0] == '1') && x.too_large == (r == 0), "%.*s: %s", (int)strlen(cases[i][0]) - 2,
           cases[i][0], r == 0 ? "refused" : "kept");
    laws_buf_free(&x.head);
  }
  {
    laws_http_xfer x;
    const char *ok = "content-length:  1000\r\n";
    memset(&x, 0, sizeof x);
    x.max_body = 1000;
    x.head_only = 1;
    laws_http_header_line(&x, "HTTP/1.1 200 OK\r\n", 17);
    TAP_OK(laws_http_header_line(&x, big, strlen(big)) != 0, "HEAD: an announced size is no body");
    x.head_only = 0;
    TAP_OK(laws_http_header_line(&x, ok, strlen(ok)) != 0, "exactly max_body announced: kept");
    laws_buf_free(&x.head);
  }
}

int main(void) {
  mini_httpd h;
  pthread_t t;
  char url[64];
  laws_http_session *s;
  test_buf();
  test_names();
  test_limits();
  test_announced();
  if (mini_httpd_listen(&h) != 0) {
    TAP_OK(0, "cannot listen on loopback");
    return TAP_DONE();
  }
  snprintf(url, sizeof url, "http://127.0.0.1:%d/x", h.port);
  pthread_create(&t, NULL, mini_httpd_run, &h);
  s = laws_http_session_new();
  TAP_OK(s != NULL, "session");
  test_blocking(s, url);
  test_share(s, &h, url);
  test_multi(s, url);
  test_errors(s);
  test_max_body(s, url);
  TAP_OK(h.connections <= 3, "keep-alive: %ld connections for %ld requests", h.connections, h.requests);
  laws_http_session_free(s);
  h.stop = 1;
  pthread_join(t, NULL);
  curl_global_cleanup();
  return TAP_DONE();
}
