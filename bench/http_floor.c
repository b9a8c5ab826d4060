/* The floor for bench/20-http.sh: the same GET requests as laws.http.request, from plain C
 * with one reused libcurl easy handle (options set once), body collected into a buffer.
 *   http_floor URL N   ->  prints "<requests/s> <seconds> <client CPU us/request>" for N timed
 *                          requests after 500 warm-up */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static char buf[1 << 16];
static size_t blen;

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  size_t len = size * n;
  (void)ud;
  if (len > sizeof buf - blen) return 0;
  memcpy(buf + blen, p, len);
  blen += len;
  return len;
}

static double cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  CURL *e;
  long i, n, status = 0;
  double t0 = 0, c0 = 0, t, c;
  if (argc != 3) {
    fprintf(stderr, "usage: http_floor URL N\n");
    return 2;
  }
  n = atol(argv[2]);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  e = curl_easy_init();
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  for (i = -500; i < n; i++) {
    if (i == 0) {
      t0 = now();
      c0 = cpu();
    }
    blen = 0;
    if (curl_easy_perform(e) != CURLE_OK) {
      fprintf(stderr, "request %ld failed\n", i);
      return 1;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) return 1;
  }
  t = now() - t0;
  c = cpu() - c0;
  printf("%.0f %.3f %.1f\n", (double)n / t, t, c * 1e6 / (double)n);
  curl_easy_cleanup(e);
  curl_global_cleanup();
  return 0;
}
