/*
 * The C multipart parser alone, for bench_multipart.py: mgio's streaming parser
 * (csrc/proto/multipart.c, mg__mp_parse) fed whole request bodies in fixed-size chunks,
 * no sockets, no Python. bench_multipart.py compiles it with the library sources (-O2)
 * into a temporary folder at run time.
 *
 *   multipart_parse BOUNDARY CHUNK PASSES FILE...
 *
 * Reads every FILE (a multipart body whose boundary is BOUNDARY) into memory, then parses
 * all of them PASSES times. A body is fed as a stream that arrives CHUNK bytes at a time:
 * the parser sees the bytes it left unconsumed followed by the next CHUNK bytes, as a
 * server's receive buffer would hold them. The bytes stay where they are in memory (no
 * copy into a separate buffer), so what is timed is the parser and nothing else.
 * Every part's data is counted, as a handler would see it.
 *
 * Prints one line per pass on stdout:
 *
 *   pass WALL_SECONDS CPU_SECONDS PARTS DATA_BYTES
 *
 * and exits 1 (with a message on stderr) when a body does not parse to its end.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../csrc/proto/multipart.h"

struct body {
  char *p;
  size_t len;
};

struct counts {
  size_t parts;
  size_t data;
};

static double seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int read_file(const char *path, struct body *b) {
  FILE *f = fopen(path, "rb");
  long size;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
      fseek(f, 0, SEEK_SET) != 0) {
    if (f != NULL) fclose(f);
    return -1;
  }
  b->len = (size_t) size;
  b->p = (char *) malloc(b->len > 0 ? b->len : 1);
  int ok = b->p != NULL && fread(b->p, 1, b->len, f) == b->len;
  fclose(f);
  return ok ? 0 : -1;
}

/* Parses one body arriving `chunk` bytes at a time; adds to *c. 0, or -1 (the parser's
 * error, or a body that ends early). */
static int parse_body(struct mg_str boundary, const struct body *b, size_t chunk,
                      struct counts *c) {
  struct mg__mp st;
  struct mg__mp_event ev;
  size_t off = 0, avail = b->len < chunk ? b->len : chunk;
  if (mg__mp_init(&st, boundary, NULL) != 0) return -1;
  for (;;) {
    off += mg__mp_parse(&st, b->p + off, avail - off, avail == b->len, &ev);
    switch (ev.type) {
      case MG__MP_PART_BEGIN: c->parts++; break;
      case MG__MP_PART_DATA: c->data += ev.data.len; break;
      case MG__MP_PART_END: break;
      case MG__MP_DONE: return 0;
      case MG__MP_NEED_MORE: /* the next chunk arrives */
        if (avail == b->len) return -1;
        avail = b->len - avail < chunk ? b->len : avail + chunk;
        break;
      default:
        fprintf(stderr, "multipart_parse: %s\n", mg__mp_strerror(ev.err));
        return -1;
    }
  }
}

int main(int argc, char **argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: multipart_parse BOUNDARY CHUNK PASSES FILE...\n");
    return 2;
  }
  struct mg_str boundary = mg_mk_str(argv[1]);
  size_t chunk = (size_t) strtoul(argv[2], NULL, 10);
  long passes = strtol(argv[3], NULL, 10);
  int nbodies = argc - 4;
  struct body *bodies = (struct body *) calloc((size_t) nbodies, sizeof(*bodies));
  if (chunk == 0 || passes <= 0 || bodies == NULL) return 2;
  for (int i = 0; i < nbodies; i++) {
    if (read_file(argv[4 + i], &bodies[i]) != 0) {
      fprintf(stderr, "multipart_parse: cannot read %s\n", argv[4 + i]);
      return 1;
    }
  }
  for (long pass = 0; pass < passes; pass++) {
    struct counts c = {0, 0};
    double t0 = seconds(CLOCK_MONOTONIC), cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < nbodies; i++) {
      if (parse_body(boundary, &bodies[i], chunk, &c) != 0) {
        fprintf(stderr, "multipart_parse: %s does not parse\n", argv[4 + i]);
        return 1;
      }
    }
    double wall = seconds(CLOCK_MONOTONIC) - t0, cpu = seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    printf("pass %.9f %.9f %zu %zu\n", wall, cpu, c.parts, c.data);
  }
  for (int i = 0; i < nbodies; i++) free(bodies[i].p);
  free(bodies);
  return 0;
}
