/*
 * Streaming multipart on HTTP connections (see "Streaming multipart" in mgio.h and the
 * contract in http_internal.h): MG_EV_HTTP_MULTIPART_REQUEST, PART_BEGIN, PART_DATA,
 * PART_END and MULTIPART_REQUEST_END from the parser in proto/multipart.c, and
 * mg_file_upload_handler, which stores the parts in files.
 *
 * The parser is pull-style and keeps no bytes of its own: what it does not consume (a
 * possible delimiter, an incomplete part header section, data the handler left) stays
 * in recv_mbuf, and http_conn.c hands it in again with the bytes that follow.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../proto/params.h"
#include "../base/ascii.h"
#include "../net/internal.h"
#include "../proto/multipart.h"
#include "http_internal.h"

struct mg__mp_conn {
  struct mg__mp parser;
  struct mg_http_multipart_part part; /* handed to every event; user_data persists */
  char *var_name, *file_name;         /* the open part's names (heap), or NULL */
  unsigned char part_open;            /* PART_BEGIN delivered, PART_END not yet */
  unsigned char ended;                /* MULTIPART_REQUEST_END delivered */
  unsigned char stopped;              /* the handler closed: no new part or data */
  unsigned char paused;               /* the handler left data of the last offer */
};

void mg__mp_free(struct mg__http *h) {
  struct mg__mp_conn *mp = h->mp;
  if (mp == NULL) return;
  free(mp->var_name);
  free(mp->file_name);
  free(mp);
  h->mp = NULL;
}

#if MG_ENABLE_HTTP_STREAMING_MULTIPART

/* Whether the handler (not the peer's EOF, which the net layer also turns into
 * MG_F_SEND_AND_CLOSE) has asked for the connection to end. */
static int handler_closing(const struct mg_connection *c) {
  if (c->flags & MG_F_CLOSE_IMMEDIATELY) return 1;
  return (c->flags & MG_F_SEND_AND_CLOSE) && !(c->internal_flags & MG__C_EOF);
}

/* Gives `ev` to the request's handler; notes when the handler closes during it. */
static void deliver(struct mg_connection *c, struct mg__http *h, int ev, void *ev_data) {
  const unsigned long closing = MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY;
  unsigned long before = c->flags & closing;
  mg__call(c, mg__http_handler_for(c, h), ev, ev_data);
  if (h->mp != NULL && ((c->flags & closing) & ~before) != 0) h->mp->stopped = 1;
}

/* Delivers a part event with no data. */
static void deliver_part(struct mg_connection *c, struct mg__http *h, int ev, int status) {
  struct mg__mp_conn *mp = h->mp;
  mp->part.data = mg_mk_str_n("", 0);
  mp->part.num_data_consumed = 0;
  mp->part.status = status;
  deliver(c, h, ev, &mp->part);
}

static void end_part(struct mg_connection *c, struct mg__http *h, int status) {
  struct mg__mp_conn *mp = h->mp;
  mp->part_open = 0;
  deliver_part(c, h, MG_EV_HTTP_PART_END, status);
  mp->part.var_name = mp->part.file_name = "";
  free(mp->var_name);
  free(mp->file_name);
  mp->var_name = mp->file_name = NULL;
}

/* PART_END for an open part, then MULTIPART_REQUEST_END, both with `status`. */
static void end_request(struct mg_connection *c, struct mg__http *h, int status) {
  struct mg__mp_conn *mp = h->mp;
  if (mp->part_open) end_part(c, h, status);
  mp->ended = 1;
  mp->part.var_name = mp->part.file_name = "";
  deliver_part(c, h, MG_EV_HTTP_MULTIPART_REQUEST_END, status);
}

/* Refuses the request with `status` (the body is malformed or over a limit), then
 * ends the stream with status -1. */
static void fail(struct mg_connection *c, struct mg__http *h, int status) {
  mg__http_reject(c, h, status, NULL);
  end_request(c, h, -1);
}

/* A heap copy of a decoded name (NULL view: ""), or NULL when memory runs out. */
static char *copy_name(struct mg_str raw) {
  size_t n = raw.p != NULL ? mg__mp_unquote(raw, NULL) : 0;
  char *s = (char *) malloc(n + 1);
  if (s == NULL) return NULL;
  if (n > 0) mg__mp_unquote(raw, s);
  s[n] = '\0';
  return s;
}

/* PART_BEGIN for the part the parser reported; 0, or -1 when it failed (answered). */
static int begin_part(struct mg_connection *c, struct mg__http *h,
                      const struct mg__mp_event *ev) {
  struct mg__mp_conn *mp = h->mp;
  mp->var_name = copy_name(ev->name);
  mp->file_name = copy_name(ev->filename);
  if (mp->var_name == NULL || mp->file_name == NULL) {
    free(mp->var_name);
    free(mp->file_name);
    mp->var_name = mp->file_name = NULL;
    fail(c, h, 500);
    return -1;
  }
  mp->part.var_name = mp->var_name;
  mp->part.file_name = mp->file_name;
  mp->part_open = 1;
  deliver_part(c, h, MG_EV_HTTP_PART_BEGIN, 0);
  return 0;
}

/* Whether the field value `v` is a multipart media type ("multipart/..."). */
static int is_multipart(struct mg_str v) {
  static const char type[] = "multipart/";
  size_t n = sizeof(type) - 1;
  if (v.len < n) return 0;
  for (size_t i = 0; i < n; i++) {
    if (mg__ascii_lower((unsigned char) v.p[i]) != type[i]) return 0;
  }
  return 1;
}

int mg__mp_begin(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  struct mg_str *ct = NULL;
  size_t fields = 0;
  int multipart = 0;
  if ((h->flags & MG__H_CLIENT) || (c->flags & MG_F_NO_MULTIPART_STREAMING)) return 0;
  for (size_t i = 0; i < hm->num_headers; i++) {
    if (mg_vcasecmp(&hm->header_names[i], "content-type") != 0) continue;
    if (fields++ == 0) ct = &hm->header_values[i];
    if (is_multipart(hm->header_values[i])) multipart = 1;
  }
  if (!multipart) return 0; /* with two Content-Type fields, one multipart: refused */
  char small[MG__MP_MAX_BOUNDARY + 2], *b = small;
  int len = fields == 1 ? mg__http_header_param(ct, "boundary", &b, sizeof(small)) : 0;
  struct mg__mp_conn *mp = len > 0 ? (struct mg__mp_conn *) calloc(1, sizeof(*mp)) : NULL;
  struct mg__mp_limits lim = {0, h->limits.mp_header, h->limits.mp_parts}; /* 0: default */
  int ok = mp != NULL && mg__mp_init(&mp->parser, mg_mk_str_n(b, (size_t) len), &lim) == 0;
  if (b != small) free(b);
  if (!ok) {
    int status = len > 0 && mp == NULL ? 500 : 400;
    free(mp);
    h->ep_handler = NULL; /* refused before any event: the endpoint never hears of it */
    mg__http_reject(c, h, status, NULL);
    return -1;
  }
  mg__mp_free(h); /* none is left from an earlier request; this is only a guard */
  h->mp = mp;
  mp->part.var_name = mp->part.file_name = "";
  mp->part.data = mg_mk_str_n("", 0);
  deliver(c, h, MG_EV_HTTP_MULTIPART_REQUEST, hm);
  return 1;
}

/* The status answering a parser error. */
static int error_status(int err) {
  return err == MG__MP_EHEADERSIZE || err == MG__MP_ETOOMANYPARTS ? 413 : 400;
}

size_t mg__mp_feed(struct mg_connection *c, struct mg__http *h, const char *data, size_t n,
                   int final) {
  struct mg__mp_conn *mp = h->mp;
  size_t off = 0;
  if (mp == NULL || mp->ended) return n;
  if (handler_closing(c) || h->phase == MG__HTTP_DRAIN) mp->stopped = 1;
  mp->paused = 0;
  while (!mp->ended) {
    struct mg__mp_event ev;
    const char *at = off < n ? data + off : NULL;
    size_t used = mg__mp_parse(&mp->parser, at, n - off, final, &ev), took;
    switch (ev.type) {
      case MG__MP_PART_BEGIN:
        if (mp->stopped) return off;
        if (begin_part(c, h, &ev) != 0) return 0; /* answered; recv_mbuf was emptied */
        off += used;
        break;
      case MG__MP_PART_DATA:
        if (mp->stopped) return off;
        mp->part.data = ev.data;
        mp->part.num_data_consumed = ev.data.len;
        mp->part.status = 0;
        deliver(c, h, MG_EV_HTTP_PART_DATA, &mp->part);
        took = mp->part.num_data_consumed < ev.data.len ? mp->part.num_data_consumed
                                                         : ev.data.len;
        mp->part.data = mg_mk_str_n("", 0);
        /* The parser stays inside the part's data, so the rest can be handed in again:
         * with more bytes later, or at once when the body is complete (an offer the
         * handler takes nothing of is then dropped, or this would never end). */
        if (took == 0 && final) took = ev.data.len;
        off += used - (ev.data.len - took);
        if (took < ev.data.len && !final) {
          mp->paused = 1; /* offered again with more bytes, or on the next MG_EV_POLL */
          return off;
        }
        break;
      case MG__MP_PART_END:
        off += used;
        end_part(c, h, 0);
        break;
      case MG__MP_DONE:
        off += used;
        if (final) end_request(c, h, 0);
        return off;
      case MG__MP_ERROR:
        fail(c, h, error_status(ev.err));
        return 0; /* recv_mbuf was emptied by the refusal */
      default: /* MG__MP_NEED_MORE (never when final) */
        return off + used;
    }
  }
  return off;
}

void mg__mp_abort(struct mg_connection *c, struct mg__http *h) {
  if (h->mp != NULL && !h->mp->ended) end_request(c, h, -1);
}

int mg__mp_paused(const struct mg__http *h) {
  return h->mp != NULL && h->mp->paused && !h->mp->ended;
}

#else /* !MG_ENABLE_HTTP_STREAMING_MULTIPART: multipart requests are ordinary ones */

int mg__mp_begin(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  (void) c;
  (void) h;
  (void) hm;
  return 0;
}

size_t mg__mp_feed(struct mg_connection *c, struct mg__http *h, const char *data, size_t n,
                   int final) {
  (void) c;
  (void) h;
  (void) data;
  (void) final;
  return n;
}

void mg__mp_abort(struct mg_connection *c, struct mg__http *h) {
  (void) c;
  (void) h;
}

int mg__mp_paused(const struct mg__http *h) {
  (void) h;
  return 0;
}

#endif

/* ---- mg_file_upload_handler ---------------------------------------------------------- */

/* mg_file_upload_handler's state, in mp->user_data from the first PART_BEGIN to
 * MULTIPART_REQUEST_END. */
struct mg__upload {
  int fd;     /* the open file, or -1 */
  int failed; /* an error was answered: store nothing more */
  char *path; /* the open file's name (heap) */
};

/* The safe base name of `name` in a heap string, or NULL (refused, or out of memory):
 * none when it holds a NUL; the bytes after the last '/' or '\', leading dots dropped. */
static char *safe_base_name(struct mg_str name) {
  size_t start = 0;
  if (name.p == NULL || memchr(name.p, '\0', name.len) != NULL) return NULL;
  for (size_t i = 0; i < name.len; i++) {
    if (name.p[i] == '/' || name.p[i] == '\\') start = i + 1;
  }
  while (start < name.len && name.p[start] == '.') start++;
  if (start == name.len) return NULL;
  char *s = (char *) malloc(name.len - start + 1);
  if (s == NULL) return NULL;
  memcpy(s, name.p + start, name.len - start);
  s[name.len - start] = '\0';
  return s;
}

/* The local name for the part being begun, from the callback (see mg_fu_fname_fn). */
static char *local_name(struct mg_connection *nc, struct mg_http_multipart_part *mp,
                        mg_fu_fname_fn fn) {
  struct mg_str given = mg_mk_str(mp->file_name);
  struct mg_str chosen = fn != NULL ? fn(nc, given) : given;
  char *name = safe_base_name(chosen);
  uintptr_t at = (uintptr_t) chosen.p, from = (uintptr_t) given.p;
  int inside = at >= from && at <= from + given.len;
  if (chosen.p != NULL && !inside) free((void *) chosen.p);
  return name;
}

/* Closes the upload's file; removes it when `discard`. Returns 0, or the errno of a
 * failed close (a delayed write error). */
static int close_file(struct mg__upload *u, int discard) {
  int err = 0;
  if (u->fd >= 0 && close(u->fd) != 0) err = errno;
  if (u->path != NULL && (discard || err != 0)) unlink(u->path);
  u->fd = -1;
  free(u->path);
  u->path = NULL;
  return err;
}

/* Answers an error once and stores nothing more. */
static void upload_error(struct mg_connection *nc, struct mg__upload *u, int status) {
  close_file(u, 1);
  u->failed = 1;
  mg_http_send_error(nc, status, NULL);
}

static int write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      if (w == 0) errno = EIO;
      return -1;
    }
    p += w;
    n -= (size_t) w;
  }
  return 0;
}

static int write_status(int err) {
  return err == ENOSPC || err == EFBIG ? 413 : 500;
}

void mg_file_upload_handler(struct mg_connection *nc, int ev, void *ev_data,
                            mg_fu_fname_fn local_name_fn) {
  struct mg_http_multipart_part *mp = (struct mg_http_multipart_part *) ev_data;
  if (nc == NULL || mp == NULL || ev < MG_EV_HTTP_PART_BEGIN ||
      ev > MG_EV_HTTP_MULTIPART_REQUEST_END) {
    return;
  }
  struct mg__upload *u = (struct mg__upload *) mp->user_data;
  switch (ev) {
    case MG_EV_HTTP_PART_BEGIN: {
      if (u == NULL) {
        u = (struct mg__upload *) calloc(1, sizeof(*u));
        if (u == NULL) {
          mg_http_send_error(nc, 500, NULL);
          return;
        }
        u->fd = -1;
        mp->user_data = u;
      }
      if (u->failed) return;
      close_file(u, 1); /* a part left open (cannot happen: PART_END closes it) */
      char *name = local_name(nc, mp, local_name_fn);
      if (name == NULL) {
        upload_error(nc, u, 403);
        return;
      }
      u->fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
      if (u->fd < 0) {
        free(name);
        upload_error(nc, u, 500);
        return;
      }
      u->path = name;
      break;
    }
    case MG_EV_HTTP_PART_DATA:
      mp->num_data_consumed = mp->data.len;
      if (u == NULL || u->failed || u->fd < 0) return;
      if (write_all(u->fd, mp->data.p, mp->data.len) != 0)
        upload_error(nc, u, write_status(errno));
      break;
    case MG_EV_HTTP_PART_END:
      if (u == NULL || u->fd < 0) return;
      if (mp->status < 0) {
        close_file(u, 1);
      } else {
        int err = close_file(u, 0);
        if (err != 0 && !u->failed) upload_error(nc, u, write_status(err));
      }
      break;
    default: /* MG_EV_HTTP_MULTIPART_REQUEST_END */
      if (u != NULL) close_file(u, 1);
      if (mp->status == 0 && (u == NULL || !u->failed)) {
        mg_send_head(nc, 200, 5, "Content-Type: text/plain\r\nConnection: close");
        mg_send(nc, "Ok.\r\n", 5);
        nc->flags |= MG_F_SEND_AND_CLOSE;
      }
      free(u);
      mp->user_data = NULL;
      break;
  }
}
