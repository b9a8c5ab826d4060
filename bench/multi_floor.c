/* The floor for bench/40-async.sh: what libcurl alone costs per request when many transfers run
 * at once, from plain C (no Lua), for one request exactly as laws sends it.
 *   multi_floor <request-file> <n> <in_flight>   ->  one JSON line (counts, wall and CPU seconds)
 * Request file (bench/floor_request.lua writes one): "METHOD URL", "Name: value" lines, an empty
 * line, then the body (rest of the file, may be empty).
 * Driven like csrc/multi.c: libcurl's multi socket interface, sockets in an epoll set, libcurl's
 * timer, curl_multi_socket_action. `in_flight` easy handles are configured once with the options
 * csrc/http.c's xfer_init sets and re-added as they finish until `n` transfers completed.
 * Exit 1 on a bad file or number, a libcurl setup failure, or when no transfer got an answer.
 * The server must accept `in_flight` connections: test/c/mini_httpd.h (bench/http_server.c)
 * takes 64, and transfers beyond stall in its listen backlog. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define READY_MAX 128

typedef struct handle {
  CURL *e;
  char *body;          /* response body, reused: capacity kept across transfers */
  size_t len, cap;
  long nheaders;       /* header lines of the last response (counted, not stored) */
} handle;

static int epfd = -1;
static double timer_due = -1.0; /* monotonic ms when libcurl's timer fires; < 0: none */

static void die(const char *what, const char *why) {
  fprintf(stderr, "multi_floor: %s: %s\n", what, why);
  exit(1);
}

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  handle *h = ud;
  size_t len = size * n;
  if (len > h->cap - h->len) {
    size_t cap = h->cap ? h->cap : 256;
    char *q;
    while (cap - h->len < len) cap *= 2;
    if ((q = realloc(h->body, cap)) == NULL) return 0;
    h->body = q;
    h->cap = cap;
  }
  memcpy(h->body + h->len, p, len);
  h->len += len;
  return len;
}

/* A status line (after a 100 Continue) starts the count over, as laws does. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  handle *h = ud;
  size_t len = size * n;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) h->nheaders = 0;
  else if (len > 2 && memchr(p, ':', len) != NULL) h->nheaders++;
  return len;
}

/* laws opens its sockets with SOCK_CLOEXEC (csrc/http.c); the same syscall here. */
static curl_socket_t on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
  (void)ud; (void)purpose;
  return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

#if LIBCURL_VERSION_NUM >= 0x075000
static int on_prereq(void *ud, char *ip, char *lip, int port, int lport) {
  (void)ud; (void)ip; (void)lip; (void)port; (void)lport;
  return CURL_PREREQFUNC_OK;
}
#endif

/* Only the epoll set: sockp carries nothing, so a re-registration is ADD falling back to MOD. */
static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *sockp) {
  struct epoll_event ev;
  (void)e; (void)userp; (void)sockp;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s, NULL);
    return 0;
  }
  memset(&ev, 0, sizeof ev);
  ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
  ev.data.fd = s;
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, s, &ev) != 0) {
    if (errno != EEXIST || epoll_ctl(epfd, EPOLL_CTL_MOD, s, &ev) != 0) return -1;
  }
  return 0;
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp) {
  (void)multi; (void)userp;
  timer_due = timeout_ms < 0 ? -1.0 : now_ms() + (double)timeout_ms;
  return 0;
}

static double cpu_of(const struct timeval *tv) { return (double)tv->tv_sec + (double)tv->tv_usec / 1e6; }

static long parse_count(const char *s, const char *what) {
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno != 0 || end == s || *end != '\0' || v <= 0) die(what, "must be a positive integer");
  return v;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t cap = 0, n = 0, r;
  if (f == NULL) die(path, strerror(errno));
  do {
    if (cap - n < 4096) {
      char *q;
      cap = cap ? cap * 2 : 8192;
      if ((q = realloc(buf, cap + 1)) == NULL) die(path, "out of memory");
      buf = q;
    }
    r = fread(buf + n, 1, cap - n, f);
    n += r;
  } while (r > 0);
  if (ferror(f)) die(path, "read error");
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

/* One line of buf starting at *pos (CRLF or LF ended), NUL-terminated in place; NULL at the end. */
static char *next_line(char *buf, size_t len, size_t *pos) {
  char *line = buf + *pos, *nl;
  if (*pos >= len) return NULL;
  nl = memchr(line, '\n', len - *pos);
  if (nl == NULL) die("request file", "no empty line after the headers");
  *pos = (size_t)(nl - buf) + 1;
  *nl = '\0';
  if (nl > line && nl[-1] == '\r') nl[-1] = '\0';
  return line;
}

static int has_header(struct curl_slist *l, const char *name) {
  size_t n = strlen(name);
  for (; l != NULL; l = l->next)
    if (strncasecmp(l->data, name, n) == 0 && (l->data[n] == ':' || l->data[n] == ';')) return 1;
  return 0;
}

#define SET(opt, val) do { if (curl_easy_setopt(e, opt, val) != CURLE_OK) die("curl_easy_setopt", #opt); } while (0)

int main(int argc, char **argv) {
  size_t flen, pos = 0, body_len;
  char *file, *line, *method, *url, *body;
  struct curl_slist *hdrs = NULL;
  long n, in_flight, started = 0, done = 0, ok2xx = 0, s4xx = 0, other = 0, errors = 0, i;
  int get, head, post, sends_body, running = 0;
  CURLSH *share;
  CURLM *multi;
  handle *hs;
  struct rusage r0, r1;
  double t0, wall;
  char first_err[CURL_ERROR_SIZE] = "";

  if (argc != 4) {
    fprintf(stderr, "usage: multi_floor <request-file> <n> <in_flight>\n");
    return 2;
  }
  n = parse_count(argv[2], "n");
  in_flight = parse_count(argv[3], "in_flight");
  if (in_flight > n) in_flight = n;

  file = read_file(argv[1], &flen);
  line = next_line(file, flen, &pos);
  if (line == NULL || (url = strchr(line, ' ')) == NULL) die(argv[1], "first line must be 'METHOD URL'");
  *url++ = '\0';
  method = line;
  if (*method == '\0' || *url == '\0' || strchr(url, ' ') != NULL)
    die(argv[1], "first line must be 'METHOD URL'");
  while ((line = next_line(file, flen, &pos)) != NULL && *line != '\0') {
    struct curl_slist *t;
    char *c = strchr(line, ':'), *v;
    if (c == NULL || c == line) die(argv[1], "a header line without 'Name:'");
    /* libcurl drops "Name:" with nothing after it; "Name;" sends it empty (as laws does) */
    for (v = c + 1; *v == ' ' || *v == '\t'; v++) {}
    if (*v == '\0') {
      c[0] = ';';
      c[1] = '\0';
    }
    if ((t = curl_slist_append(hdrs, line)) == NULL) die("curl_slist_append", "out of memory");
    hdrs = t;
  }
  if (line == NULL) die(argv[1], "no empty line after the headers");
  body = file + pos;
  body_len = flen - pos;

  /* As csrc/http.c's xfer_init and build_headers: the method, the body, and what libcurl would
   * add to the wire (Accept; Expect and Content-Type when a body is set) switched off. */
  get = strcmp(method, "GET") == 0;
  head = strcmp(method, "HEAD") == 0;
  post = strcmp(method, "POST") == 0;
  sends_body = !head && (body_len > 0 || post);
  {
    static const char *const off[] = { "Accept:", "Expect:", "Content-Type:" };
    int k, noff = sends_body ? 3 : 1;
    for (k = 0; k < noff; k++) {
      char name[16];
      size_t nl = strlen(off[k]) - 1;
      struct curl_slist *t;
      memcpy(name, off[k], nl);
      name[nl] = '\0';
      if (has_header(hdrs, name)) continue;
      if ((t = curl_slist_append(hdrs, off[k])) == NULL) die("curl_slist_append", "out of memory");
      hdrs = t;
    }
  }

  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) die("curl_global_init", "failed");
  if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) die("epoll_create1", strerror(errno));
  if ((share = curl_share_init()) == NULL) die("curl_share_init", "failed");
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  if ((multi = curl_multi_init()) == NULL) die("curl_multi_init", "failed");
  curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);

  if ((hs = calloc((size_t)in_flight, sizeof *hs)) == NULL) die("calloc", "out of memory");
  for (i = 0; i < in_flight; i++) {
    CURL *e = hs[i].e = curl_easy_init();
    if (e == NULL) die("curl_easy_init", "failed");
    SET(CURLOPT_SHARE, share);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
#if LIBCURL_VERSION_NUM >= 0x075000
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
#endif
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)&hs[i]);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, (void *)&hs[i]);
    SET(CURLOPT_PRIVATE, (void *)&hs[i]);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_URL, url);
    if (head) {
      SET(CURLOPT_NOBODY, 1L);
    } else if (sends_body) {
      SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
      SET(CURLOPT_POSTFIELDS, body);
    }
    /* Only a method libcurl would not send by itself (a GET with a body goes out as a POST). */
    if (!(head || post || (get && body_len == 0))) SET(CURLOPT_CUSTOMREQUEST, method);
    SET(CURLOPT_HTTPHEADER, hdrs);
  }

  getrusage(RUSAGE_SELF, &r0);
  t0 = now_ms();
  for (i = 0; i < in_flight; i++) {
    if (curl_multi_add_handle(multi, hs[i].e) != CURLM_OK) die("curl_multi_add_handle", "failed");
    started++;
  }
  while (done < n) {
    struct epoll_event ev[READY_MAX];
    CURLMsg *msg;
    int k, nev, left, wait = -1;
    if (timer_due >= 0) {
      double l = timer_due - now_ms();
      wait = l <= 0 ? 0 : (int)l + 1;
    }
    nev = epoll_wait(epfd, ev, READY_MAX, wait);
    if (nev < 0) {
      if (errno != EINTR) die("epoll_wait", strerror(errno));
      nev = 0;
    }
    for (k = 0; k < nev; k++) {
      int what = ((ev[k].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                 ((ev[k].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                 ((ev[k].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
      CURLMcode rc = curl_multi_socket_action(multi, ev[k].data.fd, what, &running);
      if (rc != CURLM_OK && rc != CURLM_BAD_SOCKET) die("curl_multi_socket_action", curl_multi_strerror(rc));
    }
    if (timer_due >= 0 && timer_due <= now_ms()) {
      CURLMcode rc;
      timer_due = -1.0;
      rc = curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
      if (rc != CURLM_OK) die("curl_multi_socket_action", curl_multi_strerror(rc));
    }
    while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
      handle *h;
      char *priv = NULL;
      long status = 0;
      if (msg->msg != CURLMSG_DONE) continue;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
      h = (handle *)(void *)priv;
      done++;
      if (msg->data.result != CURLE_OK) {
        if (errors++ == 0) snprintf(first_err, sizeof first_err, "%s", curl_easy_strerror(msg->data.result));
      } else {
        curl_easy_getinfo(h->e, CURLINFO_RESPONSE_CODE, &status);
        if (status >= 200 && status < 300) ok2xx++;
        else if (status >= 400 && status < 500) s4xx++;
        else other++;
      }
      curl_multi_remove_handle(multi, h->e);
      h->len = 0;
      h->nheaders = 0;
      if (started < n) {
        if (curl_multi_add_handle(multi, h->e) != CURLM_OK) die("curl_multi_add_handle", "failed");
        started++;
      }
    }
  }
  wall = (now_ms() - t0) / 1e3;
  getrusage(RUSAGE_SELF, &r1);

  if (first_err[0] != '\0') fprintf(stderr, "multi_floor: first transfer error: %s\n", first_err);
  printf("{\"requests\":%ld,\"ok2xx\":%ld,\"status4xx\":%ld,\"other\":%ld,\"errors\":%ld,"
         "\"wall\":%.6f,\"cpu\":%.6f,\"cpu_user\":%.6f,\"cpu_sys\":%.6f}\n",
         done, ok2xx, s4xx, other, errors, wall,
         cpu_of(&r1.ru_utime) - cpu_of(&r0.ru_utime) + cpu_of(&r1.ru_stime) - cpu_of(&r0.ru_stime),
         cpu_of(&r1.ru_utime) - cpu_of(&r0.ru_utime), cpu_of(&r1.ru_stime) - cpu_of(&r0.ru_stime));

  for (i = 0; i < in_flight; i++) {
    curl_easy_cleanup(hs[i].e);
    free(hs[i].body);
  }
  curl_multi_cleanup(multi);
  curl_share_cleanup(share);
  curl_slist_free_all(hdrs);
  curl_global_cleanup();
  close(epfd);
  free(hs);
  free(file);
  return errors == done ? 1 : 0; /* no answer at all: the figures mean nothing */
}
