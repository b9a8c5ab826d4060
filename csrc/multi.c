/* libcurl multi driver (see multi.h). The socket callback keeps the set of sockets libcurl
 * wants watched, as an array (for laws_multi_fds, and poll() where epoll is missing) and, on
 * Linux, in an epoll set, so a wait costs one syscall whatever the number of connections and an
 * idle wait costs no CPU. */
#include "multi.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif

#define READY_MAX 128

struct laws_multi {
  CURLM *multi;
  struct pollfd *pfd;      /* watched sockets */
  unsigned *pid;           /* pid[i]: registration id of pfd[i] (see laws_multi_fd) */
  unsigned next_id;
  size_t npfd, cappfd;
  int *slot;               /* slot[fd] = index in pfd + 1, 0: not watched */
  size_t capslot;
  int epfd;                /* -1: use poll() over pfd */
  double timer_due;        /* monotonic ms when libcurl's timer fires; < 0: none */
  int running;             /* from curl_multi_socket_action */
  size_t in_multi;         /* transfers added and not yet done or removed */
};

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void ep_update(laws_multi *m, int op, int fd, short ev) {
#ifdef __linux__
  struct epoll_event e;
  if (m->epfd < 0) return;
  memset(&e, 0, sizeof e);
  e.events = ((ev & POLLIN) ? EPOLLIN : 0) | ((ev & POLLOUT) ? EPOLLOUT : 0);
  e.data.fd = fd;
  if (epoll_ctl(m->epfd, op, fd, &e) != 0 && op == EPOLL_CTL_ADD && errno == EEXIST)
    epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &e);
#else
  (void)m; (void)op; (void)fd; (void)ev;
#endif
}

#ifndef __linux__
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#endif

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp) {
  laws_multi *m = userp;
  int i;
  short ev = 0;
  (void)e; (void)sockp;
  if (s < 0) return 0;
  if ((size_t)s >= m->capslot) {
    size_t cap = m->capslot ? m->capslot : 64;
    int *p;
    while (cap <= (size_t)s) cap *= 2;
    p = realloc(m->slot, cap * sizeof *p);
    if (p == NULL) return -1;  /* libcurl fails the transfer: better than losing the socket */
    memset(p + m->capslot, 0, (cap - m->capslot) * sizeof *p);
    m->slot = p;
    m->capslot = cap;
  }
  i = m->slot[s] - 1;
  if (what == CURL_POLL_REMOVE) {
    if (i >= 0) {
      ep_update(m, EPOLL_CTL_DEL, s, 0);
      m->slot[s] = 0;
      m->pid[i] = m->pid[m->npfd - 1];
      m->pfd[i] = m->pfd[--m->npfd];
      if ((size_t)i < m->npfd) m->slot[m->pfd[i].fd] = i + 1;
    }
    return 0;
  }
  if (what & CURL_POLL_IN) ev |= POLLIN;
  if (what & CURL_POLL_OUT) ev |= POLLOUT;
  if (i < 0) {
    if (m->npfd == m->cappfd) {
      size_t cap = m->cappfd ? m->cappfd * 2 : 16;
      struct pollfd *p = realloc(m->pfd, cap * sizeof *p);
      unsigned *q;
      if (p == NULL) return -1;
      m->pfd = p;
      q = realloc(m->pid, cap * sizeof *q);
      if (q == NULL) return -1;
      m->pid = q;
      m->cappfd = cap;
    }
    i = (int)m->npfd++;
    m->pfd[i].fd = s;
    m->pid[i] = ++m->next_id;
    m->slot[s] = i + 1;
    ep_update(m, EPOLL_CTL_ADD, s, ev);
  } else if (m->pfd[i].events != ev) {
    ep_update(m, EPOLL_CTL_MOD, s, ev);
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
#ifdef __linux__
  m->epfd = epoll_create1(EPOLL_CLOEXEC);
#else
  m->epfd = -1;
#endif
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
  if (m->epfd >= 0) close(m->epfd);
  free(m->slot);
  free(m->pid);
  free(m->pfd);
  free(m);
}

CURLMcode laws_multi_add(laws_multi *m, CURL *easy) {
  CURLMcode rc;
  rc = curl_multi_add_handle(m->multi, easy);
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

/* Wait for ready sockets; fills ready[] (fd, CURL_CSELECT_* bits), returns how many or -1. */
static int wait_ready(laws_multi *m, int wait, curl_socket_t *fds, int *evs) {
  int r, i, n = 0;
#ifdef __linux__
  if (m->epfd >= 0) {
    struct epoll_event e[READY_MAX];
    r = epoll_wait(m->epfd, e, READY_MAX, wait);
    for (i = 0; i < r; i++) {
      int ev = 0;
      if (e[i].events & EPOLLIN) ev |= CURL_CSELECT_IN;
      if (e[i].events & EPOLLOUT) ev |= CURL_CSELECT_OUT;
      if (e[i].events & (EPOLLERR | EPOLLHUP)) ev |= CURL_CSELECT_ERR;
      fds[n] = e[i].data.fd;
      evs[n++] = ev;
    }
    return r < 0 ? -1 : n;
  }
#endif
  r = poll(m->pfd, (nfds_t)m->npfd, wait);
  if (r < 0) return -1;
  /* copy first: socket_action changes m->pfd through on_socket. Sockets beyond READY_MAX
   * stay ready and are taken on the next call. */
  for (i = 0; r > 0 && (size_t)i < m->npfd && n < READY_MAX; i++) {
    short re = m->pfd[i].revents;
    int ev = 0;
    if (re == 0) continue;
    if (re & POLLIN) ev |= CURL_CSELECT_IN;
    if (re & POLLOUT) ev |= CURL_CSELECT_OUT;
    if (re & (POLLERR | POLLHUP | POLLNVAL)) ev |= CURL_CSELECT_ERR;
    fds[n] = m->pfd[i].fd;
    evs[n++] = ev;
    m->pfd[i].revents = 0;
  }
  return n;
}

int laws_multi_wait(laws_multi *m, long timeout_ms, const char **err) {
  long wait = timeout_ms;
  double due = m->timer_due;
  curl_socket_t fds[READY_MAX];
  int evs[READY_MAX];
  int i, n;

  *err = NULL;
  if (due >= 0) {
    double left = due - now_ms();
    long l = left <= 0 ? 0 : (long)left + (left > (double)(long)left ? 1 : 0);
    if (wait < 0 || l < wait) wait = l;
  }
  if (wait > 0x7fffffffL) wait = 0x7fffffffL;
  n = wait_ready(m, (int)wait, fds, evs);
  if (n < 0) {
    if (errno != EINTR) {
      *err = strerror(errno);
      return -1;
    }
    n = 0;
  }
  for (i = 0; i < n; i++)
    if (act(m, fds[i], evs[i], err) != 0) return -1;
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
    out[i].id = m->pid[i];
    out[i].events = ((m->pfd[i].events & POLLIN) ? LAWS_FD_READ : 0) |
                    ((m->pfd[i].events & POLLOUT) ? LAWS_FD_WRITE : 0);
  }
  return m->npfd;
}

size_t laws_multi_count(const laws_multi *m) { return m->in_multi; }

