/*
 * Folder listings for mg_serve_http: an HTML table of the folder's entries (folders
 * first, then files, each group sorted by name), with names HTML-escaped in the text
 * and percent-encoded in the links, so no file name can inject markup or a scheme.
 * Hidden names and symlinks leading out of the root are left out.
 * The page is built whole (it must be sorted), then sent as HTTP/1.1 chunks.
 */
#define _XOPEN_SOURCE 700 /* fstatat, dirfd, realpath */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http_internal.h"
#include "static_internal.h"

struct entry {
  char *name; /* heap, NUL-terminated */
  int is_dir;
  int has_stat; /* 0 when stat failed (a dangling symlink): no size or date shown */
  uint64_t size;
  int64_t mtime;
};

struct entries {
  struct entry *v;
  size_t n, cap;
};

static void entries_free(struct entries *es) {
  for (size_t i = 0; i < es->n; i++) free(es->v[i].name);
  free(es->v);
}

/* Appends a copy of `e` with its name duplicated; 0 on overflow or allocation failure. */
static int entries_add(struct entries *es, const char *name, const struct entry *e) {
  if (es->n == es->cap) {
    size_t cap = es->cap == 0 ? 32 : es->cap;
    if (cap > SIZE_MAX / 2 / sizeof(struct entry)) return 0;
    struct entry *v = realloc(es->v, cap * 2 * sizeof(struct entry));
    if (v == NULL) return 0;
    es->v = v;
    es->cap = cap * 2;
  }
  size_t len = strlen(name);
  char *copy = malloc(len + 1);
  if (copy == NULL) return 0;
  memcpy(copy, name, len + 1);
  es->v[es->n] = *e;
  es->v[es->n].name = copy;
  es->n++;
  return 1;
}

/* Folders first, then byte order of the names: stable whatever readdir's order. */
static int compare_entries(const void *a, const void *b) {
  const struct entry *x = a, *y = b;
  if (x->is_dir != y->is_dir) return x->is_dir ? -1 : 1;
  return strcmp(x->name, y->name);
}

/* 1 when the symlink `name` in `dir` resolves inside `real_root`: one that leads out
 * of the root is answered 404, so it is not listed either (nor is anything about its
 * target shown). A dangling one is listed, without size or date. */
static int link_stays_inside(const char *dir, const char *name, const char *real_root) {
  size_t nd = strlen(dir), nn = strlen(name);
  if (nn > SIZE_MAX - nd - 2) return 0;
  char *path = malloc(nd + nn + 2);
  if (path == NULL) return 0;
  memcpy(path, dir, nd);
  path[nd] = '/';
  memcpy(path + nd + 1, name, nn + 1);
  char *real = realpath(path, NULL);
  int err = errno;
  free(path);
  if (real == NULL) return err == ENOENT;
  int inside = mg__static_path_within(real_root, real);
  free(real);
  return inside;
}

/* The entry `name` of the open folder `d` (at `dir`) in *e; 0 when it is not listed. */
static int describe(DIR *d, const char *dir, const char *name, const char *real_root,
                    struct entry *e) {
  struct stat st;
  if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode) &&
      !link_stays_inside(dir, name, real_root)) {
    return 0;
  }
  if (fstatat(dirfd(d), name, &st, 0) == 0) {
    e->has_stat = 1;
    e->is_dir = S_ISDIR(st.st_mode);
    e->size = (uint64_t) st.st_size;
    e->mtime = (int64_t) st.st_mtime;
  }
  return 1;
}

/* Reads the visible entries of `dir` into `es`. Returns 0, or an errno value. */
static int read_entries(const char *dir, const char *real_root, const char *hidden,
                        const char *auth_file, struct entries *es) {
  DIR *d = opendir(dir);
  if (d == NULL) return errno;
  int err = 0;
  struct dirent *de;
  for (errno = 0; (de = readdir(d)) != NULL; errno = 0) {
    const char *name = de->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (mg__static_name_hidden(mg_mk_str(name), hidden, auth_file)) continue;
    struct entry e = {NULL, 0, 0, 0, 0};
    if (!describe(d, dir, name, real_root, &e)) continue;
    if (!entries_add(es, name, &e)) {
      err = ENOMEM;
      break;
    }
  }
  if (err == 0 && errno != 0) err = errno;
  closedir(d);
  return err;
}

/* ---- the page ---------------------------------------------------------------------------- */

/* One table row. The link is relative to the folder's URI (which ends with '/'):
 * percent-encoding turns ':' and '?' into escapes, so a name is never read as a
 * scheme or a query. */
static void add_row(struct mg__out *pg, const struct entry *e) {
  struct mg_str enc = mg_url_encode(mg_mk_str(e->name));
  if (enc.p == NULL) {
    pg->failed = 1;
    return;
  }
  mg__out_str(pg, "<tr><td><a href=\"");
  mg__out_html_escaped(pg, enc.p, enc.len);
  mg_strfree(&enc);
  mg__out_str(pg, e->is_dir ? "/\">" : "\">");
  mg__out_html_escaped(pg, e->name, strlen(e->name));
  mg__out_str(pg, e->is_dir ? "/</a></td><td>" : "</a></td><td>");
  if (e->has_stat) {
    char date[MG__HTTP_DATE_LEN + 1];
    mg__http_format_date(date, e->mtime);
    mg__out_add(pg, date, MG__HTTP_DATE_LEN);
  }
  mg__out_str(pg, "</td><td>");
  if (e->has_stat && !e->is_dir) {
    mg__out_u64(pg, e->size);
  } else {
    mg__out_str(pg, "-");
  }
  mg__out_str(pg, "</td></tr>\n");
}

static void build_page(struct mg__out *pg, struct mg_str rel, const struct entries *es) {
  mg__out_str(pg, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ");
  mg__out_html_escaped(pg, rel.p, rel.len);
  mg__out_str(pg, "</title></head>\n<body><h1>Index of ");
  mg__out_html_escaped(pg, rel.p, rel.len);
  mg__out_str(pg, "</h1>\n<table>\n<tr><th>Name</th><th>Modified</th><th>Size</th></tr>\n");
  if (rel.len > 1) mg__out_str(pg, "<tr><td><a href=\"../\">../</a></td><td></td><td>-</td></tr>\n");
  for (size_t i = 0; i < es->n; i++) add_row(pg, &es->v[i]);
  mg__out_str(pg, "</table>\n</body></html>\n");
}

/* ---- sending ----------------------------------------------------------------------------- */

/* Bytes per chunk: large enough that the framing costs nothing. */
#define LISTING_CHUNK 16384

/* Queues `n` bytes of `body` as chunks and the last chunk. */
static void send_chunks(struct mg_connection *nc, const char *body, size_t n) {
  for (size_t off = 0; off < n; off += LISTING_CHUNK)
    mg_send_http_chunk(nc, body + off, n - off < LISTING_CHUNK ? n - off : LISTING_CHUNK);
  mg_send_http_chunk(nc, "", 0);
}

static void send_page(const struct mg__static_req *r, const struct mg__out *pg) {
  struct mg__out h;
  /* HTTP/1.0 has no chunked coding (RFC 9112 6.1): it gets a Content-Length. */
  int chunked = r->hm->http_minor >= 1;
  mg__static_head_begin(&h, r, 200);
  mg__out_str(&h, "Content-Type: text/html; charset=utf-8\r\n");
  mg__static_head_connection(&h, r);
  if (chunked) {
    mg__out_str(&h, "Transfer-Encoding: chunked\r\n");
  } else {
    mg__out_str(&h, "Content-Length: ");
    mg__out_u64(&h, pg->len);
    mg__out_add(&h, "\r\n", 2);
  }
  if (chunked || r->head_only) {
    mg__static_head_send(&h, r, NULL, 0);
    if (!r->head_only) send_chunks(r->nc, pg->p, pg->len);
  } else {
    mg__static_head_send(&h, r, pg->p, pg->len);
  }
  mg__http_answered(r->nc);
}

void mg__static_send_listing(const struct mg__static_req *r, const char *real_root,
                             const char *dir, struct mg_str rel, const char *hidden_pattern,
                             const char *auth_file) {
  struct entries es = {NULL, 0, 0};
  struct mg__out pg;
  int err = read_entries(dir, real_root, hidden_pattern, auth_file, &es);
  if (err != 0) {
    entries_free(&es);
    mg__static_send_status(r, mg__static_errno_status(err), NULL, NULL);
    return;
  }
  if (es.n > 1) qsort(es.v, es.n, sizeof(struct entry), compare_entries);
  mg__out_init(&pg);
  build_page(&pg, rel, &es);
  entries_free(&es);
  if (pg.failed) {
    mg__static_send_status(r, 500, NULL, NULL);
  } else {
    send_page(r, &pg);
  }
  mg__out_free(&pg);
}
