/* The benchmark's server: test/c/mini_httpd.h as a process. Prints its port, serves until
 * killed (or for 10 minutes at most, so a crashed run never leaves it behind). */
#include <stdio.h>
#include "mini_httpd.h"

int main(void) {
  mini_httpd h;
  if (mini_httpd_listen(&h) != 0) {
    perror("listen");
    return 1;
  }
  printf("%d\n", h.port);
  fflush(stdout);
  alarm(600);
  mini_httpd_run(&h);
  return 0;
}
