/* WebSocket on connections over loopback: the upgrade (and its refusals), echo of every
 * length form, fragments with control frames between them, the protocol errors and
 * their close codes (failing fast on bad UTF-8), the closing handshake, and mgio's own
 * client against its server with and without permessage-deflate. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../proto/ws.h"
#include "http_peer.h"
#include "mgio.h"
#include "test.h"

/* What the echo server saw. */
struct ws_log {
  int requests, done, frames, controls, closes;
  unsigned char last_flags;
  size_t last_size;
  int close_err; /* c->err at the last MG_EV_CLOSE */
};

static struct ws_log wl;

/* Echoes every message and control frame event; records events. */
static void ws_echo(struct mg_connection *c, int ev, void *ev_data) {
  struct websocket_message *wm = (struct websocket_message *) ev_data;
  switch (ev) {
    case MG_EV_WEBSOCKET_HANDSHAKE_REQUEST:
      wl.requests++;
      break;
    case MG_EV_WEBSOCKET_HANDSHAKE_DONE:
      wl.done++;
      break;
    case MG_EV_WEBSOCKET_FRAME:
      wl.frames++;
      wl.last_flags = wm->flags;
      wl.last_size = wm->size;
      mg_send_websocket_frame(c, wm->flags & 0x0f, wm->data, wm->size);
      break;
    case MG_EV_WEBSOCKET_CONTROL_FRAME:
      wl.controls++;
      break;
    case MG_EV_CLOSE:
      wl.closes++;
      wl.close_err = c->err;
      break;
    default:
      break;
  }
}

static const char UPGRADE[] =
    "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n";

static char in[1 << 21];

/* A masked client frame with first byte `first` and `n` bytes of payload. */
static size_t frame(unsigned char *out, unsigned char first, const void *payload, size_t n) {
  static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  size_t h = mg__ws_build_header(out, first, n, key);
  memcpy(out + h, payload, n);
  mg__ws_mask(out + h, n, key, 0);
  return h + n;
}

/* Opens a WebSocket to `s` by hand; fd, or -1. */
static int ws_open(struct srv *s) {
  int fd = peer_connect(s), closed;
  if (fd < 0 || peer_send(s, fd, UPGRADE, sizeof(UPGRADE) - 1, 0) != 0) return -1;
  peer_collect(s, fd, in, sizeof(in), 1, &closed);
  return strstr(in, "101 Switching Protocols") != NULL ? fd : -1;
}

/* Reads server frames until `want` bytes are in (or the close, or `seconds` passed).
 * Returns the length. */
static size_t read_frames_for(struct srv *s, int fd, size_t want, int *closed, double seconds) {
  size_t len = 0;
  double since = mg_time();
  *closed = 0;
  while (len < want && !test_timed_out(since, seconds)) {
    mg_mgr_poll(&s->mgr, 1);
    ssize_t r = recv(fd, in + len, sizeof(in) - len, MSG_DONTWAIT);
    if (r == 0) {
      *closed = 1;
      break;
    }
    if (r > 0) len += (size_t) r;
  }
  return len;
}

static size_t read_frames(struct srv *s, int fd, size_t want, int *closed) {
  return read_frames_for(s, fd, want, closed, 5);
}

/* The close code of a Close frame at the start of `in`, or -1. */
static int close_code(size_t len) {
  struct mg__ws_header h;
  int n = mg__ws_parse_header((const unsigned char *) in, len, &h);
  if (n < 0 || h.opcode != WEBSOCKET_OP_CLOSE) return -1;
  if (h.len < 2) return 1005;
  return ((unsigned char) in[n] << 8) | (unsigned char) in[n + 1];
}

static int start(struct srv *s) {
  memset(s, 0, sizeof(*s));
  memset(&wl, 0, sizeof(wl));
  if (srv_start(s) != 0) return -1;
  s->lc->handler = ws_echo;
  return 0;
}

TEST(ws_upgrade_answers_101) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  int fd = ws_open(&s);
  CHECK(fd >= 0);
  CHECK(strstr(in, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
  CHECK(strstr(in, "\r\nSec-WebSocket-Protocol: chat\r\n") != NULL);
  CHECK(strstr(in, "Sec-WebSocket-Extensions") == NULL); /* not offered */
  CHECK(wl.requests == 1 && wl.done == 1);
  test_close(fd);
  srv_stop(&s);
}

/* Every length form echoes back intact, sent whole and byte by byte. */
TEST(ws_echo_every_length_form) {
  static const size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 1 << 20};
  unsigned char *out = (unsigned char *) test_malloc((1 << 20) + 16);
  unsigned char *payload = (unsigned char *) test_malloc(1 << 20);
  CHECK(out != NULL && payload != NULL);
  for (size_t i = 0; i < (1u << 20); i++) payload[i] = (unsigned char) (i * 31 + 7);
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    int fd = ws_open(&s), closed;
    CHECK(fd >= 0);
    size_t n = frame(out, MG__WS_FIN | WEBSOCKET_OP_BINARY, payload, sizes[k]);
    peer_send(&s, fd, out, n, sizes[k] < 200 ? 1 : 0);
    size_t want = sizes[k] + (sizes[k] < 126 ? 2 : sizes[k] < 65536 ? 4 : 10);
    size_t got = read_frames(&s, fd, want, &closed);
    struct mg__ws_header h;
    int hl = mg__ws_parse_header((const unsigned char *) in, got, &h);
    CHECK(got == want && hl > 0 && h.len == sizes[k] && !h.masked && h.first == 0x82);
    CHECK(memcmp(in + hl, payload, sizes[k]) == 0);
    test_close(fd);
  }
  srv_stop(&s);
  test_free(out);
  test_free(payload);
}

/* A text message in three fragments with a Ping between them: Pong first, then the
 * whole message. */
TEST(ws_fragments_with_ping_between) {
  unsigned char out[256];
  size_t n = 0;
  n += frame(out + n, WEBSOCKET_OP_TEXT, "Hel", 3);
  n += frame(out + n, MG__WS_FIN | WEBSOCKET_OP_PING, "p!", 2);
  n += frame(out + n, WEBSOCKET_OP_CONTINUE, "lo, ", 4);
  n += frame(out + n, MG__WS_FIN | WEBSOCKET_OP_CONTINUE, "w\xc3\xb6rld", 6);
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  for (size_t step = 0; step <= 1; step++) {
    int fd = ws_open(&s), closed;
    CHECK(fd >= 0);
    peer_send(&s, fd, out, n, step);
    size_t got = read_frames(&s, fd, 4 + 15, &closed);
    CHECK(got == 19);
    CHECK(memcmp(in, "\x8a\x02p!", 4) == 0);
    CHECK(memcmp(in + 4, "\x81\x0dHello, w\xc3\xb6rld", 15) == 0);
    test_close(fd);
  }
  CHECK(wl.controls == 2 && wl.frames == 2 && wl.last_flags == 0x81);
  srv_stop(&s);
}

struct bad_frame {
  unsigned char first;
  const char *payload;
  size_t len;
  int masked;
  int code;
};

/* Each protocol error gets its close code and the close; a fresh connection works. */
TEST(ws_protocol_errors_close_with_code) {
  static unsigned char big[200];
  const struct bad_frame cases[] = {
      {MG__WS_FIN | WEBSOCKET_OP_TEXT, "hi", 2, 0, 1002},                 /* unmasked */
      {MG__WS_FIN | MG__WS_RSV1 | WEBSOCKET_OP_TEXT, "hi", 2, 1, 1002},   /* RSV1, no deflate */
      {MG__WS_FIN | MG__WS_RSV3 | WEBSOCKET_OP_TEXT, "hi", 2, 1, 1002},
      {MG__WS_FIN | 3, "hi", 2, 1, 1002},                                 /* reserved opcode */
      {MG__WS_FIN | 11, "", 0, 1, 1002},
      {WEBSOCKET_OP_PING, "", 0, 1, 1002},                                /* fragmented ping */
      {MG__WS_FIN | WEBSOCKET_OP_PING, (const char *) big, 126, 1, 1002}, /* long ping */
      {MG__WS_FIN | WEBSOCKET_OP_CONTINUE, "x", 1, 1, 1002},              /* no message */
      {MG__WS_FIN | WEBSOCKET_OP_TEXT, "\xc3\x28", 2, 1, 1007},           /* bad UTF-8 */
      {MG__WS_FIN | WEBSOCKET_OP_TEXT, "\xed\xa0\x80", 3, 1, 1007},       /* surrogate */
      {MG__WS_FIN | WEBSOCKET_OP_TEXT, "ab\xe2\x82", 4, 1, 1007},         /* truncated */
      {MG__WS_FIN | WEBSOCKET_OP_CLOSE, "\x03", 1, 1, 1002},              /* 1-byte close */
      {MG__WS_FIN | WEBSOCKET_OP_CLOSE, "\x03\xed", 2, 1, 1002},          /* code 1005 */
      {MG__WS_FIN | WEBSOCKET_OP_CLOSE, "\x03\xe8\xff", 3, 1, 1007},      /* bad reason */
  };
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    unsigned char out[300];
    size_t n;
    if (cases[i].masked) {
      n = frame(out, cases[i].first, cases[i].payload, cases[i].len);
    } else {
      n = mg__ws_build_header(out, cases[i].first, cases[i].len, NULL);
      memcpy(out + n, cases[i].payload, cases[i].len);
      n += cases[i].len;
    }
    int fd = ws_open(&s), closed;
    CHECK(fd >= 0);
    peer_send(&s, fd, out, n, 0);
    size_t got = read_frames(&s, fd, sizeof(in), &closed);
    if (close_code(got) != cases[i].code || !closed) {
      fprintf(stderr, "case %zu: code %d closed %d\n", i, close_code(got), closed);
      CHECK(0);
    }
    test_close(fd);
  }
  int fd = ws_open(&s);
  CHECK(fd >= 0);
  test_close(fd);
  srv_stop(&s);
}

/* Bad UTF-8 in the first fragment fails at once, before the message (or even the frame)
 * ends. */
TEST(ws_bad_utf8_fails_fast) {
  unsigned char out[64];
  size_t n = frame(out, WEBSOCKET_OP_TEXT, "ok\xff more to come", 16);
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  int fd = ws_open(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, out, n - 10, 0); /* the frame is not even complete */
  size_t got = read_frames(&s, fd, sizeof(in), &closed);
  CHECK(close_code(got) == 1007);
  test_close(fd);
  srv_stop(&s);
}

/* Over the message limit: 1009 as soon as the header announces it. */
TEST(ws_message_limit_1009) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  struct mg_http_limits lim = mg_http_default_limits();
  lim.ws_message = 100;
  mg_http_set_limits(s.lc, &lim);
  unsigned char out[MG__WS_MAX_HEADER];
  static const unsigned char key[4] = {1, 2, 3, 4};
  for (size_t size = 99; size <= 101; size++) {
    int fd = ws_open(&s), closed;
    CHECK(fd >= 0);
    size_t n = mg__ws_build_header(out, MG__WS_FIN | WEBSOCKET_OP_BINARY, size, key);
    peer_send(&s, fd, out, n, 0); /* the header alone */
    /* within the limit nothing comes back: a quiet 0.2 s says so */
    size_t got = read_frames_for(&s, fd, 1, &closed, size <= 100 ? 0.2 : 5);
    CHECK(size <= 100 ? got == 0 : close_code(got) == 1009);
    test_close(fd);
  }
  srv_stop(&s);
}

TEST(ws_closing_handshake_echoes_code) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  unsigned char out[64];
  size_t n = frame(out, MG__WS_FIN | WEBSOCKET_OP_CLOSE, "\x03\xe8" "bye", 5);
  int fd = ws_open(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, out, n, 0);
  size_t got = read_frames(&s, fd, sizeof(in), &closed);
  CHECK(close_code(got) == 1000 && closed);
  CHECK(wl.controls == 1);
  test_close(fd);
  srv_stop(&s);
}

/* Frames right behind the upgrade request, in the same packet, are read. */
TEST(ws_frames_in_the_upgrade_packet) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  unsigned char out[512];
  memcpy(out, UPGRADE, sizeof(UPGRADE) - 1);
  size_t n = sizeof(UPGRADE) - 1;
  n += frame(out + n, MG__WS_FIN | WEBSOCKET_OP_TEXT, "early", 5);
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, out, n, 0);
  size_t got = read_frames(&s, fd, 1, &closed);
  for (int i = 0; i < 50 && strstr(in, "\x81\x05" "early") == NULL; i++)
    got += read_frames(&s, fd, 1, &closed);
  CHECK(got > 0 && wl.frames == 1);
  test_close(fd);
  srv_stop(&s);
}

struct bad_upgrade {
  const char *req;
  const char *status;
};

TEST(ws_bad_upgrades_refused) {
  const struct bad_upgrade cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
       "426 Upgrade Required"},
      {"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "400 Bad Request"},
      {"POST / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
       "400 Bad Request"},
      {"GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
       "Sec-WebSocket-Version: 13\r\n\r\n",
       "400 Bad Request"}, /* a key without the upgrade fields */
  };
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    int fd = peer_connect(&s), closed;
    CHECK(fd >= 0);
    peer_send(&s, fd, cases[i].req, strlen(cases[i].req), 0);
    peer_collect(&s, fd, in, sizeof(in), 0, &closed);
    CHECK(strstr(in, cases[i].status) != NULL && closed);
    if (i == 0) CHECK(strstr(in, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
    test_close(fd);
  }
  CHECK(wl.requests == 0);
  srv_stop(&s);
}

/* ---- mgio's client against its server ------------------------------------------------ */

struct ws_client {
  int done_status, replies, closed, http_chunks;
  char echo[4096];
  size_t echo_len;
  int deflated;
};

static void ws_client_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct ws_client *wc = (struct ws_client *) c->user_data;
  if (ev == MG_EV_HTTP_CHUNK) wc->http_chunks++; /* the 101 is no HTTP reply */
  if (ev == MG_EV_WEBSOCKET_HANDSHAKE_DONE) {
    struct http_message *hm = (struct http_message *) ev_data;
    wc->done_status = hm->resp_code;
    wc->deflated = mg_get_http_header(hm, "Sec-WebSocket-Extensions") != NULL;
    char text[3000];
    memset(text, 'z', sizeof(text));
    mg_send_websocket_frame(c, WEBSOCKET_OP_TEXT, text, sizeof(text));
  } else if (ev == MG_EV_WEBSOCKET_FRAME) {
    struct websocket_message *wm = (struct websocket_message *) ev_data;
    wc->replies++;
    wc->echo_len = wm->size < sizeof(wc->echo) ? wm->size : sizeof(wc->echo);
    memcpy(wc->echo, wm->data, wc->echo_len);
    mg_websocket_close(c, 1000, "done");
  } else if (ev == MG_EV_CLOSE) {
    wc->closed = 1;
  }
}

static void client_round_trip(int deflate) {
  TEST_SRV(s);
  struct ws_client wc;
  if (start(&s) != 0) return;
  memset(&wc, 0, sizeof(wc));
  struct mg_http_limits lim = mg_http_default_limits();
  lim.ws_deflate = deflate;
  mg_http_set_limits(s.lc, &lim);
  char url[96];
  snprintf(url, sizeof(url), "ws://%s/echo?x=1", s.addr);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = &wc;
  struct mg_connection *c = mg_connect_ws_opt(&s.mgr, ws_client_handler, opts, url, "p1", NULL);
  double since = mg_time();
  while (c != NULL && !wc.closed && !test_timed_out(since, 5)) mg_mgr_poll(&s.mgr, 1);
  int ok = c != NULL && wc.done_status == 101 && wc.replies == 1 && wc.echo_len == 3000 &&
           wc.echo[0] == 'z' && wc.echo[2999] == 'z' && wc.closed && wc.deflated == deflate &&
           wc.http_chunks == 0;
  if (!ok) {
    fprintf(stderr, "deflate %d: status %d replies %d len %zu closed %d deflated %d\n", deflate,
            wc.done_status, wc.replies, wc.echo_len, wc.closed, wc.deflated);
    mgio_test_fail(__FILE__, __LINE__, "client round trip");
  }
  srv_stop(&s);
}

TEST(ws_client_against_own_server) { client_round_trip(0); }
TEST(ws_client_against_own_server_deflate) { client_round_trip(1); }

TEST(ws_client_url_errors) {
  TEST_MGR(mgr, NULL);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  const char *err = NULL;
  opts.error_string = &err;
  CHECK(mg_connect_ws_opt(&mgr, ws_client_handler, opts, "wss://h/", NULL, NULL) == NULL);
  CHECK(err != NULL && strcmp(err, "ssl is disabled") == 0);
  CHECK(mg_connect_ws_opt(&mgr, ws_client_handler, opts, "ftp://h/", NULL, NULL) == NULL);
  CHECK(mg_connect_ws_opt(&mgr, ws_client_handler, opts, "ws://h/", NULL, "X\r\nY") == NULL);
  test_mgr_free(&mgr);
}

/* The idle Ping's time reaches mg_mgr_next_timer, so a loop that sleeps until then
 * (an event loop driving the manager) wakes for it. */
TEST(ws_idle_ping_is_a_timer) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  struct mg_http_limits lim = mg_http_default_limits();
  lim.ws_ping_ms = 300;
  mg_http_set_limits(s.lc, &lim);
  int fd = ws_open(&s), closed;
  CHECK(fd >= 0);
  double next = mg_mgr_next_timer(&s.mgr), now = mg_time();
  CHECK(next > now && next <= now + 0.31);
  double t0 = mg_time();
  size_t got = 0;
  while (got == 0 && !test_timed_out(t0, 2)) {
    mg_mgr_poll(&s.mgr, 1000); /* would sleep 1 s without the deadline */
    ssize_t r = recv(fd, in, sizeof(in), MSG_DONTWAIT);
    got = r > 0 ? 1 : 0;
  }
  (void) closed;
  CHECK(got == 1 && (unsigned char) in[0] == 0x89 && mg_time() - t0 < 0.9);
  test_close(fd);
  srv_stop(&s);
}

/* After the idle Ping, the Pong wait is the connection's next deadline; with no input
 * in it, Close 1011 and the close (err ETIMEDOUT). */
TEST(ws_unanswered_ping_closes_1011) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  struct mg_http_limits lim = mg_http_default_limits();
  lim.ws_ping_ms = test_ms(100);
  lim.ws_pong_ms = test_ms(200);
  mg_http_set_limits(s.lc, &lim);
  double wait = lim.ws_pong_ms / 1000.0;
  int fd = ws_open(&s), closed;
  CHECK(fd >= 0);
  size_t got = read_frames(&s, fd, 2, &closed);
  CHECK(got == 2 && (unsigned char) in[0] == 0x89 && in[1] == 0);
  double t0 = mg_time(), next = mg_mgr_next_timer(&s.mgr);
  CHECK(next > t0 && next <= t0 + wait + 0.01);
  got = read_frames(&s, fd, sizeof(in), &closed);
  double took = mg_time() - t0;
  CHECK(closed && close_code(got) == 1011 && took >= wait - 0.02);
  test_close(fd);
  for (int i = 0; i < 100 && wl.closes < 1; i++) mg_mgr_poll(&s.mgr, 10);
  CHECK(wl.closes == 1 && wl.close_err == ETIMEDOUT);
  srv_stop(&s);
}

static const char *choice; /* what the handler below selects */

static void choosing_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_WEBSOCKET_HANDSHAKE_REQUEST) mg_websocket_select_protocol(c, choice);
  ws_echo(c, ev, ev_data);
}

/* The handler picks the subprotocol; one the client did not offer names none. */
TEST(ws_handler_selects_protocol) {
  const char *choices[] = {"superchat", "nope", NULL, "chat"};
  const char *want[] = {"Sec-WebSocket-Protocol: superchat\r\n", NULL, NULL,
                        "Sec-WebSocket-Protocol: chat\r\n"};
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  s.lc->handler = choosing_handler;
  for (int i = 0; i < 4; i++) {
    choice = choices[i];
    int fd = ws_open(&s);
    CHECK(fd >= 0);
    if (want[i] != NULL) {
      CHECK(strstr(in, want[i]) != NULL);
    } else {
      CHECK(strstr(in, "Sec-WebSocket-Protocol") == NULL);
    }
    test_close(fd);
  }
  srv_stop(&s);
}

/* Starts the closing handshake when a message arrives. */
static void closing_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_WEBSOCKET_FRAME) {
    mg_send_websocket_frame(c, WEBSOCKET_OP_CLOSE, "\x03\xe8", 2);
    return;
  }
  ws_echo(c, ev, ev_data);
}

/* After our Close, a peer that never answers is closed after ws_close_ms; one that
 * answers in time gets the ordinary close. */
TEST(ws_close_timeout_closes_a_silent_peer) {
  TEST_SRV(s);
  CHECK(start(&s) == 0);
  s.lc->handler = closing_handler;
  struct mg_http_limits lim = mg_http_default_limits();
  lim.ws_close_ms = 150;
  mg_http_set_limits(s.lc, &lim);
  unsigned char out[64];
  size_t n = frame(out, MG__WS_FIN | WEBSOCKET_OP_TEXT, "bye", 3);
  for (int answer = 0; answer < 2; answer++) {
    int fd = ws_open(&s), closed;
    CHECK(fd >= 0);
    peer_send(&s, fd, out, n, 0);
    double t0 = mg_time();
    size_t got = read_frames(&s, fd, 4, &closed);
    CHECK(close_code(got) == 1000);
    if (answer) {
      unsigned char reply[16];
      size_t m = frame(reply, MG__WS_FIN | WEBSOCKET_OP_CLOSE, "\x03\xe8", 2);
      peer_send(&s, fd, reply, m, 0);
    }
    read_frames(&s, fd, sizeof(in), &closed);
    double took = mg_time() - t0;
    test_close(fd);
    for (int i = 0; i < 100 && wl.closes < answer + 1; i++) mg_mgr_poll(&s.mgr, 10);
    CHECK(closed && wl.closes == answer + 1);
    if (answer) CHECK(took < 0.13); /* the peer's Close ended the wait */
    if (!answer) CHECK(took >= 0.12 && took < 3);
  }
  srv_stop(&s);
}
