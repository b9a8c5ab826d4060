/* The client benchmark's server: like bench/http_server.c (test/c/mini_httpd.h's listener
 * and request framing) but answering every request with a DynamoDB-style JSON item, so a
 * full client call has a real body to decode. Prints its port; exits after 10 minutes. */
#include <signal.h>
#include <stdio.h>
#include "mini_httpd.h"

static const char answer[] =
  "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: bench\r\n"
  "Content-Length: 146\r\n\r\n"
  "{\"Item\":{\"pk\":{\"S\":\"case#1\"},\"sk\":{\"N\":\"1\"},\"title\":{\"S\":\"Printer on fire\"},"
  "\"tags\":{\"M\":{}},\"notes\":{\"L\":[]},\"open\":{\"BOOL\":true},\"n\":{\"N\":\"42\"}}}";

int main(void) {
  mini_httpd h;
  static char buf[MINI_BUF];
  size_t len = 0, q;
  int one = 1;
  (void)mini_httpd_run; /* our own loop: a process per connection (the bench opens two or three) */
  if (sizeof answer - 1 - (strstr(answer, "\r\n\r\n") + 4 - answer) != 146) {
    fprintf(stderr, "client_server: Content-Length out of date\n");
    return 1;
  }
  if (mini_httpd_listen(&h) != 0) { perror("listen"); return 1; }
  printf("%d\n", h.port);
  fflush(stdout);
  alarm(600);
  signal(SIGCHLD, SIG_IGN);
  for (;;) {
    int c = accept(h.lfd, NULL, NULL);
    if (c < 0) continue;
    if (fork() != 0) { close(c); continue; }
    close(h.lfd);
    alarm(600);
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    len = 0;
    for (;;) {
      ssize_t r = read(c, buf + len, MINI_BUF - len);
      if (r <= 0) break;
      len += (size_t)r;
      while ((q = mini_request_len(buf, len)) > 0) {
        if (write(c, answer, sizeof answer - 1) < 0) break;
        memmove(buf, buf + q, len - q);
        len -= q;
      }
      if (len == MINI_BUF) len = 0;
    }
    close(c);
    _exit(0);
  }
}
