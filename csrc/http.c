/* HTTP over libcurl: sessions (share + easy-handle pool) and one transfer's setup/teardown,
 * shared by the blocking binding and the multi driver. See http.h. */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

/* Idle handles kept. As many as transfers usually run at once through the multi driver
 * (laws.async's default limit is 256): below that, every transfer beyond the pool made and
 * destroyed an easy handle (curl_easy_init + every fixed option + cleanup, ~15% of a transfer's
 * CPU at 200 in flight). The pool grows only to the peak actually in flight, and a handle
 * in flight holds the same memory, so the peak does not grow. */
#define POOL_MAX 256
#define KEEP_BUF 65536 /* a pooled handle keeps response buffers up to this size */

/* An idle easy handle with the response buffers of its last transfer (emptied, capacity kept):
 * a warm request allocates nothing for them. */
typedef struct pooled {
  CURL *e;
  laws_buf head, body;
} pooled;

/* A socket of one of the session's connections (see http.h, "Stray responses"). */
typedef struct sock {
  int fd;
  int users;       /* running transfers using it; 0: idle in the connection cache */
  int poisoned;    /* replaced by an EOF socket: libcurl closes it at its next check */
  int peer;        /* then the other end of that socket, kept open until libcurl closes fd */
  unsigned gen;    /* tells this socket from an earlier one with the same fd number */
  ino_t ino;       /* the socket's inode: the fd still names this socket */
  int lport;       /* local port, -1: not read yet */
} sock;

struct laws_http_session {
  CURLSH *share;
  pooled *idle;  /* grows up to POOL_MAX entries */
  int nidle, capidle;
  long connects, resends, strays;
  int live;      /* transfers between xfer_init and xfer_cleanup */
  sock *socks;
  int nsocks, capsocks;
  unsigned gen;
  unsigned long acts, swept_acts;  /* sockets opened/closed, transfers ended; as of the last sweep */
  double swept_at;                 /* monotonic ms of the last sweep; < 0: none yet */
  char *default_ca;  /* libcurl's built-in CA bundle path, to restore on a pooled handle */
};

static laws_http_limits limits = {
  LAWS_HTTP_DEFAULT_CONNECT_TIMEOUT_MS, LAWS_HTTP_DEFAULT_TIMEOUT_MS, LAWS_HTTP_DEFAULT_MAX_BODY
};

void laws_http_limits_get(laws_http_limits *out) { *out = limits; }

void laws_http_limits_set(const laws_http_limits *in) {
  if (in->connect_timeout_ms != 0) limits.connect_timeout_ms = in->connect_timeout_ms;
  if (in->timeout_ms != 0) limits.timeout_ms = in->timeout_ms;
  if (in->max_body != 0) limits.max_body = in->max_body;
}

/* Before 7.84 the built-in CA path cannot be read back (CURLINFO_CAINFO), so a pooled handle is
 * reset and configured from scratch instead. */
#if LIBCURL_VERSION_NUM >= 0x075400
#define REUSE_CONFIG 1
#else
#define REUSE_CONFIG 0
#endif

/* ---- code names ---- */

static const char *const names[] = {
  "OK", "UNSUPPORTED_PROTOCOL", "FAILED_INIT", "URL_MALFORMAT", "NOT_BUILT_IN",
  "COULDNT_RESOLVE_PROXY", "COULDNT_RESOLVE_HOST", "COULDNT_CONNECT", "WEIRD_SERVER_REPLY",
  "REMOTE_ACCESS_DENIED", "FTP_ACCEPT_FAILED", "FTP_WEIRD_PASS_REPLY", "FTP_ACCEPT_TIMEOUT",
  "FTP_WEIRD_PASV_REPLY", "FTP_WEIRD_227_FORMAT", "FTP_CANT_GET_HOST", "HTTP2",
  "FTP_COULDNT_SET_TYPE", "PARTIAL_FILE", "FTP_COULDNT_RETR_FILE", "OBSOLETE20", "QUOTE_ERROR",
  "HTTP_RETURNED_ERROR", "WRITE_ERROR", "OBSOLETE24", "UPLOAD_FAILED", "READ_ERROR",
  "OUT_OF_MEMORY", "OPERATION_TIMEDOUT", "OBSOLETE29", "FTP_PORT_FAILED", "FTP_COULDNT_USE_REST",
  "OBSOLETE32", "RANGE_ERROR", "HTTP_POST_ERROR", "SSL_CONNECT_ERROR", "BAD_DOWNLOAD_RESUME",
  "FILE_COULDNT_READ_FILE", "LDAP_CANNOT_BIND", "LDAP_SEARCH_FAILED", "OBSOLETE40",
  "FUNCTION_NOT_FOUND", "ABORTED_BY_CALLBACK", "BAD_FUNCTION_ARGUMENT", "OBSOLETE44",
  "INTERFACE_FAILED", "OBSOLETE46", "TOO_MANY_REDIRECTS", "UNKNOWN_OPTION",
  "SETOPT_OPTION_SYNTAX", "OBSOLETE50", "OBSOLETE51", "GOT_NOTHING", "SSL_ENGINE_NOTFOUND",
  "SSL_ENGINE_SETFAILED", "SEND_ERROR", "RECV_ERROR", "OBSOLETE57", "SSL_CERTPROBLEM",
  "SSL_CIPHER", "PEER_FAILED_VERIFICATION", "BAD_CONTENT_ENCODING", "OBSOLETE62",
  "FILESIZE_EXCEEDED", "USE_SSL_FAILED", "SEND_FAIL_REWIND", "SSL_ENGINE_INITFAILED",
  "LOGIN_DENIED", "TFTP_NOTFOUND", "TFTP_PERM", "REMOTE_DISK_FULL", "TFTP_ILLEGAL",
  "TFTP_UNKNOWNID", "REMOTE_FILE_EXISTS", "TFTP_NOSUCHUSER", "OBSOLETE75", "OBSOLETE76",
  "SSL_CACERT_BADFILE", "REMOTE_FILE_NOT_FOUND", "SSH", "SSL_SHUTDOWN_FAILED", "AGAIN",
  "SSL_CRL_BADFILE", "SSL_ISSUER_ERROR", "FTP_PRET_FAILED", "RTSP_CSEQ_ERROR",
  "RTSP_SESSION_ERROR", "FTP_BAD_FILE_LIST", "CHUNK_FAILED", "NO_CONNECTION_AVAILABLE",
  "SSL_PINNEDPUBKEYNOTMATCH", "SSL_INVALIDCERTSTATUS", "HTTP2_STREAM", "RECURSIVE_API_CALL",
  "AUTH_ERROR", "HTTP3", "QUIC_CONNECT_ERROR", "PROXY", "SSL_CLIENTCERT", "UNRECOVERABLE_POLL",
};

const char *laws_http_code_name(CURLcode c) {
  if ((int)c >= 0 && (size_t)c < sizeof names / sizeof names[0]) return names[c];
  return "UNKNOWN";
}

/* ---- sessions ---- */

static int global_done;

laws_http_session *laws_http_session_new(void) {
  laws_http_session *s;
  if (!global_done) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return NULL;
    global_done = 1;
  }
  s = calloc(1, sizeof *s);
  if (s == NULL) return NULL;
  s->swept_at = -1.0;
  s->share = curl_share_init();
  if (s->share == NULL) {
    free(s);
    return NULL;
  }
  /* No lock callbacks: a session is used from one thread (documented in http.h). */
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
  curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
  return s;
}

void laws_http_session_free(laws_http_session *s) {
  int i;
  if (s == NULL) return;
  /* Easy handles first: a share cannot be cleaned up while handles still use it. */
  for (i = 0; i < s->nidle; i++) {
    curl_easy_cleanup(s->idle[i].e);
    laws_buf_free(&s->idle[i].head);
    laws_buf_free(&s->idle[i].body);
  }
  curl_share_cleanup(s->share);  /* closes the connections: on_closesocket still needs s */
  free(s->socks);
  free(s->idle);
  free(s->default_ca);
  free(s);
}

long laws_http_session_connects(const laws_http_session *s) { return s->connects; }

long laws_http_session_resends(const laws_http_session *s) { return s->resends; }

long laws_http_session_strays(const laws_http_session *s) { return s->strays; }

/* Returns 1 for a handle from the pool (configured by an earlier xfer_init), 0 for a new one. */
static int acquire(laws_http_session *s, laws_http_xfer *x) {
  if (s->nidle > 0) {
    pooled *p = &s->idle[--s->nidle];
    x->easy = p->e;
    x->head = p->head;
    x->body = p->body;
    x->head.len = x->body.len = 0;
    return REUSE_CONFIG;
  }
  x->easy = curl_easy_init();
  return 0;
}

/* A response may carry credentials (STS, instance metadata): wipe it before the buffer is kept
 * for the next transfer or freed. */
static void keep_or_free(laws_buf *b) {
  laws_buf_clear(b);
  if (b->cap > KEEP_BUF) laws_buf_free(b);
}

/* No curl_easy_reset: xfer_init sets every per-request option each time. Pointers into the
 * finished xfer are cleared so an idle handle never refers to freed memory. */
static void release(laws_http_session *s, laws_http_xfer *x) {
  CURL *e = x->easy;
  if (s->nidle == s->capidle && s->capidle < POOL_MAX) {
    int cap = s->capidle ? s->capidle * 2 : 8;
    pooled *np = realloc(s->idle, (size_t)cap * sizeof *np);
    if (np != NULL) {
      s->idle = np;
      s->capidle = cap;
    }
  }
  if (s->nidle < s->capidle) {
    pooled *p = &s->idle[s->nidle++];
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(e, CURLOPT_PRIVATE, NULL);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, NULL);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, NULL);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, NULL);
#if LIBCURL_VERSION_NUM >= 0x075000
    curl_easy_setopt(e, CURLOPT_PREREQDATA, NULL);
#endif
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
    if (!REUSE_CONFIG) curl_easy_reset(e);
    p->e = e;
    keep_or_free(&x->head);
    keep_or_free(&x->body);
    p->head = x->head;
    p->body = x->body;
    memset(&x->head, 0, sizeof x->head);
    memset(&x->body, 0, sizeof x->body);
  } else {
    curl_easy_cleanup(e);
  }
}

/* ---- callbacks ---- */

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  laws_http_xfer *x = ud;
  size_t len = size * n;
  if (len > x->max_body - x->body.len) {
    x->too_large = 1;  /* returning short ends the transfer now (CURLE_WRITE_ERROR) */
    return 0;
  }
  if (laws_buf_append(&x->body, p, len) != 0) {
    x->oom = 1;
    return 0;
  }
  return len;
}

static int ows(char c) { return c == ' ' || c == '\t'; }

/* 1 if a Content-Length value promises a body above the cap. A HEAD answer, 1xx, 204 and 304
 * carry no body whatever they announce. */
static int announces_too_much(const laws_http_xfer *x, const char *v, size_t n) {
  size_t i = 0, len = 0;
  if (x->max_body == 0 || x->head_only || x->status < 200 || x->status == 204 || x->status == 304)
    return 0;
  while (i < n && ows(v[i])) i++;
  for (; i < n && isdigit((unsigned char)v[i]); i++) {
    if (len > (x->max_body - (size_t)(v[i] - '0')) / 10) return 1;
    len = len * 10 + (size_t)(v[i] - '0');
  }
  return 0;
}

/* Keeps the headers of the last response only: a status line (after 100 Continue, or a proxy's
 * CONNECT answer) starts over. Names are lower-cased; values trimmed of surrounding space. */
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  return laws_http_header_line(ud, p, size * n);
}

size_t laws_http_header_line(laws_http_xfer *x, const char *p, size_t n) {
  size_t len = n, i, k;
  while (len > 0 && (p[len - 1] == '\r' || p[len - 1] == '\n')) len--;
  if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
    const char *sp = memchr(p, ' ', len);
    x->head.len = 0;
    x->nhead = 0;
    x->status = 0;
    for (i = sp ? (size_t)(sp - p) + 1 : len; i < len && i < 16 && isdigit((unsigned char)p[i]); i++)
      x->status = x->status * 10 + (p[i] - '0');
    return n;
  }
  if (len == 0 || memchr(p, '\0', len) != NULL) return n; /* NUL would break the name\0value\0 list */
  if (ows(p[0])) {
    /* obsolete line folding: continue the previous value, joined by one space */
    if (x->nhead == 0) return n;
    for (i = 0; i < len && ows(p[i]); i++) {}
    x->head.len--; /* drop the previous value's NUL */
    if (laws_buf_append(&x->head, " ", 1) || laws_buf_append(&x->head, p + i, len - i) ||
        laws_buf_append(&x->head, "", 1)) goto oom;
    return n;
  }
  for (k = 0; k < len && p[k] != ':'; k++) {}
  if (k == len || k == 0) return n; /* not a header line: ignore */
  if (k == 14 && strncasecmp(p, "content-length", 14) == 0 && announces_too_much(x, p + 15, len - 15)) {
    x->too_large = 1;  /* fail before the first body byte */
    return 0;
  }
  i = x->head.len;
  if (laws_buf_append(&x->head, p, k) || laws_buf_append(&x->head, "", 1)) goto oom;
  for (; i < x->head.len; i++) x->head.p[i] = (char)tolower((unsigned char)x->head.p[i]);
  for (k++; k < len && ows(p[k]); k++) {}
  while (len > k && ows(p[len - 1])) len--;
  if (laws_buf_append(&x->head, p + k, len - k) || laws_buf_append(&x->head, "", 1)) goto oom;
  x->nhead++;
  return n;
oom:
  x->oom = 1;
  return 0;
}

#if LIBCURL_VERSION_NUM >= 0x075000 /* CURLOPT_PREREQFUNCTION: 7.80 */
#define HAVE_PREREQ 1
#else
#define HAVE_PREREQ 0
#endif

/* ---- the session's sockets (see http.h, "Stray responses") ---- */

static sock *find_sock(laws_http_session *s, int fd) {
  int i;
  for (i = 0; i < s->nsocks; i++)
    if (s->socks[i].fd == fd) return &s->socks[i];
  return NULL;
}

/* x uses the socket k: counted once per transfer. */
static void hold(laws_http_xfer *x, sock *k) {
  laws_http_session *s = x->session;
  int i, j = 0;
  for (i = 0; i < x->nhold; i++) {
    sock *h = find_sock(s, x->hold_fd[i]);
    if (h == k && x->hold_gen[i] == k->gen) return;
    if (h != NULL && h->gen == x->hold_gen[i]) {  /* keep; drop entries of closed sockets */
      x->hold_fd[j] = x->hold_fd[i];
      x->hold_gen[j++] = x->hold_gen[i];
    }
  }
  x->nhold = j;
  if (x->nhold == (int)(sizeof x->hold_fd / sizeof x->hold_fd[0])) {
    k->users = 1 << 20;  /* cannot be counted out later: never treated as idle */
    return;
  }
  x->hold_fd[x->nhold] = k->fd;
  x->hold_gen[x->nhold++] = k->gen;
  k->users++;
}

static void unhold_all(laws_http_xfer *x) {
  int i;
  for (i = 0; i < x->nhold; i++) {
    sock *k = find_sock(x->session, x->hold_fd[i]);
    if (k != NULL && k->gen == x->hold_gen[i] && k->users > 0) k->users--;
  }
  x->nhold = 0;
}

/* Sockets must not leak into child processes (io.popen, os.execute, a game server's helpers): a
 * child holding a copy keeps a connection open after libcurl closed it, and keeps a stale
 * registration alive in any epoll set watching it. SOCK_CLOEXEC makes it atomic, so a fork in
 * another thread between socket() and fcntl() cannot catch the socket without the flag. */
static curl_socket_t cloexec_socket(int family, int type, int protocol) {
  curl_socket_t fd;
#ifdef SOCK_CLOEXEC
  fd = socket(family, type | SOCK_CLOEXEC, protocol);
  if (fd != CURL_SOCKET_BAD || errno != EINVAL) return fd;
  /* a kernel without SOCK_CLOEXEC: fall through to fcntl */
#endif
  fd = socket(family, type, protocol);
  if (fd != CURL_SOCKET_BAD) {
    int fl = fcntl(fd, F_GETFD);
    if (fl < 0 || fcntl(fd, F_SETFD, fl | FD_CLOEXEC) < 0) {
      close(fd);
      return CURL_SOCKET_BAD;
    }
  }
  return fd;
}

/* Every socket of a transfer's connections is made here (and closed in on_closesocket): the
 * session keeps track of it, held by the transfer that opened it. */
static curl_socket_t on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
  laws_http_xfer *x = ud;
  laws_http_session *s;
  struct stat st;
  sock *k;
  curl_socket_t fd = cloexec_socket(a->family, a->socktype, a->protocol);
  (void)purpose;
  if (fd == CURL_SOCKET_BAD || x == NULL) return fd;
  s = x->session;
  if (s->nsocks == s->capsocks) {
    int cap = s->capsocks ? s->capsocks * 2 : 8;
    sock *np = realloc(s->socks, (size_t)cap * sizeof *np);
    if (np == NULL) {
      close(fd);
      return CURL_SOCKET_BAD;
    }
    s->socks = np;
    s->capsocks = cap;
  }
  k = &s->socks[s->nsocks++];
  memset(k, 0, sizeof *k);
  k->fd = fd;
  k->gen = ++s->gen;
  k->ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
  k->lport = -1;
  hold(x, k);
  s->acts++;
  return fd;
}

static int on_closesocket(void *ud, curl_socket_t fd) {
  laws_http_session *s = ud;
  sock *k = find_sock(s, fd);
  if (k != NULL) {
    if (k->poisoned) close(k->peer);
    *k = s->socks[--s->nsocks];
  }
  s->acts++;
  return close(fd);
}

static int local_port(sock *k) {
  struct sockaddr_storage a;
  socklen_t len = sizeof a;
  if (k->lport < 0 && getsockname(k->fd, (struct sockaddr *)&a, &len) == 0) {
    if (a.ss_family == AF_INET) k->lport = ntohs(((struct sockaddr_in *)&a)->sin_port);
    else if (a.ss_family == AF_INET6) k->lport = ntohs(((struct sockaddr_in6 *)&a)->sin6_port);
  }
  return k->lport;
}

/* The socket of the connection libcurl picked for x (a reused one): the one bound to local port
 * lport. Holding one more socket than needed (the same port on another local address) only
 * spares it a check; missing the right one could let a check take it from under x. */
static void hold_connection(laws_http_xfer *x, int lport) {
  laws_http_session *s = x->session;
  int i;
  for (i = 0; i < s->nsocks; i++)
    if (local_port(&s->socks[i]) == lport) hold(x, &s->socks[i]);
}

/* Makes libcurl see k's connection as closed by the peer: one end of a socket pair whose other
 * end has shut down writing (it reads EOF) takes its descriptor number. libcurl's liveness check
 * then drops the connection and closes the descriptor through on_closesocket. The other end
 * stays open until then, so whatever libcurl writes while closing (a TLS close_notify) is
 * accepted instead of failing with EPIPE. */
static void poison(laws_http_session *s, sock *k) {
  int sv[2];
  struct stat st;
  if (fstat(k->fd, &st) != 0 || st.st_ino != k->ino) return;  /* not our socket any more */
#ifdef SOCK_CLOEXEC
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return;
#else
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return;
  fcntl(sv[0], F_SETFD, FD_CLOEXEC);
  fcntl(sv[1], F_SETFD, FD_CLOEXEC);
#endif
  if (shutdown(sv[1], SHUT_WR) != 0 ||
#if defined(__linux__) && defined(O_CLOEXEC)
      dup3(sv[0], k->fd, O_CLOEXEC) < 0) {
#else
      dup2(sv[0], k->fd) < 0 || fcntl(k->fd, F_SETFD, FD_CLOEXEC) < 0) {
#endif
    close(sv[0]);
    close(sv[1]);
    return;
  }
  close(sv[0]);
  k->poisoned = 1;
  k->peer = sv[1];
  s->strays++;
}

#define SWEEP_BATCH 64
#define SWEEP_FRESH_MS 1.0

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Before a transfer starts: an idle connection with bytes waiting is not reused. Transfers set
 * up in a burst (a driver submitting many before it lets libcurl run) share one check: nothing
 * became idle since, and it is under SWEEP_FRESH_MS old, about the time a stray response could
 * slip in between any check and libcurl's choice of a connection anyway. */
static void sweep(laws_http_session *s) {
  struct pollfd pf[SWEEP_BATCH];
  int i = 0, n, j;
  double t;
#if !HAVE_PREREQ
  if (s->live > 0) return;  /* a reused connection in use cannot be told from an idle one */
#endif
  if (s->nsocks == 0) return;
  t = now_ms();
  if (s->acts == s->swept_acts && s->swept_at >= 0 && t - s->swept_at < SWEEP_FRESH_MS) return;
  s->swept_acts = s->acts;
  s->swept_at = t;
  while (i < s->nsocks) {
    for (n = 0; i < s->nsocks && n < SWEEP_BATCH; i++) {
      if (s->socks[i].users > 0 || s->socks[i].poisoned) continue;
      pf[n].fd = s->socks[i].fd;
      pf[n].events = POLLIN;
      pf[n++].revents = 0;
    }
    if (n == 0 || poll(pf, (nfds_t)n, 0) <= 0) continue;
    for (j = 0; j < n; j++) {
      char c;
      sock *k;
      if (!(pf[j].revents & POLLIN)) continue;
      /* EOF (0) is libcurl's own check; only bytes nobody asked for are ours to act on */
      if (recv(pf[j].fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0) continue;
      if ((k = find_sock(s, pf[j].fd)) != NULL) poison(s, k);
    }
  }
}

#if HAVE_PREREQ
/* Called before each send of the request (see http.h, "Re-sent requests"). Redirects are never
 * followed, so a second call is libcurl re-sending the same request on a fresh connection. */
static int on_prereq(void *ud, char *ip, char *lip, int port, int lport) {
  laws_http_xfer *x = ud;
  (void)ip; (void)lip; (void)port;
  hold_connection(x, lport);
  if (x->sends++ > 0 && x->no_resend) {
    x->refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}
#endif

/* ---- transfers ---- */

/* 1 if the line h ("Name: value" or "Name;") is the header named by off ("Name:"). The first
 * letter is compared before strncasecmp: most lines differ there. */
static int is_header(const char *h, const char *off) {
  size_t n = strlen(off) - 1;
  return (h[0] | 0x20) == (off[0] | 0x20) && strncasecmp(h, off, n) == 0 && (h[n] == ':' || h[n] == ';');
}

/* The request's header list in one allocation (nodes, then the lines): libcurl only reads a
 * curl_slist, so building it ourselves saves two allocations per header. */
static CURLcode build_headers(laws_http_xfer *x, const laws_http_req *req, int sends_body) {
  static const char *const off[] = { "Accept:", "Content-Type:", "Expect:" };
  const char *extra[3];
  size_t i, k, n = 0, bytes = 0, total;
  /* Content-Type comes only with a body, and Expect: 100-continue only with a body of more
   * than 1024 bytes (libcurl >= 7.69: 1 MB; before: 1024): every entry here costs libcurl a
   * scan per header name it looks for, so none is added that could not matter. */
  size_t noff = !sends_body ? 1 : req->body_len > 1024 ? 3 : 2;
  unsigned present = 0;  /* bit k: the request sets off[k] itself */
  struct curl_slist *nodes;
  char *w;
  for (i = 0; i < req->nheaders; i++) {
    const char *h = req->headers[i];
    bytes += strlen(h) + 1;
    for (k = 0; k < noff; k++)
      if (is_header(h, off[k])) present |= 1u << k;
  }
  /* The wire must carry exactly the signed headers: switch off what libcurl would add. */
  for (k = 0; k < noff; k++)
    if (!(present & (1u << k))) {
      extra[n++] = off[k];
      bytes += strlen(off[k]) + 1;
    }
  total = req->nheaders + n;
  if (total == 0) return CURLE_OK;
  nodes = malloc(total * sizeof *nodes + bytes);
  if (nodes == NULL) return CURLE_OUT_OF_MEMORY;
  w = (char *)(nodes + total);
  for (i = 0; i < total; i++) {
    const char *h = i < req->nheaders ? req->headers[i] : extra[i - req->nheaders];
    size_t len = strlen(h);
    const char *c = strchr(h, ':');
    nodes[i].data = w;
    nodes[i].next = i + 1 < total ? &nodes[i + 1] : NULL;
    memcpy(w, h, len + 1);
    if (i < req->nheaders && c != NULL) {
      /* libcurl drops a header given as "Name:" with nothing after it; "Name;" sends it empty */
      const char *v = c + 1;
      while (ows(*v)) v++;
      if (*v == '\0') {
        w[c - h] = ';';
        w[c - h + 1] = '\0';
      }
    }
    w += len + 1;
  }
  x->hdrs = nodes;
  return CURLE_OK;
}

#define SET(opt, val) do { if ((rc = curl_easy_setopt(e, opt, val)) != CURLE_OK) goto fail; } while (0)

CURLcode laws_http_xfer_init(laws_http_xfer *x, laws_http_session *s, const laws_http_req *req) {
  CURLcode rc = CURLE_OK;
  CURL *e;
  const char *method = req->method ? req->method : "GET";
  const char *ca = req->ca_file;
  int get = strcmp(method, "GET") == 0, head = strcmp(method, "HEAD") == 0;
  int post = strcmp(method, "POST") == 0;
  int sends_body = 0;  /* POSTFIELDS set: libcurl would add Content-Type (and Expect if large) */
  long timeout, ctimeout;
  memset(x, 0, sizeof *x);
  x->session = s;
  sweep(s);
  s->live++;
  x->live = 1;
  if (!acquire(s, x)) {
    if ((e = x->easy) == NULL) {
      strcpy(x->errbuf, "out of memory");
      return CURLE_OUT_OF_MEMORY;
    }
    /* Options that never change, set once per handle. */
    SET(CURLOPT_SHARE, s->share);
    SET(CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SET(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    /* Redirects are answers, never followed: an Authorization header must not travel elsewhere. */
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
    SET(CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
    SET(CURLOPT_CLOSESOCKETDATA, (void *)s);
    /* The path goes out byte for byte as signed: no dot-segment removal ("/a/../b" must not
     * become "/b", another operation's route). */
    SET(CURLOPT_PATH_AS_IS, 1L);
#if HAVE_PREREQ
    SET(CURLOPT_PREREQFUNCTION, on_prereq);
#endif
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    /* Peer and host verification are libcurl's defaults; set anyway, so nothing weaker can
     * slip in. CURLOPT_PROXY stays unset: libcurl reads http_proxy / https_proxy / all_proxy /
     * no_proxy from the environment. */
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
#if REUSE_CONFIG
    if (s->default_ca == NULL) {
      char *def = NULL;
      if (curl_easy_getinfo(e, CURLINFO_CAINFO, &def) == CURLE_OK && def != NULL &&
          (s->default_ca = strdup(def)) == NULL) {
        rc = CURLE_OUT_OF_MEMORY;
        goto fail;
      }
    }
#endif
  } else {
    e = x->easy;
  }
  SET(CURLOPT_ERRORBUFFER, x->errbuf);
  SET(CURLOPT_PRIVATE, (void *)x);
  SET(CURLOPT_WRITEDATA, (void *)x);
  SET(CURLOPT_HEADERDATA, (void *)x);
  SET(CURLOPT_OPENSOCKETDATA, (void *)x);
#if HAVE_PREREQ
  SET(CURLOPT_PREREQDATA, (void *)x);
#endif
  x->no_resend = req->no_resend;
  SET(CURLOPT_URL, req->url);
  /* Every per-request option is set on every request. For libcurl 0 means no bound of its
   * own (a connect is still bounded by the whole-attempt timeout). */
  timeout = req->timeout_ms != 0 ? req->timeout_ms : limits.timeout_ms;
  ctimeout = req->connect_timeout_ms != 0 ? req->connect_timeout_ms : limits.connect_timeout_ms;
  SET(CURLOPT_TIMEOUT_MS, timeout > 0 ? timeout : 0L);
  SET(CURLOPT_CONNECTTIMEOUT_MS, ctimeout > 0 ? ctimeout : 0L);
  x->max_body = req->max_body != 0 ? req->max_body : limits.max_body;
  x->head_only = head;
  if (ca == NULL || *ca == '\0') ca = getenv("AWS_CA_BUNDLE");
  if (ca == NULL || *ca == '\0') ca = s->default_ca;
  if (ca != NULL || REUSE_CONFIG) SET(CURLOPT_CAINFO, ca);

  /* The method: HTTPGET resets an earlier HEAD, POST or upload on this handle. */
  SET(CURLOPT_HTTPGET, 1L);
  if (head) {
    SET(CURLOPT_NOBODY, 1L);
  } else if (req->body != NULL && (req->body_len > 0 || !get)) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    SET(CURLOPT_POSTFIELDS, req->body);
    sends_body = 1;
  } else if (post) {
    SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    SET(CURLOPT_POSTFIELDS, "");
    sends_body = 1;
  }
  /* A GET with a body goes out as a POST renamed to GET. */
  SET(CURLOPT_CUSTOMREQUEST, (head || post || (get && !(req->body && req->body_len > 0))) ? NULL : method);

  if ((rc = build_headers(x, req, sends_body)) != CURLE_OK) goto fail;
  SET(CURLOPT_HTTPHEADER, x->hdrs);
  return CURLE_OK;
fail:
  if (x->errbuf[0] == '\0') {
    strncpy(x->errbuf, curl_easy_strerror(rc), sizeof x->errbuf - 1);
  }
  return rc;
}

void laws_http_xfer_result(laws_http_xfer *x, CURLcode rc, laws_http_res *res) {
  long n = 0;
  memset(res, 0, sizeof *res);
  if (x->oom && (rc == CURLE_WRITE_ERROR || rc == CURLE_OK)) {
    rc = CURLE_OUT_OF_MEMORY;
    strcpy(x->errbuf, "out of memory while receiving the response");
  }
  if (x->easy != NULL && curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK)
    x->session->connects += n;
  if (x->too_large && (rc == CURLE_WRITE_ERROR || rc == CURLE_OK)) {
    rc = CURLE_FILESIZE_EXCEEDED;
    snprintf(x->errbuf, sizeof x->errbuf,
             "response body larger than max_body (%zu bytes): transfer stopped; set the max_body "
             "option (request, session or laws.http.defaults) to accept more", x->max_body);
  }
  if (x->refused && rc == CURLE_ABORTED_BY_CALLBACK) {
    rc = CURLE_GOT_NOTHING;
    strcpy(x->errbuf, "the reused connection closed before any response byte; not re-sent (resend = false)");
  }
  res->resent = x->sends > 1 ? x->sends - 1 - x->refused : 0;
  x->session->resends += res->resent;
  res->code = rc;
  res->code_name = x->too_large && rc == CURLE_FILESIZE_EXCEEDED ? "ResponseTooLarge" : laws_http_code_name(rc);
  if (rc != CURLE_OK) {
    res->message = x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc);
    return;
  }
  curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res->status);
  res->message = "";
  res->head = &x->head;
  res->nhead = x->nhead;
  res->body = &x->body;
}

void laws_http_xfer_cleanup(laws_http_xfer *x) {
  if (x->live) {
    unhold_all(x);
    x->session->live--;
    x->session->acts++;  /* its connections may be idle now */
    x->live = 0;
  }
  if (x->easy != NULL) release(x->session, x);
  x->easy = NULL;
  if (x->hdrs != NULL) {
    /* one block (see build_headers) holding X-Amz-Security-Token and Authorization: wipe it */
    struct curl_slist *last = x->hdrs;
    while (last->next != NULL) last = last->next;
    OPENSSL_cleanse(x->hdrs, (size_t)(last->data + strlen(last->data) + 1 - (char *)x->hdrs));
    free(x->hdrs);
  }
  x->hdrs = NULL;
  laws_buf_free(&x->head);
  laws_buf_free(&x->body);
}

void laws_http_perform(laws_http_xfer *x, laws_http_session *s, const laws_http_req *req,
                       laws_http_res *res) {
  CURLcode rc = laws_http_xfer_init(x, s, req);
  if (rc == CURLE_OK) rc = curl_easy_perform(x->easy);
  laws_http_xfer_result(x, rc, res);
}
