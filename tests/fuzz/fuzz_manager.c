/*
 * libFuzzer target: a whole manager serving one connection over a socket pair, with the
 * HTTP server, WebSocket and streaming multipart on it (csrc/net, csrc/http), through
 * csrc/tests/pair_server.c: /upload gets multipart events, /static/ is served from a
 * small folder, anything else is answered with its body; WebSocket upgrades anywhere.
 * Input: a settings byte (PAIR_* bits of pair_server.h: delete chunks, small limits,
 * partial multipart consumption, WebSocket echo), then the bytes the peer sends. The
 * byte 0xFE splits them into writes (0xFE 0xFE is one 0xFE byte); the manager is polled
 * a bounded number of times after each write, what it sends back is read and dropped,
 * then the peer shuts down and closes and the manager is freed.
 * Invariants: no sanitizer report, no memory leak (libFuzzer's leak check per input),
 * no descriptor left open after mg_mgr_free, and what the server sends starts with a
 * well-formed response head.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "pair_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARKER 0xfe
#define POLLS_PER_WRITE 3

static char root[64];        /* the static folder, made once per process */
static char answer[1 << 16]; /* the start of what the server sent */

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  FUZZ_CHECK(d != NULL);
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

static void remove_root(void) {
  char path[96];
  snprintf(path, sizeof(path), "%s/static/a.txt", root);
  unlink(path);
  snprintf(path, sizeof(path), "%s/static", root);
  rmdir(path);
  rmdir(root);
}

static void make_root(void) {
  char path[96];
  if (root[0] != '\0') return;
  snprintf(root, sizeof(root), "/tmp/mgio-fuzz-XXXXXX");
  FUZZ_CHECK(mkdtemp(root) != NULL);
  snprintf(path, sizeof(path), "%s/static", root); /* the URI path is joined whole */
  FUZZ_CHECK(mkdir(path, 0755) == 0);
  snprintf(path, sizeof(path), "%s/static/a.txt", root);
  FILE *f = fopen(path, "w");
  FUZZ_CHECK(f != NULL);
  fputs("static file\n", f);
  fclose(f);
  atexit(remove_root);
}

/* The next write: bytes up to a lone marker, with doubled markers made single. */
static size_t next_write(struct fuzz_input *in, uint8_t *out) {
  size_t k = 0;
  while (in->n > 0) {
    uint8_t c = fuzz_take_byte(in);
    if (c == MARKER) {
      if (in->n == 0 || in->p[0] != MARKER) break;
      fuzz_take_byte(in);
    }
    out[k++] = c;
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  struct pair_server s = {0};
  make_root();
  int fds_before = count_fds();
  s.settings = fuzz_take_byte(&in);
  s.root = root;
  FUZZ_CHECK(pair_server_start(&s) == 0);
  uint8_t *piece = (uint8_t *) malloc(in.n + 1);
  size_t len = 0;
  FUZZ_CHECK(piece != NULL);
  while (in.n > 0) {
    size_t n = next_write(&in, piece);
    if (pair_server_send(&s, piece, n) != 0) break;
    pair_server_poll(&s, POLLS_PER_WRITE, answer, sizeof(answer), &len);
  }
  free(piece);
  if (len > 0) {
    struct http_message hm;
    FUZZ_CHECK(mg_http_parse_head(answer, len, &hm, 0, NULL, NULL) != -1);
  }
  pair_server_stop(&s);
  FUZZ_CHECK(count_fds() == fds_before);
  return 0;
}
