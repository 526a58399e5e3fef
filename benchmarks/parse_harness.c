/*
 * The timing harness of bench_parse.py: one browser-like GET request (about 700 bytes)
 * parsed again and again by mgio's mg_parse_http and by llhttp, in the same process,
 * built with the same compiler and flags (bench_parse.py compiles this file with the
 * mgio library sources and llhttp's three .c files).
 *
 *   parse_harness time ROUNDS ITERATIONS   per round and parser: "NAME NS_PER_PARSE"
 *   parse_harness run NAME ITERATIONS      only NAME, for callgrind (prints nothing)
 *   parse_harness check                    both parse the request whole; exit 0 or 1
 *
 * Parsers (NAME):
 *   mgio          mg_parse_http(request, len, &hm, 1): the start line, every field as a
 *                 (name, value) view, Content-Length and the framing checks
 *   llhttp        llhttp_execute with callbacks that keep what mgio keeps (method, URL,
 *                 each field name and value as a view) - the same work, the ratio's peer
 *   llhttp-bare   llhttp_execute with no callbacks: validation only, the floor
 * Every parse starts from a reset parser, as an mgio parse starts from nothing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llhttp.h"
#include "mongoose.h"

static const char REQUEST[] =
    "GET /static/app/bundle.min.js?v=2.14.3&lang=en-US HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"130\", \"Google Chrome\";v=\"130\", \"Not?A_Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: */*\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Referer: https://www.example.com/account/settings?tab=profile\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9,de;q=0.8\r\n"
    "Cookie: session=4f2a9c1e7b3d8a6f0e5c2b9d4a7f1e3c; theme=dark; consent=1; "
    "_ga=GA1.2.1234567890.1700000000\r\n"
    "If-None-Match: \"5e1a-63f2b1c9d7e40\"\r\n"
    "\r\n";
#define REQUEST_LEN ((int) (sizeof(REQUEST) - 1))

/* ---- mgio --------------------------------------------------------------------------- */

static struct http_message s_hm;

static int parse_mgio(void) {
  return mg_parse_http(REQUEST, REQUEST_LEN, &s_hm, 1) == REQUEST_LEN;
}

/* ---- llhttp ------------------------------------------------------------------------- */

#define MAX_FIELDS 100

struct fields {
  struct mg_str method, url, names[MAX_FIELDS], values[MAX_FIELDS];
  size_t count;
  int complete;
};

static struct fields s_fields;
static llhttp_t s_parser, s_bare;
static llhttp_settings_t s_settings, s_bare_settings;

static int on_method(llhttp_t *p, const char *at, size_t len) {
  (void) p;
  s_fields.method = mg_mk_str_n(at, len);
  return 0;
}

static int on_url(llhttp_t *p, const char *at, size_t len) {
  (void) p;
  s_fields.url = mg_mk_str_n(at, len);
  return 0;
}

static int on_field(llhttp_t *p, const char *at, size_t len) {
  (void) p;
  if (s_fields.count >= MAX_FIELDS) return -1;
  s_fields.names[s_fields.count] = mg_mk_str_n(at, len);
  return 0;
}

static int on_value(llhttp_t *p, const char *at, size_t len) {
  (void) p;
  s_fields.values[s_fields.count++] = mg_mk_str_n(at, len);
  return 0;
}

static int on_complete(llhttp_t *p) {
  (void) p;
  s_fields.complete = 1;
  return 0;
}

static void setup_llhttp(void) {
  llhttp_settings_init(&s_settings);
  s_settings.on_method = on_method;
  s_settings.on_url = on_url;
  s_settings.on_header_field = on_field;
  s_settings.on_header_value = on_value;
  s_settings.on_message_complete = on_complete;
  llhttp_init(&s_parser, HTTP_REQUEST, &s_settings);
  llhttp_settings_init(&s_bare_settings);
  llhttp_init(&s_bare, HTTP_REQUEST, &s_bare_settings);
}

static int parse_llhttp(void) {
  llhttp_reset(&s_parser);
  s_fields.count = 0;
  s_fields.complete = 0;
  return llhttp_execute(&s_parser, REQUEST, (size_t) REQUEST_LEN) == HPE_OK &&
         s_fields.complete;
}

static int parse_llhttp_bare(void) {
  llhttp_reset(&s_bare);
  return llhttp_execute(&s_bare, REQUEST, (size_t) REQUEST_LEN) == HPE_OK;
}

/* ---- driver ------------------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*parse)(void);
} PARSERS[] = {
    {"mgio", parse_mgio},
    {"llhttp", parse_llhttp},
    {"llhttp-bare", parse_llhttp_bare},
};
#define NUM_PARSERS (sizeof(PARSERS) / sizeof(PARSERS[0]))

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* Runs parser i `n` times; the number of failed parses (0 expected). */
static long repeat(size_t i, long n) {
  long failed = 0;
  for (long k = 0; k < n; k++) failed += !PARSERS[i].parse();
  return failed;
}

static int time_rounds(long rounds, long n) {
  for (long r = 0; r < rounds; r++) {
    for (size_t j = 0; j < NUM_PARSERS; j++) { /* rotate the order every round */
      size_t i = (j + (size_t) r) % NUM_PARSERS;
      double t0 = now_ns();
      long failed = repeat(i, n);
      double t1 = now_ns();
      if (failed) {
        fprintf(stderr, "%s: %ld failed parses\n", PARSERS[i].name, failed);
        return 1;
      }
      printf("%s %.2f\n", PARSERS[i].name, (t1 - t0) / (double) n);
    }
    fflush(stdout);
  }
  return 0;
}

static int check(void) {
  int ok = parse_mgio() && parse_llhttp() && parse_llhttp_bare();
  ok = ok && s_hm.num_headers == s_fields.count && s_hm.method.len == s_fields.method.len;
  printf("request %d bytes, %zu fields: %s\n", REQUEST_LEN, s_fields.count,
         ok ? "both parse it whole" : "MISMATCH");
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  setup_llhttp();
  if (argc == 2 && strcmp(argv[1], "check") == 0) return check();
  if (argc == 4 && strcmp(argv[1], "time") == 0) return time_rounds(atol(argv[2]), atol(argv[3]));
  if (argc == 4 && strcmp(argv[1], "run") == 0) {
    for (size_t i = 0; i < NUM_PARSERS; i++) {
      if (strcmp(argv[2], PARSERS[i].name) == 0) return repeat(i, atol(argv[3])) != 0;
    }
  }
  fprintf(stderr, "usage: %s check | time ROUNDS N | run NAME N\n", argv[0]);
  return 2;
}
