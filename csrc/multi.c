/* libcurl multi driver (see multi.h). The socket API keeps an array of the sockets libcurl
 * wants watched; laws_multi_wait poll()s them, so an idle wait costs one syscall and no CPU. */
#include "multi.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct laws_multi {
  CURLM *multi;
  struct pollfd *pfd;
  size_t npfd, cappfd;
  double timer_due;        /* monotonic ms when libcurl's timer fires; < 0: none */
  int running;             /* from curl_multi_socket_action */
  size_t in_multi;         /* transfers added and not yet released */
  laws_xfer *pool;         /* released transfers, easy handles kept for reuse */
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int find_fd(laws_multi *m, curl_socket_t s) {
  size_t i;
  for (i = 0; i < m->npfd; i++)
    if (m->pfd[i].fd == s) return (int)i;
  return -1;
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp) {
  laws_multi *m = userp;
  int i = find_fd(m, s);
  short ev = 0;
  (void)e; (void)sockp;
  if (what == CURL_POLL_REMOVE) {
    if (i >= 0) m->pfd[i] = m->pfd[--m->npfd];
    return 0;
  }
  if (what & CURL_POLL_IN) ev |= POLLIN;
  if (what & CURL_POLL_OUT) ev |= POLLOUT;
  if (i < 0) {
    if (m->npfd == m->cappfd) {
      size_t cap = m->cappfd ? m->cappfd * 2 : 16;
      struct pollfd *p = realloc(m->pfd, cap * sizeof *p);
      if (p == NULL) return -1;  /* libcurl fails the transfer: better than losing the socket */
      m->pfd = p;
      m->cappfd = cap;
    }
    i = (int)m->npfd++;
    m->pfd[i].fd = s;
  }
  m->pfd[i].events = ev;
  m->pfd[i].revents = 0;
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  laws_multi *m = userp;
  (void)multi;
  m->timer_due = timeout_ms < 0 ? -1.0 : now_ms() + (double)timeout_ms;
  return 0;
}

laws_multi *laws_multi_new(void) {
  laws_multi *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->timer_due = -1.0;
  m->multi = curl_multi_init();
  if (m->multi == NULL) { free(m); return NULL; }
  curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
  curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
  return m;
}

static void xfer_clear(laws_xfer *x) {
  curl_slist_free_all(x->req_headers);
  x->req_headers = NULL;
  free(x->body);
  x->body = NULL;
  x->body_len = 0;
  x->res_body.n = 0;
  x->res_headers.n = 0;
  x->status = 0;
  x->result = CURLE_OK;
  x->errbuf[0] = '\0';
}

static void xfer_free(laws_xfer *x) {
  xfer_clear(x);
  free(x->res_body.p);
  free(x->res_headers.p);
  if (x->easy) curl_easy_cleanup(x->easy);
  free(x);
}

void laws_multi_free(laws_multi *m) {
  laws_xfer *x;
  if (m == NULL) return;
  while ((x = m->pool) != NULL) {
    m->pool = x->next;
    xfer_free(x);
  }
  curl_multi_cleanup(m->multi);
  free(m->pfd);
  free(m);
}

laws_xfer *laws_multi_xfer(laws_multi *m) {
  laws_xfer *x = m->pool;
  if (x != NULL) {
    m->pool = x->next;
    x->next = NULL;
    curl_easy_reset(x->easy);
    return x;
  }
  x = calloc(1, sizeof *x);
  if (x == NULL) return NULL;
  x->easy = curl_easy_init();
  if (x->easy == NULL) { free(x); return NULL; }
  return x;
}

static size_t buf_add(laws_buf *b, const char *p, size_t n) {
  if (b->n + n > b->cap) {
    size_t cap = b->cap ? b->cap : 512;
    char *q;
    while (cap < b->n + n) cap *= 2;
    q = realloc(b->p, cap);
    if (q == NULL) return 0;  /* libcurl aborts the transfer with CURLE_WRITE_ERROR */
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->n, p, n);
  b->n += n;
  return n;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  return buf_add(&((laws_xfer *)ud)->res_body, p, size * n);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  laws_xfer *x = ud;
  /* A new status line (after a 100 Continue or a redirect) starts a new header block. */
  if (size * n >= 5 && memcmp(p, "HTTP/", 5) == 0) x->res_headers.n = 0;
  return buf_add(&x->res_headers, p, size * n);
}

int laws_xfer_setup(laws_xfer *x, const laws_xfer_req *r) {
  CURL *e = x->easy;
  size_t i;
  xfer_clear(x);
  for (i = 0; i < r->nheaders; i++) {
    struct curl_slist *l = curl_slist_append(x->req_headers, r->headers[i]);
    if (l == NULL) return CURLE_OUT_OF_MEMORY;
    x->req_headers = l;
  }
  /* libcurl would add these by itself; AWS signs exactly what we send */
  x->req_headers = curl_slist_append(x->req_headers, "Expect:");
  if (x->req_headers == NULL) return CURLE_OUT_OF_MEMORY;
  curl_easy_setopt(e, CURLOPT_URL, r->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL);
  if (r->timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->timeout_ms);
  if (r->connect_timeout_ms > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms);
  if (r->body != NULL && r->body_len > 0) {
    x->body = malloc(r->body_len);
    if (x->body == NULL) return CURLE_OUT_OF_MEMORY;
    memcpy(x->body, r->body, r->body_len);
    x->body_len = r->body_len;
  }
  if (strcmp(r->method, "GET") == 0 && x->body == NULL) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (strcmp(r->method, "HEAD") == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body ? x->body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
    if (strcmp(r->method, "POST") != 0) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
  }
  return CURLE_OK;
}

int laws_multi_start(laws_multi *m, laws_xfer *x) {
  CURLMcode rc = curl_multi_add_handle(m->multi, x->easy);
  if (rc == CURLM_OK) {
    x->in_multi = 1;
    m->in_multi++;
  }
  return (int)rc;
}

void laws_multi_release(laws_multi *m, laws_xfer *x) {
  if (x == NULL) return;
  if (x->in_multi) {
    curl_multi_remove_handle(m->multi, x->easy);
    x->in_multi = 0;
    m->in_multi--;
  }
  xfer_clear(x);
  x->next = m->pool;
  m->pool = x;
}

static int act(laws_multi *m, curl_socket_t s, int ev, const char **err) {
  CURLMcode rc = curl_multi_socket_action(m->multi, s, ev, &m->running);
  /* a socket closed by an earlier action in the same round is not an error */
  if (rc != CURLM_OK && rc != CURLM_BAD_SOCKET) {
    *err = curl_multi_strerror(rc);
    return -1;
  }
  return 0;
}

int laws_multi_wait(laws_multi *m, long timeout_ms, const char **err) {
  long wait = timeout_ms;
  double due = m->timer_due;
  size_t i, n;
  int r;
  struct { curl_socket_t fd; int ev; } ready[64];

  *err = NULL;
  if (due >= 0) {
    double left = due - now_ms();
    long l = left <= 0 ? 0 : (long)left + (left > (double)(long)left ? 1 : 0);
    if (wait < 0 || l < wait) wait = l;
  }
  if (wait > 0x7fffffffL) wait = 0x7fffffffL;
  r = poll(m->pfd, (nfds_t)m->npfd, (int)wait);
  if (r < 0 && errno != EINTR) {
    *err = strerror(errno);
    return -1;
  }
  /* Copy first: socket_action changes m->pfd through on_socket. Sockets beyond the
   * first 64 ready ones stay ready and are taken on the next call. */
  n = 0;
  for (i = 0; r > 0 && i < m->npfd && n < 64; i++) {
    short re = m->pfd[i].revents;
    int ev = 0;
    if (re == 0) continue;
    if (re & POLLIN) ev |= CURL_CSELECT_IN;
    if (re & POLLOUT) ev |= CURL_CSELECT_OUT;
    if (re & (POLLERR | POLLHUP | POLLNVAL)) ev |= CURL_CSELECT_ERR;
    ready[n].fd = m->pfd[i].fd;
    ready[n].ev = ev;
    m->pfd[i].revents = 0;
    n++;
  }
  for (i = 0; i < n; i++)
    if (act(m, ready[i].fd, ready[i].ev, err) != 0) return -1;
  if (m->timer_due >= 0 && m->timer_due <= now_ms()) {
    m->timer_due = -1.0;  /* on_timer sets it again if libcurl still needs one */
    if (act(m, CURL_SOCKET_TIMEOUT, 0, err) != 0) return -1;
  }
  return m->running;
}

laws_xfer *laws_multi_done(laws_multi *m) {
  int left;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    laws_xfer *x = NULL;
    if (msg->msg != CURLMSG_DONE) continue;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
    if (x == NULL) continue;
    x->result = msg->data.result;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    /* Out of the multi now, so a finished easy handle cannot be acted on again. */
    curl_multi_remove_handle(m->multi, x->easy);
    x->in_multi = 0;
    m->in_multi--;
    return x;
  }
  return NULL;
}

long laws_multi_timeout_ms(laws_multi *m) {
  double left;
  if (m->timer_due < 0) return -1;
  left = m->timer_due - now_ms();
  return left <= 0 ? 0 : (long)left + 1;
}

size_t laws_multi_fds(laws_multi *m, laws_multi_fd *out, size_t max) {
  size_t i;
  for (i = 0; i < m->npfd && i < max; i++) {
    out[i].fd = m->pfd[i].fd;
    out[i].events = ((m->pfd[i].events & POLLIN) ? LAWS_FD_READ : 0) |
                    ((m->pfd[i].events & POLLOUT) ? LAWS_FD_WRITE : 0);
  }
  return m->npfd;
}

size_t laws_multi_running(const laws_multi *m) { return m->in_multi; }

const char *laws_multi_code_name(int code) {
  switch ((CURLcode)code) {
  case CURLE_OK: return "OK";
  case CURLE_UNSUPPORTED_PROTOCOL: return "UNSUPPORTED_PROTOCOL";
  case CURLE_FAILED_INIT: return "FAILED_INIT";
  case CURLE_URL_MALFORMAT: return "URL_MALFORMAT";
  case CURLE_COULDNT_RESOLVE_PROXY: return "COULDNT_RESOLVE_PROXY";
  case CURLE_COULDNT_RESOLVE_HOST: return "COULDNT_RESOLVE_HOST";
  case CURLE_COULDNT_CONNECT: return "COULDNT_CONNECT";
  case CURLE_WEIRD_SERVER_REPLY: return "WEIRD_SERVER_REPLY";
  case CURLE_PARTIAL_FILE: return "PARTIAL_FILE";
  case CURLE_WRITE_ERROR: return "WRITE_ERROR";
  case CURLE_READ_ERROR: return "READ_ERROR";
  case CURLE_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
  case CURLE_OPERATION_TIMEDOUT: return "OPERATION_TIMEDOUT";
  case CURLE_SSL_CONNECT_ERROR: return "SSL_CONNECT_ERROR";
  case CURLE_GOT_NOTHING: return "GOT_NOTHING";
  case CURLE_SEND_ERROR: return "SEND_ERROR";
  case CURLE_RECV_ERROR: return "RECV_ERROR";
  case CURLE_PEER_FAILED_VERIFICATION: return "PEER_FAILED_VERIFICATION";
  case CURLE_SSL_CACERT_BADFILE: return "SSL_CACERT_BADFILE";
  case CURLE_ABORTED_BY_CALLBACK: return "ABORTED_BY_CALLBACK";
  case CURLE_HTTP2: return "HTTP2";
  case CURLE_HTTP2_STREAM: return "HTTP2_STREAM";
  default: return "CURL_ERROR";
  }
}
