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
  size_t in_multi;         /* transfers added and not yet done or removed */
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

void laws_multi_free(laws_multi *m) {
  if (m == NULL) return;
  curl_multi_cleanup(m->multi);
  free(m->pfd);
  free(m);
}

CURLMcode laws_multi_add(laws_multi *m, CURL *easy) {
  CURLMcode rc = curl_multi_add_handle(m->multi, easy);
  if (rc == CURLM_OK) m->in_multi++;
  return rc;
}

void laws_multi_remove(laws_multi *m, CURL *easy) {
  /* CURLM_BAD_EASY_HANDLE: it was not in (already done): nothing to count */
  if (curl_multi_remove_handle(m->multi, easy) == CURLM_OK && m->in_multi > 0) m->in_multi--;
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

CURL *laws_multi_done(laws_multi *m, CURLcode *result) {
  int left;
  CURLMsg *msg;
  while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
    CURL *e = msg->easy_handle;
    if (msg->msg != CURLMSG_DONE) continue;
    *result = msg->data.result;
    /* out of the multi now, so a finished handle is never acted on again */
    laws_multi_remove(m, e);
    return e;
  }
  return NULL;
}

long laws_multi_timeout_ms(const laws_multi *m) {
  double left;
  if (m->timer_due < 0) return -1;
  left = m->timer_due - now_ms();
  return left <= 0 ? 0 : (long)left + 1;
}

size_t laws_multi_fds(const laws_multi *m, laws_multi_fd *out, size_t max) {
  size_t i;
  for (i = 0; i < m->npfd && i < max; i++) {
    out[i].fd = m->pfd[i].fd;
    out[i].events = ((m->pfd[i].events & POLLIN) ? LAWS_FD_READ : 0) |
                    ((m->pfd[i].events & POLLOUT) ? LAWS_FD_WRITE : 0);
  }
  return m->npfd;
}

size_t laws_multi_count(const laws_multi *m) { return m->in_multi; }

