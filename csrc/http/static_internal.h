/*
 * Static file serving, shared between static.c, static_listing.c and the C tests:
 * first the pure parts (no sockets, no files) - MIME types, HTTP dates, entity tags,
 * Range parsing, the mapping of a request target to a safe path - then the response
 * head builder the serving files share. Not public: names carry the mg__ prefix.
 */
#ifndef MGIO_HTTP_STATIC_INTERNAL_H
#define MGIO_HTTP_STATIC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "http_internal.h"

/* ---- MIME types (static_mime.c) ------------------------------------------------------ */

/* The media type for a file named `path` (only its end matters). First the entries of
 * `custom` ("ext=type,..." as in mg_serve_http_opts.custom_mime_types; {NULL, 0} for
 * none) in order: an entry matches when `path` ends with its ext, ASCII
 * case-insensitively, and that suffix starts with '.', or follows a '.' or '/', or is
 * the whole of `path` (so "txt" matches "a.txt" but not "atxt"; ".tar.gz" and
 * "Makefile" work too). Entries with an empty ext or type, or a type holding a control
 * byte, are skipped. Then the built-in table, by the extension after the last '.' of
 * the last path segment. Unknown: "text/plain". The result is a view into `custom` or
 * static storage. */
struct mg_str mg__static_mime_type(struct mg_str path, struct mg_str custom);

/* ---- HTTP dates (static_rules.c) ----------------------------------------------------- */

/* Length of an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7). */
#define MG__HTTP_DATE_LEN 29

/* Writes the IMF-fixdate of Unix time `t` and a NUL to `buf`. Times before 1970 or
 * after 9999-12-31T23:59:59 are clamped to those bounds. */
void mg__http_format_date(char buf[MG__HTTP_DATE_LEN + 1], int64_t t);

/* Parses an HTTP-date in any of the three forms a recipient must accept (RFC 9110
 * 5.6.7): IMF-fixdate, RFC 850 ("Sunday, 06-Nov-94 08:49:37 GMT"; a two-digit year
 * below 70 is 20yy, else 19yy) and asctime ("Sun Nov  6 08:49:37 1994"). The whole of
 * `s` must be the date (no surrounding spaces). Returns 0 and sets *t, or -1 when `s`
 * is not a valid date (bad field, day beyond its month, year before 1970). The weekday
 * name must be a real one but is not checked against the date. */
int mg__http_parse_date(struct mg_str s, int64_t *t);

/* ---- entity tags and conditions (static_rules.c) ------------------------------------- */

/* Room for the longest ETag with its NUL: quotes, 16 hex digits, '.', 20 digits. */
#define MG__ETAG_SIZE 48

/* Writes the entity tag "\"<mtime as lower-case hex>.<size in decimal>\"" (quotes
 * included) and a NUL to `buf`; returns its length. A negative mtime is written as its
 * 64-bit two's complement. */
size_t mg__static_etag(char buf[MG__ETAG_SIZE], int64_t mtime, uint64_t size);

/* 1 when the If-None-Match value `list` matches `etag` (as made by mg__static_etag):
 * "*", or one of its comma-separated entity tags equal to `etag` under the weak
 * comparison of RFC 9110 8.8.3.2 (a "W/" prefix is ignored). Entries that are not
 * quoted strings are skipped. Else 0. */
int mg__static_etag_matches(struct mg_str list, struct mg_str etag);

/* ---- Range (static_rules.c) ---------------------------------------------------------- */

#define MG__RANGE_NONE 0 /* serve the whole file (200) */
#define MG__RANGE_ONE 1  /* serve *start, *len bytes (206) */
#define MG__RANGE_BAD 2  /* unsatisfiable or malformed (416) */

/* Interprets a Range field value (RFC 9110 14.1.2) for a representation of `size`
 * bytes. "bytes=a-b", "bytes=a-" and "bytes=-n" (unit case-insensitive, optional
 * whitespace around the range) give MG__RANGE_ONE with the range clamped to the file:
 * b past the end means the end, n larger than the file means all of it. A range
 * starting at or past the end, "bytes=-0", b < a, or anything malformed (no digits,
 * signs, other bytes, an empty set) is MG__RANGE_BAD. Several ranges (a comma), an
 * empty or unknown unit, and a suffix range of an empty file are MG__RANGE_NONE: the
 * server may always ignore Range. Numbers saturate instead of overflowing, which keeps
 * their meaning (a huge start is past the end, a huge end is the end). */
int mg__static_parse_range(struct mg_str value, uint64_t size, uint64_t *start,
                           uint64_t *len);

/* ---- request target to path (static_rules.c) ----------------------------------------- */

/* Turns the request target `uri` (origin-form "/a%20b/c", or absolute-form
 * "http://host/a" whose path is used) into a decoded, normalised path starting with
 * '/', in a new heap string (NUL-terminated; the caller frees it) stored in *out with
 * its length in *out_len. The path then has no "." or ".." segment and never climbs
 * above "/". Returns 0 on success, else the status to answer (nothing allocated):
 * 400 for a target that is not a path or has a malformed %-escape; 404 for an encoded
 * '/' ("%2f", which would join two segments into one name) or an encoded NUL ("%00",
 * which would cut the path short); 500 when memory runs out. */
int mg__static_target_path(struct mg_str uri, char **out, size_t *out_len);

/* 1 when a file called `name` (one path segment) must not be served or listed:
 * it equals `auth_file` ASCII case-insensitively (when auth_file is not NULL or
 * empty), or the glob `hidden_pattern` (when not NULL or empty) matches it by
 * mg_match_prefix_n (a prefix match: end the pattern with '$' to match whole names).
 * Else 0. An empty name is never hidden. */
int mg__static_name_hidden(struct mg_str name, const char *hidden_pattern,
                           const char *auth_file);

/* 1 when any segment of `path` ('/'-separated) is hidden by mg__static_name_hidden, so
 * that hiding a folder hides what it holds. Else 0. */
int mg__static_path_hidden(struct mg_str path, const char *hidden_pattern,
                           const char *auth_file);

/* 1 when the canonical path `path` equals the canonical folder `root` or lies inside
 * it (the next byte after the root is '/'); both are absolute, without symlinks, "."
 * or "..", as realpath() gives them. Root "/" contains every absolute path. */
int mg__static_path_within(const char *root, const char *path);

/* ---- responses (static.c) ----------------------------------------------------------- */

/* The request being answered and what every response to it carries. */
struct mg__static_req {
  struct mg_connection *nc;
  struct http_message *hm;
  struct mg_str extra; /* checked extra header lines, without a final CRLF */
  int head_only;       /* a HEAD request: heads alone, never a body */
  int keep_alive;      /* the request lets the connection persist */
};

/* Starts a head: the status line, the server line, the extra headers and Date. */
void mg__static_head_begin(struct mg__out *h, const struct mg__static_req *r,
                           int code);

/* Appends "Connection: keep-alive\r\n" or "Connection: close\r\n" as the request
 * allows. */
void mg__static_head_connection(struct mg__out *h, const struct mg__static_req *r);

/* Appends the blank line and `body_len` bytes of `body` (none for HEAD), queues it all
 * on the connection and releases the head. When memory ran out the connection is
 * closed instead. */
void mg__static_head_send(struct mg__out *h, const struct mg__static_req *r,
                          const char *body, size_t body_len);

/* Queues a complete answer with a text/plain body (`body`, or the reason phrase when
 * NULL; none for HEAD), `fields` (NULL, or field lines each ending in CRLF) after Date,
 * and marks the request answered. 400 and 5xx also close the connection after sending. */
void mg__static_send_status(const struct mg__static_req *r, int code, const char *fields,
                            const char *body);

/* The status for a failed open/stat/realpath: 404 for a missing file or folder, 403 for
 * a refused one, 500 for anything else. */
int mg__static_errno_status(int err);

/* Answers a folder `dir` (a canonical path inside the canonical `real_root`) requested
 * as `rel` (decoded, ends with '/') with an HTML listing of its entries, leaving out
 * hidden ones (see mg__static_name_hidden) and symlinks that resolve outside
 * `real_root`: chunked for HTTP/1.1, with Content-Length for HTTP/1.0, and marks the
 * request answered. (static_listing.c) */
void mg__static_send_listing(const struct mg__static_req *r, const char *real_root,
                             const char *dir, struct mg_str rel, const char *hidden_pattern,
                             const char *auth_file);

#endif
