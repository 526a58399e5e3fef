/* Streaming multipart over loopback (http/multipart_conn.c): the events in order fed
 * whole, byte by byte and in pieces, with Content-Length and chunked bodies; a handler
 * that consumes part of each offer; user_data over the stream; a cut connection
 * (status -1); malformed bodies and heads (400 / 413, then a fresh connection is
 * served); a request pipelined after the final boundary; a handler that refuses at
 * MG_EV_HTTP_MULTIPART_REQUEST; mg_file_upload_handler with hostile names, a failing
 * open, a write error and a cut upload. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_peer.h"
#include "mgio.h"
#include "test.h"

static char resp[1 << 16];

/* What the multipart endpoint saw, and how it behaves. */
static struct {
  char log[8192];
  size_t log_len;
  size_t consume_max;  /* take at most this many bytes of each PART_DATA (0: all) */
  int refuse;          /* answer 403 and close at MG_EV_HTTP_MULTIPART_REQUEST */
  int close_at_begin;  /* answer 403 and close at the second PART_BEGIN */
  int bad_user_data;   /* events where user_data was not what was set */
  int bad_names;       /* events with a NULL name */
  int offers;          /* PART_DATA events */
  int parts;           /* PART_BEGIN events of the request */
  size_t bytes;        /* data bytes taken */
  int take_nothing;    /* take nothing of this many PART_DATA offers first */
  int marker;
} ep;

static void ep_log(const char *s, size_t n) {
  if (ep.log_len + n + 1 > sizeof(ep.log)) n = sizeof(ep.log) - 1 - ep.log_len;
  memcpy(ep.log + ep.log_len, s, n);
  ep.log_len += n;
  ep.log[ep.log_len] = '\0';
}

static void ep_logf(const char *fmt, const char *a, const char *b) {
  char tmp[256];
  int n = snprintf(tmp, sizeof(tmp), fmt, a, b);
  if (n > 0) ep_log(tmp, (size_t) n < sizeof(tmp) ? (size_t) n : sizeof(tmp) - 1);
}

static void ep_reset(void) {
  memset(&ep, 0, sizeof(ep));
}

/* Logs: M (request head), {var|file} (begin), the data, $<status> (part end),
 * E<status> (request end), X (close); answers "parts=<n> bytes=<n>" at REQUEST_END(0). */
static void mp_endpoint(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_multipart_part *mp = (struct mg_http_multipart_part *) ev_data;
  switch (ev) {
    case MG_EV_HTTP_MULTIPART_REQUEST:
      ep_log("M", 1);
      ep.parts = 0;
      ep.bytes = 0;
      if (ep.refuse) mg_http_send_error(c, 403, NULL);
      break;
    case MG_EV_HTTP_PART_BEGIN:
      if (mp->var_name == NULL || mp->file_name == NULL) {
        ep.bad_names++;
        break;
      }
      if (mp->user_data != (ep.parts == 0 ? NULL : &ep.marker)) ep.bad_user_data++;
      mp->user_data = &ep.marker;
      ep.parts++;
      ep_logf("{%s|%s}", mp->var_name, mp->file_name);
      if (ep.close_at_begin && ep.parts == 2) mg_http_send_error(c, 403, NULL);
      break;
    case MG_EV_HTTP_PART_DATA:
      if (mp->user_data != &ep.marker || mp->num_data_consumed != mp->data.len) ep.bad_user_data++;
      if (mp->var_name == NULL || mp->file_name == NULL || mp->status != 0) ep.bad_names++;
      ep.offers++;
      if (ep.consume_max > 0 && mp->num_data_consumed > ep.consume_max)
        mp->num_data_consumed = ep.consume_max;
      if (ep.take_nothing > 0) {
        ep.take_nothing--;
        mp->num_data_consumed = 0;
      }
      ep_log(mp->data.p, mp->num_data_consumed);
      ep.bytes += mp->num_data_consumed;
      break;
    case MG_EV_HTTP_PART_END:
      if (mp->user_data != &ep.marker) ep.bad_user_data++;
      if (mp->var_name == NULL || mp->file_name == NULL || mp->data.len != 0) ep.bad_names++;
      ep_logf("$%s", mp->status == 0 ? "0" : "-1", "");
      break;
    case MG_EV_HTTP_MULTIPART_REQUEST_END: {
      if (mp->user_data != (ep.parts == 0 ? NULL : &ep.marker)) ep.bad_user_data++;
      if (mp->var_name == NULL || mp->file_name == NULL || mp->var_name[0] != '\0') ep.bad_names++;
      mp->user_data = NULL;
      ep_logf("E%s", mp->status == 0 ? "0" : "-1", "");
      if (mp->status == 0) {
        char text[64];
        int n = snprintf(text, sizeof(text), "parts=%d bytes=%zu", ep.parts, ep.bytes);
        mg_send_head(c, 200, n, "Content-Type: text/plain");
        mg_send(c, text, n);
      }
      break;
    }
    case MG_EV_HTTP_REQUEST: {
      static const char text[] = "not multipart";
      mg_send_head(c, 200, (int64_t) sizeof(text) - 1, NULL);
      mg_send(c, text, (int) sizeof(text) - 1);
      break;
    }
    case MG_EV_CLOSE:
      ep_log("X", 1);
      break;
    default:
      break;
  }
}

static int start(struct srv *s) {
  memset(s, 0, sizeof(*s));
  ep_reset();
  if (srv_start(s) != 0) return -1;
  mg_register_http_endpoint(s->lc, "/up", mp_endpoint);
  return 0;
}

static size_t exchange(struct srv *s, const char *req, size_t len, size_t step, int responses,
                       int *closed) {
  return peer_exchange(s, req, len, step, responses, resp, sizeof(resp), closed);
}

static int serves_fresh_connection(struct srv *s) {
  static const char get[] = "GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n";
  int closed;
  exchange(s, get, sizeof(get) - 1, 0, 1, &closed);
  return strstr(resp, "200 OK") != NULL && strstr(resp, "GET /fresh? 0") != NULL;
}

/* A request to /up with `ctype` (NULL: multipart/form-data; boundary=XyZ) and `body`. */
static char *request(const char *ctype, const char *body, size_t body_len, int chunked,
                     size_t *len) {
  size_t cap = body_len * 2 + 512, n;
  char *req = (char *) test_malloc(cap);
  if (req == NULL) abort();
  if (ctype == NULL) ctype = "multipart/form-data; boundary=XyZ";
  if (chunked) {
    n = (size_t) snprintf(req, cap,
                          "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: %s\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n",
                          ctype);
    for (size_t off = 0; off < body_len; off += 7) {
      size_t piece = body_len - off < 7 ? body_len - off : 7;
      n += (size_t) snprintf(req + n, cap - n, "%zx\r\n", piece);
      memcpy(req + n, body + off, piece);
      n += piece;
      memcpy(req + n, "\r\n", 2);
      n += 2;
    }
    memcpy(req + n, "0\r\n\r\n", 5);
    n += 5;
  } else {
    n = (size_t) snprintf(req, cap,
                          "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: %s\r\n"
                          "Content-Length: %zu\r\n\r\n",
                          ctype, body_len);
    memcpy(req + n, body, body_len);
    n += body_len;
  }
  *len = n;
  return req;
}

#define CD "Content-Disposition: form-data; "
static const char form[] =
    "preamble\r\n--XyZ\r\n" CD "name=\"file\"; filename=\"a\\\"b.txt\"\r\n"
    "Content-Type: text/plain\r\n\r\n"
    "line one\r\n--XyZ but not a delimiter\r\n--XyZz\r\nend\r\n"
    "--XyZ\r\n" CD "name=field\r\n\r\nvalue\r\n"
    "--XyZ\r\n" CD "name=\"empty\"\r\n\r\n\r\n"
    "--XyZ--\r\nepilogue";
static const char form_log[] =
    "M{file|a\"b.txt}line one\r\n--XyZ but not a delimiter\r\n--XyZz\r\nend$0"
    "{field|}value$0{empty|}$0E0";

TEST(multipart_conn_events_in_order_every_way) {
  static const size_t steps[] = {0, 1, 2, 3, 5, 13, 64};
  for (int chunked = 0; chunked < 2; chunked++) {
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
      TEST_SRV(s);
      size_t len;
      CHECK(start(&s) == 0);
      char *req = request(NULL, form, sizeof(form) - 1, chunked, &len);
      int closed;
      exchange(&s, req, len, steps[i], 1, &closed);
      test_free(req);
      CHECK(strstr(resp, "HTTP/1.1 200 OK\r\n") == resp);
      CHECK(strstr(resp, "\r\n\r\nparts=3 bytes=53") != NULL);
      CHECK(!closed);
      CHECK(strncmp(ep.log, form_log, sizeof(form_log) - 1) == 0);
      CHECK(strcmp(ep.log + sizeof(form_log) - 1, "X") == 0);
      CHECK(ep.bad_user_data == 0 && ep.bad_names == 0);
      CHECK(s.requests == 0); /* no MG_EV_HTTP_REQUEST for a multipart request */
      srv_stop(&s);
    }
  }
}

/* Every split of the request in two writes. */
TEST(multipart_conn_two_writes_split_everywhere) {
  TEST_SRV(s);
  size_t len;
  CHECK(start(&s) == 0);
  char *req = request(NULL, form, sizeof(form) - 1, 0, &len);
  for (size_t split = 1; split < len; split += 3) {
    int fd = peer_connect(&s), closed;
    CHECK(fd >= 0);
    ep.log_len = 0;
    ep.log[0] = '\0';
    CHECK(peer_send(&s, fd, req, split, 0) == 0);
    CHECK(peer_send(&s, fd, req + split, len - split, 0) == 0);
    peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
    test_close(fd);
    srv_poll(&s, 3);
    CHECK(strstr(resp, "parts=3 bytes=53") != NULL);
    CHECK(strncmp(ep.log, form_log, sizeof(form_log) - 1) == 0);
  }
  test_free(req);
  srv_stop(&s);
}

TEST(multipart_conn_content_type_forms) {
  static const char *const ctypes[] = {
      "Multipart/Form-Data; boundary=XyZ",
      "multipart/mixed; charset=x; boundary=\"XyZ\"",
      "multipart/form-data;boundary=XyZ;x=y",
  };
  for (size_t i = 0; i < 3; i++) {
    TEST_SRV(s);
    size_t len;
    CHECK(start(&s) == 0);
    char *req = request(ctypes[i], form, sizeof(form) - 1, 0, &len);
    int closed;
    exchange(&s, req, len, 0, 1, &closed);
    test_free(req);
    CHECK(strstr(resp, "parts=3 bytes=53") != NULL);
    srv_stop(&s);
  }
  /* a quoted boundary with a space and a colon */
  TEST_SRV(s);
  size_t len;
  static const char body[] = "--a b:c\r\n" CD "name=x\r\n\r\n1\r\n--a b:c--";
  CHECK(start(&s) == 0);
  char *req = request("multipart/form-data; boundary=\"a b:c\"", body, sizeof(body) - 1, 0, &len);
  int closed;
  exchange(&s, req, len, 0, 1, &closed);
  test_free(req);
  CHECK(strstr(resp, "parts=1 bytes=1") != NULL);
  CHECK(strcmp(ep.log, "M{x|}1$0E0X") == 0);
  /* not multipart: an ordinary request */
  static const char plain[] = "a=1";
  req = request("text/multipart", plain, 3, 0, &len);
  exchange(&s, req, len, 0, 1, &closed);
  test_free(req);
  CHECK(strstr(resp, "not multipart") != NULL);
  srv_stop(&s);
}

/* A handler that takes at most 3 bytes of each offer still sees every byte, in order. */
TEST(multipart_conn_partial_consumption) {
  for (size_t step = 0; step <= 40; step += 20) {
    TEST_SRV(s);
    size_t len;
    CHECK(start(&s) == 0);
    ep.consume_max = 3;
    char *req = request(NULL, form, sizeof(form) - 1, 0, &len);
    int closed;
    exchange(&s, req, len, step, 1, &closed);
    test_free(req);
    CHECK(strstr(resp, "parts=3 bytes=53") != NULL);
    CHECK(strncmp(ep.log, form_log, sizeof(form_log) - 1) == 0);
    CHECK(ep.offers >= 53 / 3);
    CHECK(ep.bad_user_data == 0);
    srv_stop(&s);
  }
}

/* A big part in pieces: data is delivered as it comes (bounded memory). */
TEST(multipart_conn_large_part_streams) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  size_t data_len = 3 << 20;
  static const char head[] = "--XyZ\r\n" CD "name=big; filename=big.bin\r\n\r\n";
  static const char tail[] = "\r\n--XyZ--\r\n";
  size_t body_len = sizeof(head) - 1 + data_len + sizeof(tail) - 1;
  char *body = (char *) test_malloc(body_len);
  CHECK(body != NULL);
  memcpy(body, head, sizeof(head) - 1);
  for (size_t i = 0; i < data_len; i++) body[sizeof(head) - 1 + i] = (char) ("\r\n-XyZ"[i % 6]);
  memcpy(body + sizeof(head) - 1 + data_len, tail, sizeof(tail) - 1);
  char hdr[256];
  int hn = snprintf(hdr, sizeof(hdr),
                    "POST /up HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
                    "boundary=XyZ\r\nContent-Length: %zu\r\n\r\n",
                    body_len);
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  CHECK(peer_send(&s, fd, hdr, (size_t) hn, 0) == 0);
  CHECK(peer_send(&s, fd, body, body_len, 65536) == 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  test_close(fd);
  srv_poll(&s, 3);
  test_free(body);
  char want[64];
  snprintf(want, sizeof(want), "parts=1 bytes=%zu", data_len);
  CHECK(strstr(resp, want) != NULL);
  CHECK(ep.offers > 10);
  srv_stop(&s);
}

/* The connection is cut mid-part: PART_END(-1) then REQUEST_END(-1), then the close. */
TEST(multipart_conn_cut_gives_status_minus_one) {
  TEST_SRV(s);
  size_t len;
  CHECK(start(&s) == 0);
  char *req = request(NULL, form, sizeof(form) - 1, 0, &len);
  size_t cut = (size_t) (strstr(req, "line one") - req) + 4;
  int fd = peer_connect(&s);
  CHECK(fd >= 0);
  CHECK(peer_send(&s, fd, req, cut, 0) == 0);
  test_close(fd);
  srv_poll(&s, 10);
  test_free(req);
  CHECK(strcmp(ep.log, "M{file|a\"b.txt}line$-1E-1X") == 0);
  /* cut between parts: no part is open */
  ep_reset();
  req = request(NULL, form, sizeof(form) - 1, 0, &len);
  cut = (size_t) (strstr(req, "value\r\n") - req) + 14; /* the delimiter after it, whole */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  CHECK(peer_send(&s, fd, req, cut, 0) == 0);
  test_close(fd);
  srv_poll(&s, 10);
  test_free(req);
  CHECK(strstr(ep.log, "{field|}value$0E-1X") != NULL);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

struct bad {
  const char *ctype, *body;
  const char *status, *log; /* the answer's status line; the events */
};

static const struct bad bads[] = {
    {"multipart/form-data", "--XyZ--", "400 Bad Request", ""},
    {"text/plain\r\nContent-Type: multipart/form-data; boundary=XyZ", "--XyZ--",
     "400 Bad Request", ""},
    {"multipart/form-data; boundary=XyZ\r\nContent-type: multipart/form-data; boundary=XyZ",
     "--XyZ--", "400 Bad Request", ""},
    {"multipart/form-data; boundary=", "----", "400 Bad Request", ""},
    {"multipart/form-data; boundary=\"\"", "----", "400 Bad Request", ""},
    {"multipart/form-data; boundary=a;b", "--a;b--", "400 Bad Request", "ME-1X"},
    {"multipart/form-data; boundary=\"a b \"", "--a b --", "400 Bad Request", ""},
    {"multipart/form-data; boundary="
     "12345678901234567890123456789012345678901234567890123456789012345678901",
     "--", "400 Bad Request", ""},
    {NULL, "--XyZ\r\n" CD "name=a\r\n\r\nabc", "400 Bad Request", "M{a|}abc$-1E-1X"},
    {NULL, "--XyZ\r\n" CD "name=a\r\n\r\nabc\r\n--XyZ", "400 Bad Request", "M{a|}abc\r\n--XyZ$-1E-1X"},
    {NULL, "--XyZ\n" CD "name=a\n\nabc\n--XyZ--\n", "400 Bad Request", "ME-1X"},
    {NULL, "--XyZ\r\n" CD "name=a\r\n\r\nabc\n--XyZ--\n", "400 Bad Request",
     "M{a|}abc\n--XyZ--\n$-1E-1X"},
    {NULL, "--XyZ\r\n" CD "filename=a\r\n\r\nabc\r\n--XyZ--", "400 Bad Request", "ME-1X"},
    {NULL, "--XyZ\r\n" CD "name=a\r\n\r\nabc\r\n--XyZ\r\nBad Header\r\n\r\n\r\n--XyZ--",
     "400 Bad Request", "M{a|}abc$0E-1X"},
    {NULL, "", "400 Bad Request", "ME-1X"},
};

TEST(multipart_conn_malformed_gives_400_then_next_connection_served) {
  for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
    TEST_SRV(s);
    size_t len;
    CHECK(start(&s) == 0);
    char *req = request(bads[i].ctype, bads[i].body, strlen(bads[i].body), 0, &len);
    int closed;
    /* with a request pipelined behind: it must not be answered */
    char *two = (char *) test_malloc(len + 64);
    CHECK(two != NULL);
    memcpy(two, req, len);
    memcpy(two + len, "GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n", 32);
    exchange(&s, two, len + 32, 0, 2, &closed);
    test_free(req);
    test_free(two);
    char line[64];
    snprintf(line, sizeof(line), "HTTP/1.1 %s\r\n", bads[i].status);
    if (strncmp(resp, line, strlen(line)) != 0 || strcmp(ep.log, bads[i].log) != 0) {
      fprintf(stderr, "case %zu: resp [%.40s] log [%s]\n", i, resp, ep.log);
    }
    CHECK(strncmp(resp, line, strlen(line)) == 0);
    CHECK(strstr(resp, "Connection: close") != NULL);
    CHECK(count_responses(resp, strlen(resp)) == 1 && closed);
    CHECK(strcmp(ep.log, bads[i].log) == 0);
    CHECK(serves_fresh_connection(&s));
    srv_stop(&s);
  }
}

TEST(multipart_conn_limits_give_413) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  /* a part header section over 8 KiB */
  size_t big = 9000, len;
  char *body = (char *) test_malloc(big + 200);
  CHECK(body != NULL);
  int n = snprintf(body, 200, "--XyZ\r\n" CD "name=a\r\nX-Big: ");
  memset(body + n, 'x', big);
  memcpy(body + (size_t) n + big, "\r\n\r\n\r\n--XyZ--", 14);
  char *req = request(NULL, body, (size_t) n + big + 14, 0, &len);
  int closed;
  exchange(&s, req, len, 0, 2, &closed);
  test_free(req);
  test_free(body);
  CHECK(strncmp(resp, "HTTP/1.1 413 ", 13) == 0 && closed);
  CHECK(strcmp(ep.log, "ME-1X") == 0);
  /* 1001 parts */
  static const char part[] = "--XyZ\r\n" CD "name=p\r\n\r\n\r\n";
  size_t plen = sizeof(part) - 1;
  body = (char *) test_malloc(1001 * plen + 16);
  CHECK(body != NULL);
  for (size_t i = 0; i < 1001; i++) memcpy(body + i * plen, part, plen);
  memcpy(body + 1001 * plen, "--XyZ--", 7);
  ep_reset();
  req = request(NULL, body, 1001 * plen + 7, 0, &len);
  exchange(&s, req, len, 0, 2, &closed);
  test_free(req);
  CHECK(strncmp(resp, "HTTP/1.1 413 ", 13) == 0 && closed);
  CHECK(ep.parts == 1000);
  CHECK(strstr(ep.log, "{p|}$-1E-1X") != NULL);
  /* exactly 1000 parts are fine */
  ep_reset();
  memcpy(body + 1000 * plen, "--XyZ--", 7);
  req = request(NULL, body, 1000 * plen + 7, 0, &len);
  exchange(&s, req, len, 0, 1, &closed);
  test_free(req);
  test_free(body);
  CHECK(strstr(resp, "parts=1000 bytes=0") != NULL);
  srv_stop(&s);
}

/* The next request, pipelined right after the body, is served on the same connection. */
TEST(multipart_conn_pipelined_after_final_boundary) {
  for (int chunked = 0; chunked < 2; chunked++) {
    TEST_SRV(s);
    size_t len;
    CHECK(start(&s) == 0);
    char *req = request(NULL, form, sizeof(form) - 1, chunked, &len);
    static const char next[] = "GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n";
    char *two = (char *) test_malloc(2 * len + sizeof(next));
    CHECK(two != NULL);
    memcpy(two, req, len);
    memcpy(two + len, req, len);
    memcpy(two + 2 * len, next, sizeof(next) - 1);
    int closed;
    exchange(&s, two, 2 * len + sizeof(next) - 1, 0, 3, &closed);
    test_free(req);
    test_free(two);
    CHECK(count_responses(resp, strlen(resp)) == 3 && !closed);
    char *a = strstr(resp, "parts=3 bytes=53");
    char *b = a != NULL ? strstr(a + 1, "parts=3 bytes=53") : NULL;
    char *c = b != NULL ? strstr(b, "GET /fresh? 0") : NULL;
    CHECK(a != NULL && b != NULL && c != NULL);
    srv_stop(&s);
  }
}

/* A handler that refuses the request at MG_EV_HTTP_MULTIPART_REQUEST gets no part. */
TEST(multipart_conn_refused_at_request_gets_no_part) {
  TEST_SRV(s);
  size_t len;
  CHECK(start(&s) == 0);
  ep.refuse = 1;
  char *req = request(NULL, form, sizeof(form) - 1, 0, &len);
  int closed;
  exchange(&s, req, len, 0, 2, &closed);
  test_free(req);
  CHECK(strncmp(resp, "HTTP/1.1 403 Forbidden\r\n", 24) == 0 && closed);
  CHECK(strcmp(ep.log, "ME-1X") == 0);
  /* closing at the second PART_BEGIN: the first part was whole */
  ep_reset();
  ep.close_at_begin = 1;
  req = request(NULL, form, sizeof(form) - 1, 0, &len);
  exchange(&s, req, len, 0, 2, &closed);
  test_free(req);
  CHECK(strncmp(resp, "HTTP/1.1 403 Forbidden\r\n", 24) == 0 && closed);
  CHECK(strstr(ep.log, "end$0{field|}$-1E-1X") != NULL);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

/* ---- mg_file_upload_handler ---------------------------------------------------------- */

static int name_mode; /* 0: the name as given; 1: a heap copy; 2: refuse; 3: "x\0y" */

static struct mg_str upload_name(struct mg_connection *nc, struct mg_str fname) {
  (void) nc;
  if (name_mode == 1) {
    char *copy = (char *) malloc(fname.len + 8); /* the library frees it */
    if (copy == NULL) return mg_mk_str_n(NULL, 0);
    memcpy(copy, "copy-", 5);
    memcpy(copy + 5, fname.p, fname.len);
    return mg_mk_str_n(copy, fname.len + 5);
  }
  if (name_mode == 2) return mg_mk_str_n(NULL, 0);
  if (name_mode == 3) {
    char *odd = (char *) malloc(3);
    if (odd == NULL) return mg_mk_str_n(NULL, 0);
    memcpy(odd, "x\0y", 3);
    return mg_mk_str_n(odd, 3);
  }
  return fname;
}

static void upload_endpoint(struct mg_connection *c, int ev, void *ev_data) {
  if (ev >= MG_EV_HTTP_PART_BEGIN && ev <= MG_EV_HTTP_MULTIPART_REQUEST_END)
    mg_file_upload_handler(c, ev, ev_data, upload_name);
}

static int file_is(const char *path, const char *content) {
  char buf[256];
  FILE *f = fopen(path, "rb");
  if (f == NULL) return 0;
  size_t n = fread(buf, 1, sizeof(buf), f);
  fclose(f);
  return n == strlen(content) && memcmp(buf, content, n) == 0;
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

/* Posts `body` (boundary XyZ) to /files; returns the answer's status code (0: none).
 * With `cut`, only that many body bytes are sent before the connection closes (-1). */
static int upload(struct srv *s, const char *body, size_t cut) {
  char head[256];
  int hn = snprintf(head, sizeof(head),
                    "POST /files HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
                    "boundary=XyZ\r\nContent-Length: %zu\r\n\r\n",
                    strlen(body));
  int fd = peer_connect(s), closed;
  if (fd < 0) return 0;
  peer_send(s, fd, head, (size_t) hn, 0);
  peer_send(s, fd, body, cut > 0 ? cut : strlen(body), 0);
  if (cut > 0) {
    test_close(fd);
    srv_poll(s, 10);
    return -1;
  }
  peer_collect(s, fd, resp, sizeof(resp), 1, &closed);
  test_close(fd);
  srv_poll(s, 3);
  return strncmp(resp, "HTTP/1.1 ", 9) == 0 ? atoi(resp + 9) : 0;
}

#define FILEPART(name, data) \
  "--XyZ\r\n" CD "name=f; filename=\"" name "\"\r\n\r\n" data "\r\n"

TEST(multipart_file_upload_handler_safe_names) {
  char cwd[1024], dir[] = "/tmp/mgio-upload-XXXXXX", sub[64];
  CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
  CHECK(mkdtemp(dir) != NULL);
  test_temp(dir);
  snprintf(sub, sizeof(sub), "%s/in", dir);
  CHECK(mkdir(sub, 0755) == 0);
  CHECK(test_chdir(sub) == 0);
  TEST_SRV(s);
  int ok = srv_start(&s) == 0;
  if (ok) mg_register_http_endpoint(s.lc, "/files", upload_endpoint);
  /* hostile names are reduced to a base name inside the working directory */
  name_mode = 0;
  int code = ok ? upload(&s, FILEPART("../evil1.txt", "one") FILEPART("/tmp/evil2.txt", "two")
                                 FILEPART("..\\\\..\\\\evil3.txt", "three")
                                 FILEPART("a/b/.hidden", "four") "--XyZ--\r\n", 0)
                : 0;
  ok = ok && code == 200 && strstr(resp, "\r\n\r\nOk.\r\n") != NULL &&
       strstr(resp, "Connection: close") != NULL;
  ok = ok && file_is("evil1.txt", "one") && file_is("evil2.txt", "two") &&
       file_is("evil3.txt", "three") && file_is("hidden", "four");
  ok = ok && !exists("../evil1.txt") && !exists("/tmp/evil2.txt") && !exists(".hidden");
  /* a heap name from the callback (freed by the handler) */
  name_mode = 1;
  ok = ok && upload(&s, FILEPART("x.bin", "\r\n--XyZz") "--XyZ--", 0) == 200 &&
       file_is("copy-x.bin", "\r\n--XyZz");
  /* names that reduce to nothing, a refusal, a NUL: 403 */
  name_mode = 0;
  ok = ok && upload(&s, FILEPART("..", "x") "--XyZ--", 0) == 403;
  ok = ok && upload(&s, FILEPART("dir/", "x") "--XyZ--", 0) == 403;
  ok = ok && upload(&s, "--XyZ\r\n" CD "name=field\r\n\r\nv\r\n--XyZ--", 0) == 403;
  /* files stored before the refusal are kept; nothing after it is stored */
  ok = ok && upload(&s, FILEPART("kept.txt", "k") FILEPART("...", "x") FILEPART("after.txt", "a")
                            "--XyZ--",
                    0) == 403;
  ok = ok && file_is("kept.txt", "k") && !exists("after.txt");
  name_mode = 2;
  ok = ok && upload(&s, FILEPART("y.txt", "x") "--XyZ--", 0) == 403 && !exists("y.txt");
  name_mode = 3;
  ok = ok && upload(&s, FILEPART("y.txt", "x") "--XyZ--", 0) == 403 && !exists("x");
  /* the target cannot be opened (a folder): 500 */
  name_mode = 0;
  ok = ok && mkdir("folder", 0755) == 0 && upload(&s, FILEPART("folder", "x") "--XyZ--", 0) == 500;
  /* a cut upload leaves no partial file */
  static const char partial[] = FILEPART("partial.txt", "0123456789abcdef") "--XyZ--";
  ok = ok && upload(&s, partial, (size_t) (strstr(partial, "0123") - partial) + 5) == -1 &&
       !exists("partial.txt");
  /* a write error (file size limit: EFBIG) answers 413 and removes the file */
  struct rlimit old, small;
  void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
  int have_limit = getrlimit(RLIMIT_FSIZE, &old) == 0;
  small.rlim_cur = 8; /* the soft limit only: the hard one cannot be raised back */
  small.rlim_max = old.rlim_max;
  if (ok && have_limit && setrlimit(RLIMIT_FSIZE, &small) == 0) {
    code = upload(&s, FILEPART("big.txt", "0123456789abcdef") "--XyZ--", 0);
    setrlimit(RLIMIT_FSIZE, &old);
    ok = code == 413 && !exists("big.txt");
  }
  signal(SIGXFSZ, old_sig);
  if (s.lc != NULL) srv_stop(&s);
  static const char *const made[] = {"evil1.txt", "evil2.txt", "evil3.txt", "hidden",
                                     "copy-x.bin", "kept.txt", "big.txt"};
  for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) unlink(made[i]);
  rmdir("folder");
  CHECK(chdir(cwd) == 0);
  rmdir(sub);
  rmdir(dir);
  CHECK(ok);
}

/* A body whose one part has a header section of exactly `size` bytes (CRLFs and the
 * empty line included) and the data "data"; heap, *len its length. */
static char *sized_header_body(size_t size, size_t *len) {
  static const char cd[] = CD "name=a\r\n";
  size_t fixed = sizeof(cd) - 1 + 7 + 4; /* "X-Pad: " and the two CRLFs */
  char *body = (char *) test_malloc(size + 64);
  if (body == NULL || size < fixed) abort();
  size_t n = (size_t) snprintf(body, 64, "--XyZ\r\n%sX-Pad: ", cd);
  memset(body + n, 'x', size - fixed);
  n += size - fixed;
  memcpy(body + n, "\r\n\r\ndata\r\n--XyZ--", 17);
  *len = n + 17;
  return body;
}

/* Sends a multipart request whose part header section is `size` bytes; waits for the
 * answer, or when `refused` for the close after it. */
static void send_sized_header(struct srv *s, size_t size, int refused, int *closed) {
  size_t blen, len;
  char *body = sized_header_body(size, &blen);
  char *req = request(NULL, body, blen, 0, &len);
  ep_reset();
  exchange(s, req, len, 0, refused ? 2 : 1, closed);
  test_free(req);
  test_free(body);
}

/* Sends a multipart request with `parts` empty parts; waits as send_sized_header. */
static void send_parts(struct srv *s, size_t parts, int refused, int *closed) {
  static const char part[] = "--XyZ\r\n" CD "name=p\r\n\r\n\r\n";
  size_t plen = sizeof(part) - 1, len;
  char *body = (char *) test_malloc(parts * plen + 8);
  if (body == NULL) abort();
  for (size_t i = 0; i < parts; i++) memcpy(body + i * plen, part, plen);
  memcpy(body + parts * plen, "--XyZ--", 7);
  char *req = request(NULL, body, parts * plen + 7, 0, &len);
  ep_reset();
  exchange(s, req, len, 0, refused ? 2 : 1, closed);
  test_free(req);
  test_free(body);
}

static int ok_with(const char *counts) {
  return strncmp(resp, "HTTP/1.1 200 ", 13) == 0 && strstr(resp, counts) != NULL;
}

static int refused_413(int closed) {
  return strncmp(resp, "HTTP/1.1 413 ", 13) == 0 && strstr(resp, "Connection: close") &&
         closed;
}

/* mp_header and mp_parts from mg_http_set_limits: at and below pass, above is 413. */
TEST(multipart_conn_configured_limits_below_at_above) {
  TEST_SRV(s);
  int closed;
  CHECK(start(&s) == 0);
  struct mg_http_limits lim = mg_http_default_limits();
  CHECK(lim.mp_header == 8192 && lim.mp_parts == 1000);
  send_sized_header(&s, 8192, 0, &closed); /* the defaults first */
  CHECK(ok_with("parts=1 bytes=4"));
  send_sized_header(&s, 8193, 1, &closed);
  CHECK(refused_413(closed) && strcmp(ep.log, "ME-1X") == 0);
  lim.mp_header = 100;
  lim.mp_parts = 3;
  mg_http_set_limits(s.lc, &lim);
  send_sized_header(&s, 99, 0, &closed);
  CHECK(ok_with("parts=1 bytes=4"));
  send_sized_header(&s, 100, 0, &closed);
  CHECK(ok_with("parts=1 bytes=4"));
  send_sized_header(&s, 101, 1, &closed);
  CHECK(refused_413(closed) && strcmp(ep.log, "ME-1X") == 0);
  send_parts(&s, 2, 0, &closed);
  CHECK(ok_with("parts=2 bytes=0"));
  send_parts(&s, 3, 0, &closed);
  CHECK(ok_with("parts=3 bytes=0"));
  send_parts(&s, 4, 1, &closed);
  CHECK(refused_413(closed) && ep.parts == 3 && strstr(ep.log, "$0{p|}$-1E-1X") != NULL);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

/* The head and the first data of a body that announces more than it sends. */
static const char partial_body[] = "--XyZ\r\n" CD "name=a\r\n\r\nhello world";

static int send_partial(struct srv *s) {
  size_t len;
  char *req = request(NULL, partial_body, sizeof(partial_body) - 1, 0, &len);
  char *cl = strstr(req, "Content-Length: ");
  if (cl == NULL) abort();
  memcpy(cl + 16, "99", 2); /* announce more; the digits have the same width */
  int fd = peer_connect(s);
  if (fd >= 0) peer_send(s, fd, req, len, 0);
  test_free(req);
  return fd;
}

/* Data a handler left is offered again on MG_EV_POLL, without more bytes arriving. */
TEST(multipart_conn_unconsumed_data_reoffered_on_poll) {
  TEST_SRV(s);
  CHECK(sizeof(partial_body) - 1 < 100);
  CHECK(start(&s) == 0);
  ep.take_nothing = 1;
  int fd = send_partial(&s);
  CHECK(fd >= 0);
  double t0 = mg_time();
  while (ep.bytes < 11 && !test_timed_out(t0, 3)) mg_mgr_poll(&s.mgr, 20);
  CHECK(ep.offers == 2 && ep.bytes == 11);
  CHECK(strcmp(ep.log, "M{a|}hello world") == 0);
  test_close(fd);
  srv_poll(&s, 3);
  CHECK(strcmp(ep.log, "M{a|}hello world$-1E-1X") == 0);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

/* A handler that keeps taking nothing gets one offer per poll iteration: the manager
 * still sleeps in its wait (no busy loop). */
TEST(multipart_conn_paused_handler_costs_no_busy_loop) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  ep.take_nothing = 1 << 30;
  int fd = send_partial(&s);
  CHECK(fd >= 0);
  int before = ep.offers;
  double t0 = mg_time();
  for (int i = 0; i < 5; i++) mg_mgr_poll(&s.mgr, 40);
  double took = mg_time() - t0;
  CHECK(took >= 0.15 || test_torture()); /* where the manager's wait does not sleep */
  CHECK(ep.offers - before >= 5 && ep.offers - before <= 7);
  CHECK(ep.bytes == 0);
  test_close(fd);
  srv_poll(&s, 3);
  srv_stop(&s);
}

/* A stalled multipart body: 408, and the handler's stream ends with status -1. */
TEST(multipart_conn_body_timeout_408) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  struct mg_http_limits lim = mg_http_default_limits();
  lim.body_ms = 150;
  mg_http_set_limits(s.lc, &lim);
  double t0 = mg_time();
  int fd = send_partial(&s), closed;
  CHECK(fd >= 0);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  double took = mg_time() - t0;
  test_close(fd);
  srv_poll(&s, 3);
  CHECK(strncmp(resp, "HTTP/1.1 408 ", 13) == 0 && closed);
  CHECK(took >= 0.14 && took < 3);
  CHECK(strcmp(ep.log, "M{a|}hello world$-1E-1X") == 0);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}
