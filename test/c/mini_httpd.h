/* A tiny keep-alive HTTP/1.1 server for the C test and the HTTP benchmark: one thread, poll(),
 * answers every request with a fixed small body, one write() per response, TCP_NODELAY.
 * Reads Content-Length request bodies; no chunked requests. Counts accepted connections. */
#ifndef LAWS_MINI_HTTPD_H
#define LAWS_MINI_HTTPD_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MINI_MAXC 64
#define MINI_BUF 65536

typedef struct mini_httpd {
  int lfd, port;
  volatile int stop;
  volatile long connections, requests;
} mini_httpd;

static const char mini_answer[] =
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello, laws\n";

/* Binds 127.0.0.1 on a free port. 0 ok. */
static int mini_httpd_listen(mini_httpd *h) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int one = 1;
  memset(h, 0, sizeof *h);
  h->lfd = socket(AF_INET, SOCK_STREAM, 0);
  if (h->lfd < 0) return -1;
  setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(h->lfd, (struct sockaddr *)&a, sizeof a) || listen(h->lfd, 128) ||
      getsockname(h->lfd, (struct sockaddr *)&a, &len)) {
    close(h->lfd);
    return -1;
  }
  h->port = ntohs(a.sin_port);
  return 0;
}

/* Length of the first complete request in b (headers + Content-Length body), 0 if incomplete. */
static size_t mini_request_len(const char *b, size_t n) {
  const char *end = NULL, *p;
  size_t i, clen = 0;
  for (i = 3; i < n; i++)
    if (b[i - 3] == '\r' && b[i - 2] == '\n' && b[i - 1] == '\r' && b[i] == '\n') { end = b + i + 1; break; }
  if (end == NULL) return 0;
  for (p = b; p < end - 16; p++)
    if ((p == b || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0) {
      clen = (size_t)strtoul(p + 15, NULL, 10);
      break;
    }
  if ((size_t)(end - b) + clen > n) return 0;
  return (size_t)(end - b) + clen;
}

static void *mini_httpd_run(void *arg) {
  mini_httpd *h = arg;
  struct pollfd fds[MINI_MAXC + 1];
  static char bufs[MINI_MAXC][MINI_BUF];
  size_t lens[MINI_MAXC];
  int nc = 0, i, one = 1;
  while (!h->stop) {
    fds[0].fd = h->lfd;
    fds[0].events = POLLIN;
    for (i = 0; i < nc; i++) fds[i + 1].events = POLLIN;
    if (poll(fds, (nfds_t)nc + 1, 100) <= 0) continue;
    if ((fds[0].revents & POLLIN) && nc < MINI_MAXC) {
      int c = accept(h->lfd, NULL, NULL);
      if (c >= 0) {
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fds[nc + 1].fd = c;
        fds[nc + 1].revents = 0;
        lens[nc++] = 0;
        h->connections++;
      }
    }
    for (i = 0; i < nc; i++) {
      ssize_t r;
      size_t q;
      if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      r = read(fds[i + 1].fd, bufs[i] + lens[i], MINI_BUF - lens[i]);
      if (r <= 0) {
        close(fds[i + 1].fd);
        fds[i + 1] = fds[nc];
        memcpy(bufs[i], bufs[nc - 1], lens[nc - 1]);
        lens[i] = lens[nc - 1];
        nc--;
        i--;
        continue;
      }
      lens[i] += (size_t)r;
      while ((q = mini_request_len(bufs[i], lens[i])) > 0) {
        if (write(fds[i + 1].fd, mini_answer, sizeof mini_answer - 1) < 0) break;
        h->requests++;
        memmove(bufs[i], bufs[i] + q, lens[i] - q);
        lens[i] -= q;
      }
      if (lens[i] == MINI_BUF) lens[i] = 0; /* a request too big for us: drop it */
    }
  }
  for (i = 0; i < nc; i++) close(fds[i + 1].fd);
  close(h->lfd);
  return NULL;
}

#endif
