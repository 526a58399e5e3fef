/*
 * mgio.h - the public C API of mgio.
 *
 * mgio keeps the Mongoose 6 interface (names, signatures, structs, event numbers and
 * flags) and fixes its behaviour where it was unsafe. A program written against that
 * interface includes this header (or mongoose.h, which includes it) and links libmgio.a.
 *
 * Conventions used throughout:
 * - Lengths are size_t unless the Mongoose 6 signature fixes an int.
 * - "View" means a (pointer, length) pair that does not own its bytes; it stays valid
 *   only as long as the storage it points into.
 * - Codecs return bytes consumed (> 0), -2 when more input is needed, -1 when malformed.
 *
 * When MGIO_CDEF is defined the header is being read by the cffi test harness: system
 * headers and compiler attributes are left out so that only plain declarations remain.
 */
#ifndef MGIO_H
#define MGIO_H

#define MGIO_VERSION "0.1.0"
#define MG_VERSION "6.18"

#ifndef MGIO_CDEF
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#define MG_PRINTF_LIKE(fmt_pos, args_pos) \
  __attribute__((format(printf, fmt_pos, args_pos)))
#else
#define MG_PRINTF_LIKE(fmt_pos, args_pos)
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------
 * mbuf: a growable byte buffer.
 *
 * The data occupies buf[0 .. len); the allocation is `size` bytes (size >= len). Any
 * function that may reallocate invalidates pointers previously taken into `buf`.
 * ---------------------------------------------------------------------------------- */

/* Allocator hooks: build the library with -DMBUF_REALLOC=my_realloc -DMBUF_FREE=my_free
 * (functions with the signatures of realloc and free) to route mbuf storage through your
 * own allocator; the tests use this to make allocation number k fail. Default: libc. */

/* Growth adds half the needed size as headroom, but not more than this, unless an
 * eighth of the needed size is more (which keeps growth geometric for large buffers). */
#ifndef MBUF_SIZE_MAX_HEADROOM
#define MBUF_SIZE_MAX_HEADROOM 8192
#endif

struct mbuf {
  char *buf;   /* start of the storage; NULL when nothing is allocated */
  size_t len;  /* bytes of data held, at buf[0 .. len) */
  size_t size; /* bytes allocated; always >= len */
};

/* Sets up `mbuf` with exactly `initial_capacity` bytes allocated (none for 0).
 * If that allocation fails the mbuf is left empty (buf NULL, size 0). The previous
 * contents of the struct are ignored, not freed. */
void mbuf_init(struct mbuf *mbuf, size_t initial_capacity);

/* Releases the storage (if any) and resets the mbuf to all zeroes. Safe to call twice. */
void mbuf_free(struct mbuf *mbuf);

/* Appends `data_size` bytes from `data` (NULL reserves the space uninitialised); `data`
 * may point into this mbuf's own storage. Returns `data_size`, or 0 when the allocation
 * fails or the new size would exceed PTRDIFF_MAX (no allocation is then attempted); on
 * failure the mbuf is unchanged. */
size_t mbuf_append(struct mbuf *mbuf, const void *data, size_t data_size);

/* Appends `data_size` bytes from the heap block `data` (allocated with the mbuf
 * allocator), then frees `data`, whatever the outcome. When the mbuf holds no data it
 * adopts the block instead of copying (its old storage is freed; len = size =
 * data_size). A zero `data_size` only frees `data`. Returns `data_size`, or 0 on
 * failure. */
size_t mbuf_append_and_free(struct mbuf *mbuf, void *data, size_t data_size);

/* Inserts `len` bytes from `data` at offset `off`, moving the tail right (NULL `data`
 * reserves the gap uninitialised); `data` may point into this mbuf's own storage.
 * Returns `len`, or 0 when `off` > mbuf->len, the size would exceed PTRDIFF_MAX, or
 * allocation fails; on failure the mbuf is unchanged. */
size_t mbuf_insert(struct mbuf *mbuf, size_t off, const void *data, size_t len);

/* Drops `data_size` bytes from the front. Does nothing when `data_size` is 0 or larger
 * than the data held (Mongoose 6 behaviour). The allocation is kept. */
void mbuf_remove(struct mbuf *mbuf, size_t data_size);

/* Changes the allocation to exactly `new_size` bytes. Requests below the data length or
 * above PTRDIFF_MAX are ignored; 0 with no data frees the storage. On allocation failure
 * nothing changes. */
void mbuf_resize(struct mbuf *mbuf, size_t new_size);

/* Moves the contents of `from` into `to`, leaving `from` empty. The previous storage of
 * `to` is NOT freed (Mongoose 6 behaviour): free it first if it holds any. Moving an
 * mbuf onto itself does nothing. */
void mbuf_move(struct mbuf *from, struct mbuf *to);

/* Empties the data (len = 0) and keeps the allocation. */
void mbuf_clear(struct mbuf *mbuf);

/* Shrinks the allocation to the data length. */
void mbuf_trim(struct mbuf *mbuf);

/* mgio extension: makes room for at least `extra` more bytes after the data without
 * changing len, growing as mbuf_insert does (reserve-then-commit, like sdsMakeRoomFor).
 * Returns 1 on success, 0 on overflow or allocation failure (mbuf unchanged). */
int mbuf_reserve(struct mbuf *mbuf, size_t extra);

/* ------------------------------------------------------------------------------------
 * mg_str: a (pointer, length) string view. It never owns its bytes, except the results
 * of mg_strdup / mg_strdup_nul, which the caller releases with mg_strfree.
 * ---------------------------------------------------------------------------------- */

struct mg_str {
  const char *p; /* first byte; need not be NUL-terminated */
  size_t len;    /* number of bytes */
};

#define MG_MK_STR(str_literal) \
  { str_literal, sizeof(str_literal) - 1 }
#define MG_MK_STR_N(str_literal, len) \
  { str_literal, len }
#define MG_NULL_STR \
  { NULL, 0 }

/* A view of the NUL-terminated string `s` ({NULL, 0} for NULL). */
struct mg_str mg_mk_str(const char *s);

/* A view of `len` bytes at `s`. */
struct mg_str mg_mk_str_n(const char *s, size_t len);

/* Compares the view with the C string `str1` over their common prefix (strncmp order);
 * when that prefix is equal the result is the length difference, so it is 0 only for
 * equal strings. */
int mg_vcmp(const struct mg_str *str2, const char *str1);

/* As mg_vcmp, ASCII case-insensitively. */
int mg_vcasecmp(const struct mg_str *str2, const char *str1);

/* A heap copy of `s` (not NUL-terminated); {NULL, 0} for an empty input or when the
 * allocation fails. Release with mg_strfree. */
struct mg_str mg_strdup(const struct mg_str s);

/* As mg_strdup, with a NUL after the copied bytes (not counted in len). */
struct mg_str mg_strdup_nul(const struct mg_str s);

/* The first occurrence of byte `c` in `s`, or NULL. */
const char *mg_strchr(const struct mg_str s, int c);

/* Byte-wise comparison: -1, 0 or 1; a proper prefix sorts first. */
int mg_strcmp(const struct mg_str str1, const struct mg_str str2);

/* As mg_strcmp on both strings truncated to at most `n` bytes. */
int mg_strncmp(const struct mg_str str1, const struct mg_str str2, size_t n);

/* As mg_strcmp, ASCII case-insensitively. */
int mg_strcasecmp(const struct mg_str str1, const struct mg_str str2);

/* Frees the bytes of a string made by mg_strdup / mg_strdup_nul and zeroes `s`. */
void mg_strfree(struct mg_str *s);

/* The first occurrence of `needle` in `haystack`, or NULL. An empty needle matches at
 * the start. */
const char *mg_strstr(const struct mg_str haystack, const struct mg_str needle);

/* `s` without leading and trailing ASCII whitespace (a view into the same bytes). */
struct mg_str mg_strstrip(struct mg_str s);

/* 1 when `s` begins with `prefix`, else 0. */
int mg_str_starts_with(struct mg_str s, struct mg_str prefix);

/* ------------------------------------------------------------------------------------
 * C-string utilities
 * ---------------------------------------------------------------------------------- */

/* Compares at most `len` bytes ASCII case-insensitively, stopping after a NUL;
 * returns <0, 0 or >0. */
int mg_ncasecmp(const char *s1, const char *s2, size_t len);

/* As mg_ncasecmp over the whole NUL-terminated strings. */
int mg_casecmp(const char *s1, const char *s2);

/* The first occurrence of the C string `find` in the C string `s`, looking at no more
 * than `slen` bytes of `s` and not past a NUL in it (like BSD strnstr), or NULL. `s`
 * need not be NUL-terminated within `slen` bytes. An empty `find` matches at `s`. */
const char *c_strnstr(const char *s, const char *find, size_t slen);

/* Formats into the caller's buffer `*buf` of `size` bytes. When the output (with its NUL)
 * does not fit, a heap buffer is allocated and stored in `*buf`; the caller frees it when
 * `*buf` changed. Returns the formatted length, or -1 on a format or allocation error
 * (then `*buf` is unchanged). */
int mg_asprintf(char **buf, size_t size, const char *fmt, ...) MG_PRINTF_LIKE(3, 4);

#ifndef MGIO_CDEF
/* As mg_asprintf with a va_list. */
int mg_avprintf(char **buf, size_t size, const char *fmt, va_list ap);
#endif

/* ------------------------------------------------------------------------------------
 * base64 (RFC 4648, standard alphabet, padded)
 * ---------------------------------------------------------------------------------- */

/* Writes the base64 encoding of `src_len` bytes plus a NUL to `dst`, which must hold
 * 4 * ((src_len + 2) / 3) + 1 bytes. A negative `src_len` writes "". */
void mg_base64_encode(const unsigned char *src, int src_len, char *dst);

/* Decodes up to `len` base64 characters from `s` into `dst` and NUL-terminates it;
 * `dst` must hold mg_base64_decoded_max(len) + 1 bytes (3 * (len / 4) + 3 always do).
 * Decoding stops at the first character outside the alphabet, or after a group that ends
 * in padding ("xx==" or "xxx="). Two or three alphabet characters left before the stop
 * are decoded as a final group without padding; a single one is not consumed.
 * Returns the number of input characters consumed (`len` for a whole valid text; 0 for
 * len <= 0 or when not even one byte decodes). The output may hold NUL bytes: its length
 * is mg_base64_decoded_max(r - p) for a return value r of which p were '=' characters.
 * `dst` may be `s` (decoding in place).
 * "Q2VzYW50YQ==" -> 12, "Cesanta"; "AAAA----" -> 4; "Zg" and "Zg=" -> 2, "f"; "Z" -> 0. */
int mg_base64_decode(const unsigned char *s, int len, char *dst);

/* Appends the base64 encoding of `len` bytes (4 * ceil(len / 3) characters, no NUL) to
 * `mbuf`, encoding straight into reserved room. `data` may point into the mbuf's own
 * data. When the room cannot be had (allocation failure, size overflow) nothing is
 * appended and the mbuf is unchanged. */
void mg_mbuf_append_base64(struct mbuf *mbuf, const void *data, size_t len);

/* mgio extension: the decoded length of a base64 text of `len` characters, at most
 * (exact when it has no padding): 3 bytes per 4 characters, and 1 or 2 for a final 2 or
 * 3 characters. mg_base64_decode needs one byte more, for its NUL. */
size_t mg_base64_decoded_max(size_t len);

/* ------------------------------------------------------------------------------------
 * MD5 (RFC 1321) and SHA-1 (FIPS 180-4). Used for Digest auth and the WebSocket
 * handshake; not for new security designs.
 * ---------------------------------------------------------------------------------- */

typedef struct {
  uint32_t state[4];
  uint64_t bytes;            /* total bytes fed so far */
  unsigned char block[64];   /* pending partial block */
} cs_md5_ctx;

typedef struct {
  uint32_t state[5];
  uint64_t bytes;
  unsigned char block[64];
} cs_sha1_ctx;

/* Starts an MD5 computation. */
void cs_md5_init(cs_md5_ctx *ctx);

/* Feeds `len` bytes of `data` (which may be NULL when len is 0). */
void cs_md5_update(cs_md5_ctx *ctx, const unsigned char *data, size_t len);

/* Writes the 16-byte digest and wipes the context (cs_md5_init starts it again). */
void cs_md5_final(unsigned char digest[16], cs_md5_ctx *ctx);

/* Starts a SHA-1 computation. */
void cs_sha1_init(cs_sha1_ctx *ctx);

/* Feeds `len` bytes of `data` (which may be NULL when len is 0). */
void cs_sha1_update(cs_sha1_ctx *ctx, const unsigned char *data, size_t len);

/* Writes the 20-byte digest and wipes the context (cs_sha1_init starts it again). */
void cs_sha1_final(unsigned char digest[20], cs_sha1_ctx *ctx);

/* HMAC-SHA1 (RFC 2104) of `text` under `key`, written to `digest`, which may overlap
 * `key` or `text`. Keys longer than 64 bytes are hashed first, as the RFC says. */
void cs_hmac_sha1(const unsigned char *key, size_t key_len, const unsigned char *text,
                  size_t text_len, unsigned char digest[20]);

/* MD5 over the concatenation of `num_msgs` messages, into the 16 bytes at `digest`. */
void mg_hash_md5_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens,
                   uint8_t *digest);

/* SHA-1 over the concatenation of `num_msgs` messages, into the 20 bytes at `digest`. */
void mg_hash_sha1_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens,
                    uint8_t *digest);

/* Lower-case hex MD5 of the concatenation of (const char *p, size_t len) argument pairs
 * ending with a NULL pointer, written to `buf` with its NUL. Returns `buf`.
 * Example: cs_md5(hex, "user", (size_t) 4, ":", (size_t) 1, NULL). */
char *cs_md5(char buf[33], ...);

/* Writes `len` bytes as lower-case hex plus a NUL to `to` (2 * len + 1 bytes). */
void cs_to_hex(char *to, const unsigned char *p, size_t len);

/* ------------------------------------------------------------------------------------
 * UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF),
 * resumable across any split of the input.
 * ---------------------------------------------------------------------------------- */

#define MG_UTF8_INVALID (-1)    /* the bytes so far can never be valid UTF-8 (sticky) */
#define MG_UTF8_COMPLETE 0      /* valid, ending on a character boundary */
#define MG_UTF8_INCOMPLETE 1    /* valid so far, ending inside a character */

struct mg_utf8_state {
  unsigned char need;   /* continuation bytes still expected; 0xff after an error */
  unsigned char lo, hi; /* allowed range of the next continuation byte */
};

/* Sets the state to the start of a text. A zero-filled state is also a valid start. */
void mg_utf8_init(struct mg_utf8_state *st);

/* Validates the next `len` bytes of a text (`data` may be NULL when `len` is 0).
 * Returns MG_UTF8_INVALID from the call holding the first byte after which no valid
 * text can follow (E0 80, ED A0 and F4 90 fail at their second byte) and on every call
 * after it; otherwise MG_UTF8_COMPLETE or MG_UTF8_INCOMPLETE. The result never depends
 * on how the text was split. Reads only the `len` bytes; keeps no pointer to them. */
int mg_utf8_feed(struct mg_utf8_state *st, const void *data, size_t len);

/* 1 when the `len` bytes at `data` are a complete, valid UTF-8 text, else 0. */
int mg_utf8_valid(const void *data, size_t len);

/* ------------------------------------------------------------------------------------
 * URL encoding (RFC 3986 percent-encoding, and HTML form encoding)
 * ---------------------------------------------------------------------------------- */

#define MG_URL_ENCODE_F_SPACE_AS_PLUS (1 << 0)
#define MG_URL_ENCODE_F_UPPERCASE_HEX (1 << 1)

/* Percent-encodes every byte of `src` as `%xx` except ASCII letters, digits and the
 * bytes of `safe` (any byte values). MG_URL_ENCODE_F_SPACE_AS_PLUS writes a space as '+'
 * unless the space is in `safe`; MG_URL_ENCODE_F_UPPERCASE_HEX writes `%XX`. Returns a
 * heap, NUL-terminated string (len excludes the NUL) that the caller frees with
 * mg_strfree or free(). An empty `src` (or one with p == NULL) gives an allocated ""
 * (p != NULL, len 0), so {NULL, 0} always means failure: allocation failure, or an
 * output length that would overflow size_t. */
struct mg_str mg_url_encode_opt(const struct mg_str src, const struct mg_str safe,
                                unsigned int flags);

/* mg_url_encode_opt with the safe set "._-$,;~()/" and lower-case hex. */
struct mg_str mg_url_encode(const struct mg_str src);

/* Decodes `%XX` escapes (hex in either case) and, when `is_form_url_encoded`, '+' as a
 * space, from `src_len` bytes of `src` into `dst` of `dst_len` bytes; `dst` needs the
 * decoded length + 1 bytes (for the NUL). Returns the decoded length (a decoded %00
 * counts), or -1 when an escape is malformed or truncated ("%", "%2", "%2x"), `dst` is
 * too small, `src_len` < 0, or `src` is NULL with `src_len` > 0; the output so far is
 * kept. `dst` is always NUL-terminated when dst_len >= 1, and never written when
 * dst_len <= 0 (then -1). */
int mg_url_decode(const char *src, int src_len, char *dst, int dst_len,
                  int is_form_url_encoded);


/* ------------------------------------------------------------------------------------
 * Event manager and connections (Mongoose 6 section 2)
 *
 * One thread drives a manager with mg_mgr_poll(); every callback runs on that thread.
 * mg_broadcast() and mg_mgr_wakeup() are the only functions other threads may call.
 *
 * Lifetimes: a connection is never freed while a handler might still see it. Closing
 * only marks it (MG_F_CLOSE_IMMEDIATELY); at the end of the poll iteration it receives
 * MG_EV_CLOSE, its last event, and is freed. ev_data pointers are valid only during the
 * call that receives them.
 * ---------------------------------------------------------------------------------- */

#ifndef MG_ENABLE_CALLBACK_USERDATA
#define MG_ENABLE_CALLBACK_USERDATA 0
#endif
#if MG_ENABLE_CALLBACK_USERDATA
#error "mgio does not support MG_ENABLE_CALLBACK_USERDATA; use nc->user_data"
#endif
#define MG_UD_ARG(ud)
#define MG_CB(cb, ud) cb

#define MG_ENABLE_IPV6 1
#define MG_ENABLE_BROADCAST 1

/* Bytes asked of one recv()/recvfrom() call. Mongoose 6 used 1460; larger reads mean
 * fewer system calls and fewer MG_EV_RECV events for the same data. */
#ifndef MG_TCP_IO_SIZE
#define MG_TCP_IO_SIZE 16384
#endif
#ifndef MG_UDP_IO_SIZE
#define MG_UDP_IO_SIZE 65536
#endif
/* mg_broadcast payloads must be strictly smaller than this. */
#ifndef MG_CTL_MSG_MESSAGE_SIZE
#define MG_CTL_MSG_MESSAGE_SIZE 8192
#endif
/* Accepted plus outbound connections a manager keeps; over it, new clients are accepted
 * and closed at once, and mg_connect fails. Listeners do not count. */
#ifndef MG_MAX_CONNECTIONS
#define MG_MAX_CONNECTIONS 1024
#endif
#ifndef MG_LISTEN_BACKLOG
#define MG_LISTEN_BACKLOG 511
#endif

typedef int sock_t;
#define INVALID_SOCKET (-1)

#ifdef MGIO_CDEF
/* cffi knows no system headers: these give the socket types a layout to fill in. */
struct sockaddr { unsigned short sa_family; ...; };
struct sockaddr_in { unsigned short sin_family; unsigned short sin_port; ...; };
struct sockaddr_in6 { unsigned short sin6_family; unsigned short sin6_port; ...; };
typedef long time_t;
#endif

union socket_address {
  struct sockaddr sa;
  struct sockaddr_in sin;
  struct sockaddr_in6 sin6;
};

struct mg_connection;
struct mg_iface;        /* kept for the interface; mgio has one socket interface */
struct mg_iface_vtable;

typedef void (*mg_event_handler_t)(struct mg_connection *nc, int ev, void *ev_data);

/* Core events. ev_data for each is given at the right. */
#define MG_EV_POLL 0    /* time_t *: the current time; every connection, every poll */
#define MG_EV_ACCEPT 1  /* union socket_address *: the peer of a new connection */
#define MG_EV_CONNECT 2 /* int *: 0 when connected, else an errno value (-1: resolve failed) */
#define MG_EV_RECV 3    /* int *: bytes just added to recv_mbuf */
#define MG_EV_SEND 4    /* int *: bytes just written out and removed from send_mbuf */
#define MG_EV_CLOSE 5   /* NULL: the last event of every connection */
#define MG_EV_TIMER 6   /* double *: the timer value that expired */

/* Connection flags. A user handler may change only USER_1..6, SEND_AND_CLOSE,
 * CLOSE_IMMEDIATELY, IS_WEBSOCKET, WEBSOCKET_NO_DEFRAG and DELETE_CHUNK; other changes it
 * makes are reverted when it returns. */
#define MG_F_LISTENING (1 << 0)
#define MG_F_UDP (1 << 1)
#define MG_F_RESOLVING (1 << 2)
#define MG_F_CONNECTING (1 << 3)
#define MG_F_SSL (1 << 4)
#define MG_F_SSL_HANDSHAKE_DONE (1 << 5)
#define MG_F_WANT_READ (1 << 6)
#define MG_F_WANT_WRITE (1 << 7)
#define MG_F_IS_WEBSOCKET (1 << 8)
#define MG_F_RECV_AND_CLOSE (1 << 9)
#define MG_F_SEND_AND_CLOSE (1 << 10)
#define MG_F_CLOSE_IMMEDIATELY (1 << 11)
#define MG_F_PROTO_1 (1 << 12)
#define MG_F_PROTO_2 (1 << 13)
#define MG_F_ENABLE_BROADCAST (1 << 14)
/* mgio extension, for mg_bind_opts.flags: SO_REUSEPORT on the listening socket, so that
 * several processes (or managers) listen on one port and the kernel spreads the incoming
 * connections between them. mg_bind_opt fails where the system has no SO_REUSEPORT. */
#define MG_F_REUSE_PORT (1 << 15)
/* mgio extension, a connection flag (a listener passes it to the connections it accepts):
 * multipart request bodies reach the handler whole, as MG_EV_HTTP_REQUEST within the
 * buffered-body limit, as in a build without MG_ENABLE_HTTP_STREAMING_MULTIPART, instead
 * of as MG_EV_HTTP_MULTIPART_REQUEST and MG_EV_HTTP_PART_* events. */
#define MG_F_NO_MULTIPART_STREAMING (1 << 16)
#define MG_F_USER_1 (1 << 20)
#define MG_F_USER_2 (1 << 21)
#define MG_F_USER_3 (1 << 22)
#define MG_F_USER_4 (1 << 23)
#define MG_F_USER_5 (1 << 24)
#define MG_F_USER_6 (1 << 25)
#define MG_F_WEBSOCKET_NO_DEFRAG MG_F_PROTO_1
#define MG_F_DELETE_CHUNK MG_F_PROTO_2

struct mg_mgr {
  struct mg_connection *active_connections; /* live connections, newest first */
  sock_t ctl[2];        /* socket pair: [0] written by other threads, [1] read by poll */
  void *user_data;      /* as given to mg_mgr_init */
  int num_ifaces;       /* always 0 in mgio */
  int num_calls;        /* handler invocations other than MG_EV_POLL */
  struct mg_iface **ifaces;
  const char *nameserver;
  /* mgio private state, after the Mongoose 6 fields */
  int backend_fd;          /* epoll instance, or -1 with the poll(2) backend */
  size_t num_connections;  /* accepted + outbound, for max_connections */
  size_t max_connections;  /* MG_MAX_CONNECTIONS unless changed */
  void *backend_state;     /* pollfd array of the poll(2) backend */
  size_t backend_slots;
  struct mg__resolver *resolver; /* shared with resolver threads; see net/resolve.c */
  int polling;                   /* nonzero while mg_mgr_poll runs */
  unsigned long long next_id;    /* connection ids, for messages that outlive a pointer */
  /* mgio extension: called right before and after mg_mgr_poll blocks in epoll_wait or
   * poll, and around nothing else (e.g. to release a language runtime's lock while
   * waiting). NULL: nothing. */
  void (*before_wait)(struct mg_mgr *mgr);
  void (*after_wait)(struct mg_mgr *mgr);
  double now; /* mgio: mg_time() when the current (or last) poll iteration began */
};

struct mg_connection {
  struct mg_connection *next, *prev; /* neighbours in mgr->active_connections */
  struct mg_connection *listener;    /* the listener that accepted this connection */
  struct mg_mgr *mgr;                /* owning manager */
  sock_t sock;                       /* the socket, or INVALID_SOCKET */
  int err;                           /* errno of the last failed I/O */
  union socket_address sa;           /* the remote peer */
  size_t recv_mbuf_limit;            /* not read while recv_mbuf.len >= this */
  struct mbuf recv_mbuf;             /* received, not yet consumed */
  struct mbuf send_mbuf;             /* queued for sending */
  time_t last_io_time;               /* time of the last I/O */
  double ev_timer_time;              /* when MG_EV_TIMER is due; 0: none */
  mg_event_handler_t proto_handler;  /* protocol layer (HTTP, ...) or NULL */
  void *proto_data;                  /* protocol layer's state */
  void (*proto_data_destructor)(void *proto_data);
  mg_event_handler_t handler;        /* the user's handler */
  void *user_data;                   /* the user's pointer */
  union {
    void *v;
    mg_event_handler_t f;
  } priv_1;
  void *priv_2;
  void *mgr_data;
  struct mg_iface *iface;
  unsigned long flags;               /* MG_F_* */
  void *unused_ssl_if_data;
  /* mgio private state, after the Mongoose 6 fields */
  unsigned long long id;             /* unique within the manager */
  unsigned int io_interest;          /* events registered with the backend */
  unsigned int io_ready;             /* events the backend reported this iteration */
  unsigned int internal_flags;       /* MG__C_* bits of net/internal.h */
  double wake_at;                    /* a protocol layer's next deadline (an idle Ping, a
                                        close wait): poll no later; 0: none */
  unsigned long long bytes_sent;     /* written to the socket so far: bytes_sent +
                                        send_mbuf.len only grows as output is queued */
};

struct mg_mgr_init_opts {
  const struct mg_iface_vtable *main_iface; /* ignored: one socket interface */
  int num_ifaces;
  const struct mg_iface_vtable **ifaces;
  const char *nameserver;
};

struct mg_add_sock_opts {
  void *user_data;           /* initial user_data */
  unsigned int flags;        /* extra MG_F_* (only USER_1..6, NO_DEFRAG, ENABLE_BROADCAST) */
  const char **error_string; /* receives a static error text on failure */
  struct mg_iface *iface;
};

struct mg_bind_opts {
  void *user_data;
  unsigned int flags;
  const char **error_string;
  struct mg_iface *iface;
};

struct mg_connect_opts {
  void *user_data;
  unsigned int flags;
  const char **error_string;
  struct mg_iface *iface;
  const char *nameserver;
};

/* Sets up a manager: no connections, the wakeup socket pair, the poll backend. Ignores
 * SIGPIPE for the process (writes to closed peers report EPIPE instead). If the system
 * refuses a descriptor, the manager is still safe to poll and free, and every mg_bind /
 * mg_connect on it fails. */
void mg_mgr_init(struct mg_mgr *mgr, void *user_data);

/* As mg_mgr_init; the interface fields of `opts` are ignored, `nameserver` is kept. */
void mg_mgr_init_opt(struct mg_mgr *mgr, void *user_data, struct mg_mgr_init_opts opts);

/* Runs one last poll(0), then closes every connection (each gets MG_EV_CLOSE) and
 * releases everything the manager holds. NULL is allowed. */
void mg_mgr_free(struct mg_mgr *mgr);

/* One iteration: waits up to `milli` ms (less when a timer is due sooner, 0 when work is
 * pending), then per connection: MG_EV_TIMER if due, MG_EV_POLL, MG_EV_CONNECT when a
 * connect completes, accepts (MG_EV_ACCEPT on each new connection) or reads (one
 * MG_EV_RECV for all of a stream's reads in the iteration, one per UDP datagram),
 * writes (MG_EV_SEND); finally closes what was marked (MG_EV_CLOSE) and frees it.
 * Returns the number of handler calls other than MG_EV_POLL. */
int mg_mgr_poll(struct mg_mgr *mgr, int milli);

/* Runs `cb(nc, MG_EV_POLL, copy_of_data)` for every connection, on the poll thread, at its
 * next iteration; blocks until that has happened. Safe from any thread and any number of
 * threads at once; from inside a handler on the poll thread it runs the calls at once.
 * Ignored when data is NULL or len >= MG_CTL_MSG_MESSAGE_SIZE. */
void mg_broadcast(struct mg_mgr *mgr, mg_event_handler_t cb, void *data, size_t len);

/* mgio extension: makes a concurrent or next mg_mgr_poll return promptly. Safe from any
 * thread (and from signal handlers); never blocks. */
void mg_mgr_wakeup(struct mg_mgr *mgr);

/* mgio extension: a descriptor that becomes readable whenever the manager has I/O to do
 * (for event-loop integration; poll it, then call mg_mgr_poll(mgr, 0)). -1 with the
 * poll(2) backend. It reflects the connections as they were when mg_mgr_poll last
 * returned: after making connections, queueing output or setting timers outside a poll,
 * call mg_mgr_wakeup() so that the loop polls again. */
int mg_mgr_fileno(struct mg_mgr *mgr);

/* mgio extension: when mg_mgr_poll must run next even if no descriptor becomes ready
 * (absolute, mg_time() scale): the earliest connection timer, or a time already past when
 * work is pending (a connection marked for close, a connect result to report); 0 when
 * nothing is scheduled. With mg_mgr_fileno this is all an external event loop needs. */
double mg_mgr_next_timer(struct mg_mgr *mgr);

/* The first connection (c == NULL) or the one after `c`; NULL at the end. */
struct mg_connection *mg_next(struct mg_mgr *mgr, struct mg_connection *c);

/* Wraps an existing socket (made non-blocking) in a connection. INVALID_SOCKET makes a
 * timer-only connection. Returns NULL on allocation failure. */
struct mg_connection *mg_add_sock(struct mg_mgr *mgr, sock_t sock,
                                  mg_event_handler_t handler);
struct mg_connection *mg_add_sock_opt(struct mg_mgr *mgr, sock_t sock,
                                      mg_event_handler_t handler,
                                      struct mg_add_sock_opts opts);

/* Listens on `address`: "[tcp://|udp://][HOST]:PORT" or "PORT"; HOST may be an IPv4
 * address, a bracketed IPv6 address or a name (resolved now); port 0 picks a free port,
 * read back from nc->sa. Returns NULL with *opts.error_string set on failure. Accepted
 * connections inherit handler, proto_handler, user_data and recv_mbuf_limit.
 * opts.flags may hold MG_F_REUSE_PORT (a TCP listener shared between processes). */
struct mg_connection *mg_bind(struct mg_mgr *mgr, const char *address,
                              mg_event_handler_t handler);
struct mg_connection *mg_bind_opt(struct mg_mgr *mgr, const char *address,
                                  mg_event_handler_t handler, struct mg_bind_opts opts);

/* Connects to "[tcp://|udp://]HOST:PORT" without blocking. Numeric hosts and "localhost"
 * start at once; other names resolve on a helper thread (MG_F_RESOLVING meanwhile). The
 * first event is always MG_EV_CONNECT with the status; a failure is followed by
 * MG_EV_CLOSE. Returns NULL (and sets *opts.error_string) for an unparsable address or
 * when the connection cap is reached. A NULL handler is allowed. */
struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *address,
                                 mg_event_handler_t handler);
struct mg_connection *mg_connect_opt(struct mg_mgr *mgr, const char *address,
                                     mg_event_handler_t handler,
                                     struct mg_connect_opts opts);

/* Queues `len` bytes for sending (no I/O happens here). A negative len sends nothing. */
void mg_send(struct mg_connection *nc, const void *buf, int len);

/* Formats and queues; returns the formatted length, -1 on failure (nothing queued). */
int mg_printf(struct mg_connection *nc, const char *fmt, ...) MG_PRINTF_LIKE(2, 3);
#ifndef MGIO_CDEF
int mg_vprintf(struct mg_connection *nc, const char *fmt, va_list ap);
#endif

/* Makes a connected Unix-domain pair of sockets of `sock_type` (only SOCK_STREAM or
 * SOCK_DGRAM), non-blocking and close-on-exec. Returns 1 on success, 0 on failure (then
 * sp is {-1, -1} and nothing is leaked). */
int mg_socketpair(sock_t sp[2], int sock_type);

/* Checks an IPv4 address (host byte order) against an ACL of comma-separated entries
 * "+a.b.c.d[/n]" or "-a.b.c.d[/n]" (four octets, n <= 32, no spaces), e.g.
 * "-0.0.0.0/0,+192.168.0.0/16". The last matching entry wins; an unmatched address gets
 * the opposite of the first entry's sign; a NULL or empty ACL allows everything.
 * Returns 1 allowed, 0 denied, -1 malformed ACL. */
int mg_check_ip_acl(const char *acl, uint32_t remote_ip);

/* Sets the connection's one-shot timer to the absolute time `timestamp` (mg_time()
 * scale; 0 disables). Returns the previous value (0 for a NULL connection). */
double mg_set_timer(struct mg_connection *c, double timestamp);

/* Wall-clock seconds since the epoch, with sub-second precision. */
double mg_time(void);

#define MG_SOCK_STRINGIFY_IP 1
#define MG_SOCK_STRINGIFY_PORT 2
#define MG_SOCK_STRINGIFY_REMOTE 4

/* Writes the address (IP, port or both: "1.2.3.4:80", "[::1]:80"; an IPv6 scope as
 * "%N") to buf; "" when it does not fit or flags ask for nothing. MG_SOCK_STRINGIFY_REMOTE
 * is ignored here. Returns the string length. */
int mg_sock_addr_to_str(const union socket_address *sa, char *buf, size_t len, int flags);

/* As mg_sock_addr_to_str for the local address of `c`, or with MG_SOCK_STRINGIFY_REMOTE
 * its peer. */
int mg_conn_addr_to_str(struct mg_connection *c, char *buf, size_t len, int flags);

/* Legacy form of mg_conn_addr_to_str for a bare socket. */
void mg_sock_to_str(sock_t sock, char *buf, size_t len, int flags);

/* ------------------------------------------------------------------------------------
 * HTTP messages: the HTTP/1.x message head parser (RFC 9110 / RFC 9112).
 *
 * The parser is a pure codec: it reads a buffer that holds the start of a message and
 * fills a struct http_message with views into that buffer (no copies, no allocation).
 * It keeps no state between calls: when a message arrives in pieces, call it again on
 * the grown buffer. The result never depends on how the bytes were split: every proper
 * prefix of a valid head is "incomplete", and a prefix of an invalid head is either
 * "incomplete" or the very verdict the whole head gets.
 *
 * Strictness (mgio fixes over Mongoose 6):
 * - Lines end in CRLF. A bare LF or a bare CR anywhere in the head is malformed (400);
 *   RFC 9112 2.2 lets a recipient accept a bare LF, mgio does not, so that it never
 *   frames a message differently from a strict peer.
 * - Up to 4 empty lines (CRLF) before a request line are skipped (RFC 9112 2.2); they
 *   count in the returned length, not in hm->message. A response may not have them.
 * - Request line: method SP request-target SP HTTP-version, single spaces. The method
 *   is an RFC 9110 token; the target is one or more bytes other than controls and space.
 * - Status line: HTTP-version SP 3DIGIT [SP reason-phrase]; the code is 100..999; the
 *   reason may be empty and holds no controls other than HTAB.
 * - HTTP-version is exactly "HTTP/" DIGIT "." DIGIT (case-sensitive, else 400); HTTP/1.0
 *   and HTTP/1.1 are accepted, a higher 1.x is processed as HTTP/1.1 (RFC 9110 2.5;
 *   http_minor 1, proto as sent), any other major version is 505.
 * - Field line: token ":" OWS value OWS. Whitespace before the colon, an empty or
 *   non-token name, obs-fold (a line starting with SP or HTAB), NUL and controls other
 *   than HTAB in the value are 400. Values are trimmed of OWS.
 * - Content-Length is 1*DIGIT (no sign, no inner space) up to INT64_MAX; a comma list
 *   of identical values, or several identical fields, are accepted as one value;
 *   differing values are 400. Content-Length together with Transfer-Encoding is 400.
 * - Transfer-Encoding (all its fields, as one list): a malformed list or `chunked`
 *   more than once is 400. In a request the last coding must be `chunked` (else 400,
 *   RFC 9112 6.3) and any other coding before it is 501 (mgio implements only chunked).
 *   In a response, other codings are passed through; when the last is not `chunked`
 *   the body runs until the connection closes.
 *
 * Limits (struct mg_http_limits) are inclusive, and input that already exceeds one is
 * rejected at once, without waiting for the rest of the head:
 * - request (or status) line, counted without its CRLF: over `request_line` -> 414;
 * - header section (start line, field lines and the blank line, with their CRLFs):
 *   over `header_section` -> 431;
 * - a field line (without its CRLF) over `field_line` -> 431;
 * - a field beyond `max_headers` -> 431.
 * ---------------------------------------------------------------------------------- */

/* Room for 100 header fields plus the empty slot that ends the list. */
#define MG_MAX_HTTP_HEADERS 101

/* Bits of http_message.flags (mgio extension). */
#define MG_HTTP_F_CHUNKED (1 << 0)         /* the body uses the chunked transfer coding */
#define MG_HTTP_F_KEEP_ALIVE (1 << 1)      /* the connection persists after this message */
#define MG_HTTP_F_UPGRADE (1 << 2)         /* HTTP/1.1 with Connection: upgrade and Upgrade */
#define MG_HTTP_F_EXPECT_CONTINUE (1 << 3) /* HTTP/1.1 request with Expect: 100-continue */
#define MG_HTTP_F_EXPECT_OTHER (1 << 4)    /* request with another Expect element (-> 417) */
#define MG_HTTP_F_CLOSE_DELIMITED (1 << 5) /* response body ends when the connection closes */
#define MG_HTTP_F_NO_BODY (1 << 6)         /* 1xx, 204 or 304 response: never a body */

struct http_message {
  struct mg_str message; /* the start line, the fields, the blank line and the part of
                            the body in hand (see body); excludes skipped empty lines */
  struct mg_str body;    /* the body bytes in hand when Content-Length is known:
                            min(available, content_length) bytes right after the head;
                            otherwise empty (len 0, p at the end of the head) */
  struct mg_str method;  /* request method, e.g. "GET"; empty for a response */
  struct mg_str uri;     /* request target up to the first '?'; empty for a response */
  struct mg_str proto;   /* "HTTP/1.1" or "HTTP/1.0", requests and responses */
  int resp_code;         /* status code of a response; 0 for a request */
  struct mg_str resp_status_msg; /* reason phrase of a response (may be empty) */
  struct mg_str query_string;    /* target after the first '?' (without it); empty when
                                    there is none */
  struct mg_str header_names[MG_MAX_HTTP_HEADERS];  /* field names in order, as sent; the
                                                       entry after the last is {NULL, 0} */
  struct mg_str header_values[MG_MAX_HTTP_HEADERS]; /* values (OWS trimmed); index i
                                                       pairs with header_names[i] */
  /* mgio extensions */
  int64_t content_length; /* body length: Content-Length, 0 for a request without
                             Content-Length or Transfer-Encoding and for a
                             MG_HTTP_F_NO_BODY response; -1 when unknown (chunked or
                             close-delimited) */
  unsigned int flags;     /* MG_HTTP_F_* */
  int http_minor;         /* 0 for HTTP/1.0, 1 for HTTP/1.1 */
  size_t num_headers;     /* fields stored in header_names / header_values */
};

/* Limits applied by mg_http_parse_head (all inclusive, in bytes except max_headers). */
struct mg_http_limits {
  size_t request_line;   /* request or status line without CRLF; default 8192 (414) */
  size_t header_section; /* start line + fields + blank line; default 32768 (431) */
  size_t max_headers;    /* fields; default 100, at most MG_MAX_HTTP_HEADERS - 1 (431) */
  size_t field_line;     /* one field line without CRLF; default 8192 (431) */
  size_t body;           /* body bytes a connection buffers for a handler that does not
                            delete chunks; default 1 MiB (413; not used by the parser) */
  /* WebSocket settings of a connection (not used by the parser) */
  size_t ws_message;        /* bytes of one message, inflated; default 1 MiB (1009) */
  size_t ws_fragments;      /* frames of one message; default 1024 (1009) */
  unsigned int ws_ping_ms;  /* PING after this long without input; default 20000, 0 off */
  unsigned int ws_close_ms; /* wait for the peer's Close after ours; default 5000 */
  int ws_deflate;           /* permessage-deflate: a server accepts it when offered, a
                               client offers it; default 1, 0 off */
  /* Streaming multipart (a server's MG_EV_HTTP_PART_* requests; not used by the parser).
   * Both inclusive; 0 means the default. The boundary's 1..70 characters are an RFC 2046
   * rule, not a setting. */
  size_t mp_header; /* bytes of one part's header section, with its CRLFs and the empty
                       line; default 8192 (413) */
  size_t mp_parts;  /* parts of one body; default 1000 (the 1001st -> 413) */
  /* Timeouts of a connection, in milliseconds; 0 turns one off. Checked against the
   * manager's clock of the poll iteration (mgr->now), and the manager's wait is cut
   * short so that a deadline is not overslept (c->wake_at). See "Timeouts" below. */
  unsigned int header_ms;       /* a request head, whole; default 30000 (408) */
  unsigned int body_ms;         /* no byte of a body being read; default 30000 (408) */
  unsigned int send_ms;         /* no write progress while output is queued; default
                                   60000 (close) */
  unsigned int idle_ms;         /* keep-alive: no request begun after an answer; default
                                   75000 (quiet close) */
  unsigned int max_requests;    /* requests per connection; default 1000 (the last one's
                                   answer says Connection: close); 0 no limit */
  unsigned int ws_handshake_ms; /* client: no 101 after the upgrade request; default
                                   30000 (MG_EV_WEBSOCKET_HANDSHAKE_DONE with resp_code 0,
                                   then close) */
  unsigned int ws_pong_ms;      /* no input after the idle Ping (ws_ping_ms); default
                                   20000 (Close 1011, then close with err ETIMEDOUT) */
};

#define MG_HTTP_LIMITS_DEFAULT                                                      \
  {                                                                                 \
    8192, 32768, 100, 8192, 1048576, 1048576, 1024, 20000, 5000, 1, 8192, 1000, 30000, \
        30000, 60000, 75000, 1000, 30000, 20000                                     \
  }

/* The default limits (MG_HTTP_LIMITS_DEFAULT, which DESIGN "Defaults" lists). */
struct mg_http_limits mg_http_default_limits(void);

/* mgio extension: parses the head of an HTTP/1.x request (is_req != 0) or response
 * (is_req == 0) from the `n` bytes at `s`, under `limits` (NULL: the defaults).
 * Returns the length of the head (> 0: skipped empty lines, start line, fields and the
 * blank line) when it is complete and valid; -2 when more bytes are needed (no limit is
 * exceeded yet); -1 when it is malformed, ambiguous or over a limit. `*status` (when
 * `status` is not NULL) is set to 0 on success and -2, and on -1 to the status a server
 * answers with: 400 malformed or ambiguous framing, 414 request line too long, 431
 * header section too large or too many fields, 501 unimplemented transfer coding, 505
 * unsupported HTTP version. `hm` is filled on success (views into `s`, valid while `s`
 * is); after -1 or -2 its contents are unspecified. Reads no byte outside s[0 .. n). */
int mg_http_parse_head(const char *s, size_t n, struct http_message *hm, int is_req,
                       const struct mg_http_limits *limits, int *status);

/* Parses an HTTP request (is_req != 0) or response head from the `n` bytes at `s` into
 * `hm` (views into `s`), with the default limits; mg_http_parse_head without the status.
 * Returns the length of the head (> 0) when complete, 0 when incomplete, -1 when
 * malformed, ambiguous (differing Content-Length values, Content-Length with
 * Transfer-Encoding, a bad Transfer-Encoding) or over a limit; a negative `n` is -1.
 * hm->message and hm->body cover the body bytes already in `s` when Content-Length is
 * known. Example: for "GET /a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n" it returns 32, with
 * method "GET", uri "/a", query_string "b=1", proto "HTTP/1.1" and one field. */
int mg_parse_http(const char *s, int n, struct http_message *hm, int is_req);

/* The value of the first field named `name` (ASCII case-insensitive), as a pointer into
 * `hm` (valid as long as `hm` and its buffer are), or NULL when there is none or when
 * `hm` or `name` is NULL. */
struct mg_str *mg_get_http_header(struct http_message *hm, const char *name);

/* ------------------------------------------------------------------------------------
 * HTTP helpers: status reason phrases, URIs (RFC 3986), query-string and header
 * parameters, glob patterns and comma lists.
 *
 * Every mg_str input is read within [p, p + len) only; it need not be NUL-terminated.
 * ---------------------------------------------------------------------------------- */

#ifndef MGIO_CDEF
#define MG_DEPRECATED __attribute__((deprecated))
#else
#define MG_DEPRECATED
#endif

/* The reason phrase of `status_code`: RFC 9110 section 15 for its codes, and the IANA
 * registry's phrase for 102, 103, 207, 208, 226, 423-425, 428, 429, 431, 451, 506-508,
 * 510 and 511 (413 is "Content Too Large", 422 "Unprocessable Content"). Any other code
 * (418, 306, 999, negative ...) gives "Unknown" - never "OK" for a code other than 200
 * (mgio fix). The result is a static string. */
const char *mg_status_message(int status_code);

/* Splits `uri` as [scheme://[user_info@]]host[:port][/path][?query][#fragment] into views
 * of its bytes. The scheme is what precedes a "://" met before any of "/?#[@"; without
 * one there is no user_info either. Otherwise user_info is what precedes the last '@'
 * of the authority, which ends at the first '/', '?' or '#' (RFC 3986 3.2). A host
 * starting with '[' is an IPv6 literal kept with its brackets ("[::1]"); what follows
 * its ']' must be ":port" or the end of the authority. `path` keeps its leading '/',
 * `query` excludes the '?', `fragment` the '#'. An absent part is {NULL, 0}; a present
 * but empty one ("http://h/?") has p in `uri` and len 0. `port` is 0 when absent or
 * empty. NULL out-parameters are skipped. Returns 0, or -1 (out-parameters untouched)
 * for an unterminated '[' ("tcp://[::1"), bytes between ']' and ':', or - mgio fix - a
 * port that is not all digits or exceeds 65535 (Mongoose 6 accepted any bytes there).
 * Example: "http://u@h:8080/a/b?x=1#f" -> "http", "u", "h", 8080, "/a/b", "x=1", "f". */
int mg_parse_uri(const struct mg_str uri, struct mg_str *scheme, struct mg_str *user_info,
                 struct mg_str *host, unsigned int *port, struct mg_str *path,
                 struct mg_str *query, struct mg_str *fragment);

/* Builds a URI from parts into a heap string stored in `uri` (NUL-terminated, the NUL
 * not counted in len; the caller frees uri->p with free()). A part is written when its
 * pointer and its p are not NULL (so an empty query still gives "?", which makes
 * mg_parse_uri's output round-trip): "scheme://", "user_info@", host, ":port" when port
 * is not 0, path, "?query", "#fragment". With `normalize_path`, the path is first
 * passed through mg_normalize_uri_path. Returns 0, or -1 (uri set to {NULL, 0}) when
 * the path to normalize does not start with '/' or on allocation failure. All parts
 * NULL gives "". Example: scheme "file", path "/foo/.././bar/baz", normalized ->
 * "file:///bar/baz". */
int mg_assemble_uri(const struct mg_str *scheme, const struct mg_str *user_info,
                    const struct mg_str *host, unsigned int port, const struct mg_str *path,
                    const struct mg_str *query, const struct mg_str *fragment,
                    int normalize_path, struct mg_str *uri);

/* Removes "." and ".." segments from the path `in` (RFC 3986 5.2.4; ".." at the root
 * stays at the root), writing the result to the caller's buffer at out->p, which must
 * hold in->len bytes (the result is never longer); out->p may equal in->p (in place).
 * No percent-decoding is done; empty segments are kept. A final "." or ".." leaves a
 * trailing '/'. Sets out->len and returns 1; returns 0 (out untouched) when `in` is
 * empty or does not start with '/'. "/a/./b/../c" -> "/a/c"; "/.." -> "/". */
int mg_normalize_uri_path(const struct mg_str *in, struct mg_str *out);

/* Sets `v` to the bytes from `s` up to the first byte found in the NUL-terminated set
 * `delimiters` (or up to `end_string`), then skips every delimiter byte after it, and
 * returns where that stops (at most `end_string`). Reads only [s, end_string); a NUL
 * byte there is not a delimiter. Example: "a, b" with ", " -> v "a", returns at "b". */
const char *mg_skip(const char *s, const char *end_string, const char *delimiters,
                    struct mg_str *v);

/* Finds the variable `name` in the query string or form body `buf` ("a=1&b=2"): the
 * first "name=" at the start or right after '&' (name compared ASCII
 * case-insensitively), and form-decodes its value (up to the next '&') into `dst` with
 * mg_url_decode ('+' is a space). Returns the decoded length (0 for an empty value), or:
 * -1 when buf or buf->p is NULL, buf is empty or name is NULL; -2 when dst is NULL or
 * dst_len is 0 (nothing written); -3 when the value has a malformed escape or does not
 * fit in dst with its NUL; -4 when the variable is absent. On every negative return
 * but -2, dst is "" (mgio: also after -3, where Mongoose 6 left partial output). */
int mg_get_http_var(const struct mg_str *buf, const char *name, char *dst, size_t dst_len);

/* Finds the parameter `var_name` in a header value such as a Digest Authorization or a
 * Content-Disposition ("a=1, b=\"x y\"; c='z'"): "var_name=" (case-sensitive) at the
 * start or right after ' ', ',' or ';'; text inside a quoted value is never taken for a
 * parameter name (mgio fix). A value starting with '"' or '\'' runs to the matching
 * unescaped quote, where a backslash before that quote or before a backslash is
 * dropped (other backslashes are kept, as browsers send Windows file names raw); an
 * unterminated quote gives an empty value. An unquoted value ends at ' ', ',', ';' or
 * the end. The value is copied NUL-terminated into `*buf` when value + NUL fit in
 * `buf_size` and `*buf` is not NULL; otherwise it goes into a new heap buffer stored in
 * `*buf` (the caller frees it with free() when `*buf` changed; *buf NULL with size 0 is
 * allowed). Returns the value length without the NUL; 0 when the parameter is absent,
 * empty, or hdr, var_name or buf is NULL, or on allocation failure. Whenever the
 * caller's buffer is kept and buf_size > 0 it holds a NUL-terminated string ("" when
 * nothing was found). Reads only [hdr->p, hdr->p + hdr->len). */
int mg_http_parse_header2(struct mg_str *hdr, const char *var_name, char **buf,
                          size_t buf_size);

/* Deprecated form of mg_http_parse_header2 that never allocates: when the value with its
 * NUL does not fit in `buf_size` it returns 0 (and buf is "" when buf_size > 0). */
int mg_http_parse_header(struct mg_str *hdr, const char *var_name, char *buf,
                         size_t buf_size) MG_DEPRECATED;

/* Matches the glob `pattern` against the start of `str`, ASCII case-insensitively.
 * `*` matches any run of bytes other than '/', `**` any run, `?` one byte other than
 * '/'; '|' and ',' separate alternatives, tried left to right; a '$' ending an
 * alternative anchors it at the end of `str` (a '$' elsewhere is literal). Returns the
 * length of the longest prefix of `str` that the first matching alternative matches;
 * 0 means no match (a match of length 0 also counts as none). Runs in
 * O(len(pattern) * len(str)) time whatever the pattern (no backtracking; mgio fix), with
 * one heap block of len(str) + 1 bytes when str is longer than 256 bytes (0 when that
 * allocation fails). Examples: "a*f" vs "abcdefgh" -> 6; vs "abcdexgh" -> 0;
 * "a*f|de*,xy" vs "defgh" -> 5; "?*" vs "abc" -> 3; "?*" vs "" -> 0. */
size_t mg_match_prefix_n(const struct mg_str pattern, const struct mg_str str);

/* mg_match_prefix_n on the first `pattern_len` bytes of `pattern` (all of it, up to its
 * NUL, when pattern_len < 0) and the NUL-terminated `str`. NULL pattern or str -> 0. */
size_t mg_match_prefix(const char *pattern, int pattern_len, const char *str);

/* Takes the next entry of the comma-separated `list` ("a=1,b,c=3"): `val` gets the entry
 * ("a=1"), or only its part before the first '=' ("a") when `eq_val` is not NULL, and
 * then `eq_val` gets the part after it ("1"; {NULL, 0} when the entry has no '=').
 * No whitespace is trimmed; entries may be empty (",a" starts with ""), but a trailing
 * comma ends the list without one more empty entry. Returns the rest of the list after
 * the entry's comma (empty, at the end of `list`, after the last entry), or {NULL, 0}
 * when `list` is empty - there was no entry, and val / eq_val are untouched. Loop:
 * while ((list = mg_next_comma_list_entry_n(list, &v, &eq)).p != NULL) { ... } */
struct mg_str mg_next_comma_list_entry_n(struct mg_str list, struct mg_str *val,
                                         struct mg_str *eq_val);

/* mg_next_comma_list_entry_n for the NUL-terminated `list`: returns the rest of the list
 * or NULL when `list` is NULL or "" (no entry). */
const char *mg_next_comma_list_entry(const char *list, struct mg_str *val,
                                     struct mg_str *eq_val);

/* ------------------------------------------------------------------------------------
 * HTTP responses: status lines, heads, errors, redirects and chunks (Mongoose 6 section
 * 3.3). Each helper only queues bytes on nc->send_mbuf (one mg_send per head); the
 * poll loop writes them. A NULL `nc` does nothing.
 *
 * mgio fixes over Mongoose 6, common to these helpers:
 * - The status line is "HTTP/1.1 <code> <mg_status_message(code)>\r\n": every code gets
 *   its RFC 9110 reason phrase ("Unknown" for unregistered codes), never "OK" for a code
 *   other than 200. A code outside 100..999 is sent as 500.
 * - The server line is MG_SERVER_HEADER, "Server: mgio\r\n" (Mongoose 6 sent
 *   "Server: Mongoose/6.18"). Building the library with -DMG_HIDE_SERVER_INFO, or with
 *   -DMG_SERVER_HEADER='""', leaves it out; another value must be one complete field
 *   line ending in CRLF. It is a build option of the library, not of the includer.
 * - `extra_headers` is one or more field lines separated by CRLF, without the final
 *   CRLF ("Content-Type: text/html\r\nX-A: b"). NULL or empty adds nothing. Trailing
 *   CRLFs are dropped ("X-A: b\r\n" is the same as "X-A: b"). Anything else that would
 *   make the head malformed - a bare CR or LF (header injection), an empty line, a line
 *   that does not start with "token:", a control byte other than HTAB - queues
 *   nothing, and the connection is closed at once (MG_F_CLOSE_IMMEDIATELY, nc->err =
 *   EINVAL; output queued before is dropped too), so that a body the caller queues next
 *   never reaches the peer as a response of its own.
 * - 1xx and 204 heads carry neither Content-Length nor Transfer-Encoding (RFC 9110 8.6,
 *   RFC 9112 6.1).
 * - When memory runs out, the connection is closed (as with mg_send): output is never
 *   silently truncated.
 * ---------------------------------------------------------------------------------- */

#ifndef MG_SERVER_HEADER
#ifdef MG_HIDE_SERVER_INFO
#define MG_SERVER_HEADER ""
#else
#define MG_SERVER_HEADER "Server: mgio\r\n"
#endif
#endif

/* Queues the status line and the server line, then `extra_headers` and its CRLF when
 * not empty; the head stays open for more fields and the caller sends the blank line.
 * Example: (c, 200, "X-A: b") -> "HTTP/1.1 200 OK\r\nServer: mgio\r\nX-A: b\r\n". */
void mg_send_response_line(struct mg_connection *nc, int status_code,
                           const char *extra_headers);

/* As mg_send_response_line with the extra headers as a view (need not be
 * NUL-terminated; {NULL, 0} adds nothing). */
void mg_send_response_line_s(struct mg_connection *nc, int status_code,
                             const struct mg_str extra_headers);

/* Queues a whole head: the response line (as mg_send_response_line), then
 * "Transfer-Encoding: chunked\r\n" when content_length < 0 (send the body with
 * mg_send_http_chunk / mg_printf_http_chunk and end it with mg_send_http_chunk(nc, "",
 * 0)), else "Content-Length: <content_length>\r\n" (neither for 1xx and 204), then
 * the blank line. Example: (c, 404, 3, NULL) -> "HTTP/1.1 404 Not Found\r\nServer:
 * mgio\r\nContent-Length: 3\r\n\r\n". */
void mg_send_head(struct mg_connection *nc, int status_code, int64_t content_length,
                  const char *extra_headers);

/* Queues a complete error response and sets MG_F_SEND_AND_CLOSE: mg_send_head(code,
 * strlen(reason), "Content-Type: text/plain\r\nConnection: close") and the body
 * `reason` (NULL: the status's reason phrase). The status line always carries the
 * reason phrase of `code`, whatever `reason` says; `reason` may hold any bytes (it is
 * the body). For 1xx, 204 and 304 no body is sent. Example: (c, 404, NULL) ->
 * "HTTP/1.1 404 Not Found\r\nServer: mgio\r\nContent-Type: text/plain\r\n
 * Connection: close\r\nContent-Length: 9\r\n\r\nNot Found". */
void mg_http_send_error(struct mg_connection *nc, int code, const char *reason);

/* Queues a complete redirect: the response line, "Location: <location>",
 * "Content-Type: text/html", "Content-Length: <n>", "Cache-Control: no-cache", the extra
 * headers if any, the blank line and the body "<p>Moved <a href='<location>'>here</a>.
 * \r\n". mgio: in the body the location is HTML-escaped (& < > " ' as in
 * mg_printf_html_escape), so that it cannot break out of the attribute; the Location
 * field carries it verbatim. A location holding a control byte other than HTAB (CR, LF,
 * NUL ...) is refused as a malformed extra header is (nothing queued, connection
 * closed). The connection stays open (keep-alive). */
void mg_http_send_redirect(struct mg_connection *nc, int status_code,
                           const struct mg_str location, const struct mg_str extra_headers);

/* Queues one chunk of a chunked body: the length in uppercase hex, CRLF, the `len`
 * bytes at `buf`, CRLF ("5\r\nhello\r\n"). len 0 queues the last chunk "0\r\n\r\n",
 * which ends the body. The caller must have sent "Transfer-Encoding: chunked"
 * (mg_send_head with content_length < 0). NULL buf with len > 0 does nothing. */
void mg_send_http_chunk(struct mg_connection *nc, const char *buf, size_t len);

/* Formats with printf rules and queues the result as one chunk ("%d %s", 123, ":-)" ->
 * "7\r\n123 :-)\r\n"). mgio: empty output (or a format error) queues nothing -
 * Mongoose 6 queued "0\r\n\r\n" then, ending the body by accident. */
void mg_printf_http_chunk(struct mg_connection *nc, const char *fmt, ...)
    MG_PRINTF_LIKE(2, 3);

/* Formats with printf rules, replaces & < > " ' by "&amp;", "&lt;", "&gt;", "&quot;"
 * and "&#39;", and queues the result as one chunk, as mg_printf_http_chunk does
 * ("<%s>", "a&b" -> "F\r\n&lt;a&amp;b&gt;\r\n"). mgio fixes: Mongoose 6 escaped only
 * < and > (unsafe inside attribute values) and, despite its documentation, sent the
 * text without chunk framing. Empty output queues nothing. */
void mg_printf_html_escape(struct mg_connection *nc, const char *fmt, ...)
    MG_PRINTF_LIKE(2, 3);


/* ------------------------------------------------------------------------------------
 * HTTP connections: the server and client protocol layer (Mongoose 6 section 3.2).
 *
 * mg_set_protocol_http_websocket(nc) makes `nc` speak HTTP/1.1; set on a listener, every
 * accepted connection inherits it. Raw events (MG_EV_ACCEPT, MG_EV_RECV, MG_EV_SEND,
 * MG_EV_POLL, MG_EV_TIMER, MG_EV_CONNECT, MG_EV_CLOSE) reach the user handler first,
 * then the layer acts on them. Per message, from the bytes in nc->recv_mbuf:
 *
 * - MG_EV_HTTP_CHUNK (struct http_message *): the head has arrived; body = the body
 *   bytes buffered so far (de-chunked for a chunked body). It fires when the head
 *   arrives (body possibly empty), whenever more body bytes arrive, and once before the
 *   final event, so a handler sees every byte through this event. Setting
 *   MG_F_DELETE_CHUNK in nc->flags during it drops those bytes (streaming: memory stays
 *   bounded by one read whatever the body size); the flag is cleared afterwards.
 * - MG_EV_HTTP_REQUEST (server) / MG_EV_HTTP_REPLY (client): the message is complete;
 *   body = the bytes not deleted (all of it when nothing was deleted). A request's
 *   events (MG_EV_HTTP_CHUNK and MG_EV_HTTP_REQUEST) go to the endpoint registered for
 *   its URI (longest glob match) if any, else to the handler.
 *   Then the message leaves recv_mbuf, and the next pipelined one is parsed at once:
 *   requests are dispatched in order, one after the other.
 *
 * Views in the http_message point into nc->recv_mbuf and are valid only during the
 * call. hm->flags tells keep-alive, chunked, upgrade and expectations (MG_HTTP_F_*).
 *
 * Server rules (mgio fixes; DESIGN "Fixes" 1-3 and "Defaults"):
 * - A malformed or over-limit head is answered with its status (400, 414, 431, 501,
 *   505; see mg_http_parse_head), an HTTP/1.1 request without exactly one Host field
 *   with 400, an expectation other than 100-continue with 417, a body the handler
 *   buffers past the body limit with 413 - each with "Connection: close", after which
 *   the connection closes and no later request is parsed. Never a silent close.
 * - Expect: 100-continue: "HTTP/1.1 100 Continue" is sent when the body is about to be
 *   read: after the first MG_EV_HTTP_CHUNK (body empty) if the handler neither
 *   answered, closed, nor buffers a body over the limit (413 then).
 * - A request without keep-alive (Connection: close, or HTTP/1.0 without keep-alive)
 *   is the last: later bytes are ignored, and once the answer is queued (and a chunked
 *   answer or a file transfer has ended) the connection closes after sending it.
 * - After a HEAD request, mg_http_send_error, mg_http_send_redirect and the chunk
 *   senders queue no body bytes (the head alone).
 * - mg_send_head and mg_http_send_redirect add "Connection: close" when answering the
 *   last request and "Connection: keep-alive" for a persistent HTTP/1.0 one, unless
 *   the extra headers carry a Connection field.
 *
 * Client rules: responses are parsed with the same limits; a malformed one closes the
 * connection (nc->err = EPROTO) without a reply event. Interim 1xx responses other
 * than 101 are skipped. A response without Content-Length or chunked coding runs until
 * the server closes, and is delivered as MG_EV_HTTP_REPLY when it does; a response cut
 * short by a close is not delivered (the handler gets MG_EV_CLOSE only).
 *
 * Timeouts (struct mg_http_limits; a listener passes its own to the connections it
 * accepts; mgio extension, Mongoose 6 had none). Each is measured on the manager's
 * clock of the poll iteration (mgr->now), so it fires in the first iteration at or
 * after its deadline; the manager's wait never sleeps past one (c->wake_at).
 * - header_ms, server: the time to receive a whole request head. For the first request
 *   it counts from the accept; for each later one (keep-alive) from its first byte
 *   (until then idle_ms applies), and not while an earlier answer is still owed (its
 *   handler answers later, a chunked answer is open, a file is being sent).
 *   Expired: "408 Request Timeout" with Connection: close, then the lingering close.
 *   Client: the time from queueing a request (output on a connection that waits for
 *   no reply) to the reply's complete head; expired: closed (err ETIMEDOUT) with no
 *   reply event.
 * - body_ms, both sides: while a body is being read, the longest time without one of
 *   its bytes (not counted while reading is paused because recv_mbuf is at
 *   recv_mbuf_limit). Expired, server: 408 with Connection: close when nothing of the
 *   answer was queued yet (no head sent by mg_send_head or a helper, no earlier answer
 *   owed), else closed; a streaming multipart handler gets PART_END(-1) and
 *   REQUEST_END(-1) first. Client: closed (err ETIMEDOUT), no reply event.
 * - send_ms, both sides and WebSocket: while output is queued, the longest time
 *   without a byte of it leaving (a peer that does not read). Expired: closed at once
 *   (err ETIMEDOUT), nothing more is sent.
 * - idle_ms, server: after an answer has been sent whole, the longest wait for the
 *   first byte of the next request. Expired: closed quietly (nothing sent; RFC 9112
 *   9.5: a client retries an idempotent request that finds the connection closed).
 * - max_requests, server: the max_requests-th request of a connection is its last: it
 *   is answered as one without keep-alive (mg_send_head says Connection: close), and
 *   the connection closes after the answer; later bytes are not parsed.
 * - ws_handshake_ms, client: from sending the upgrade request to a complete 101.
 *   Expired: MG_EV_WEBSOCKET_HANDSHAKE_DONE with an empty message whose resp_code is
 *   0, then the connection closes (err ETIMEDOUT).
 * - ws_ping_ms, ws_pong_ms and ws_close_ms: see the WebSocket section.
 * The connection cap (mgr->max_connections, MG_MAX_CONNECTIONS) is the manager's: a
 * connection accepted over it is closed at once, before any event.
 * ---------------------------------------------------------------------------------- */

#define MG_EV_HTTP_REQUEST 100 /* struct http_message *: a complete request (server) */
#define MG_EV_HTTP_REPLY 101   /* struct http_message *: a complete response (client) */
#define MG_EV_HTTP_CHUNK 102   /* struct http_message *: body bytes so far (both sides) */
#define MG_EV_SSI_CALL 105
#define MG_EV_SSI_CALL_CTX 106
#define MG_EV_WEBSOCKET_HANDSHAKE_REQUEST 111
#define MG_EV_WEBSOCKET_HANDSHAKE_DONE 112
#define MG_EV_WEBSOCKET_FRAME 113
#define MG_EV_WEBSOCKET_CONTROL_FRAME 114
#define MG_EV_HTTP_MULTIPART_REQUEST 121
#define MG_EV_HTTP_PART_BEGIN 122
#define MG_EV_HTTP_PART_DATA 123
#define MG_EV_HTTP_PART_END 124
#define MG_EV_HTTP_MULTIPART_REQUEST_END 125

/* Makes `nc` (a listener, or a client connection) speak HTTP as described above. When
 * its state cannot be allocated, `nc` is marked to close (MG_F_CLOSE_IMMEDIATELY, err
 * ENOMEM) at the next poll: it does not stay open speaking plain TCP. */
void mg_set_protocol_http_websocket(struct mg_connection *nc);

/* mgio extension: the limits `nc` applies (a listener passes them to the connections it
 * accepts afterwards). NULL restores the defaults. Needs the HTTP protocol set first;
 * returns 0, or -1 when `nc` does not speak HTTP or memory runs out. */
int mg_http_set_limits(struct mg_connection *nc, const struct mg_http_limits *limits);

struct mg_http_endpoint_opts {
  void *user_data;         /* handed to the endpoint's handler through
                              mg_http_endpoint_user_data (nc->user_data is untouched) */
  const char *auth_domain; /* realm of the endpoint's Digest authentication */
  const char *auth_file;   /* htdigest file guarding the endpoint; NULL: none */
};

/* Routes requests whose URI matches the glob `uri_path` (mg_match_prefix rules: a
 * prefix match, "**" across '/', '$' anchors) to `handler` on listener `nc` and the
 * connections it accepts. The longest match wins; among equal lengths, the earliest
 * registered. The endpoint handler gets the request's MG_EV_HTTP_CHUNK and
 * MG_EV_HTTP_REQUEST events (and, once it handled one, also MG_EV_CLOSE of that
 * connection). Registering a pattern again replaces its
 * handler. Out of memory: nothing is registered. Sets HTTP on `nc` if not done. */
void mg_register_http_endpoint(struct mg_connection *nc, const char *uri_path,
                               mg_event_handler_t handler);

/* As mg_register_http_endpoint with options (the strings are copied). With an
 * auth_file, a request routed to the endpoint is first checked with Digest
 * authentication (mg_http_check_digest_auth2) against that htdigest file for the realm
 * auth_domain, as soon as its head arrives; a missing file authorizes nobody. When the
 * check fails, the endpoint hears nothing of the request (no event, no body, no part,
 * no upgrade): the answer is 401 with the challenge (stale=true when only the nonce
 * had expired), or 500 "auth not available" when auth_domain is not set, with
 * "Connection: close", and the connection reads nothing more. */
void mg_register_http_endpoint_opt(struct mg_connection *nc, const char *uri_path,
                                   mg_event_handler_t handler,
                                   struct mg_http_endpoint_opts opts);

/* mgio extension: opts.user_data of the endpoint handling the request on `nc` (the last
 * one routed to an endpoint), or NULL when none did. Mongoose 6 without
 * MG_ENABLE_CALLBACK_USERDATA had no way to reach it. */
void *mg_http_endpoint_user_data(struct mg_connection *nc);

/* Connects to `url` ("http://[user:pass@]host[:port][/path][?query]", no scheme = http)
 * and sends "GET" (or "POST" when post_data is not empty) with Host, Content-Length,
 * Authorization: Basic for user:pass, and `extra_headers` (field lines, CRLF-separated;
 * malformed ones are refused). The connection speaks HTTP: the handler gets
 * MG_EV_CONNECT, then MG_EV_HTTP_CHUNK / MG_EV_HTTP_REPLY. Returns NULL for an
 * unparsable URL, an https URL (no TLS: "ssl is disabled") or another scheme, with a
 * message in *opts.error_string. */
struct mg_connection *mg_connect_http(struct mg_mgr *mgr, mg_event_handler_t event_handler,
                                      const char *url, const char *extra_headers,
                                      const char *post_data);

/* As mg_connect_http with connection options. */
struct mg_connection *mg_connect_http_opt(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                          struct mg_connect_opts opts, const char *url,
                                          const char *extra_headers, const char *post_data);

/* mgio extension: mg_connect_http_opt with any method token (a HEAD request's reply is
 * parsed without a body) and a binary body of `body_len` bytes (Content-Length is sent
 * when body_len > 0 or the method is POST or PUT). */
struct mg_connection *mg_connect_http_method(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                             struct mg_connect_opts opts, const char *method,
                                             const char *url, const char *extra_headers,
                                             const void *body, size_t body_len);

/* ------------------------------------------------------------------------------------
 * Streaming multipart (Mongoose 6 section 3.6; RFC 2046 5.1, RFC 7578).
 *
 * On a server connection, a request whose Content-Type is "multipart/<subtype>" (the
 * type compared ASCII case-insensitively; Mongoose 6 compared "multipart" as sent) is
 * not buffered: its body goes through a streaming parser and reaches the request's
 * handler (its endpoint's, else the connection's) as events, in this order:
 *
 * - MG_EV_HTTP_MULTIPART_REQUEST (struct http_message *): the head, as for
 *   MG_EV_HTTP_REQUEST (views valid during the call; hm->body holds what came with the
 *   head of a Content-Length body, not yet parsed, and is empty for a chunked one). No
 *   MG_EV_HTTP_CHUNK or MG_EV_HTTP_REQUEST follows for this request.
 * - Per part: MG_EV_HTTP_PART_BEGIN, then any number of MG_EV_HTTP_PART_DATA as the
 *   bytes arrive (never an empty one; how the data is cut into events depends on how
 *   it arrives), then MG_EV_HTTP_PART_END. ev_data is a struct mg_http_multipart_part.
 * - MG_EV_HTTP_MULTIPART_REQUEST_END (struct mg_http_multipart_part *, var_name and
 *   file_name "" - Mongoose 6 passed NULL -, data empty) once the whole body has
 *   arrived: status 0 when it held the close delimiter "--boundary--", else -1.
 * Then, on a persistent connection, the next (pipelined) request is parsed; the
 * handler answers the request as for MG_EV_HTTP_REQUEST, by the end of REQUEST_END.
 *
 * struct mg_http_multipart_part, one per request, handed to every event:
 * - var_name / file_name: the part's Content-Disposition name and filename, decoded
 *   (\" and \\ unescaped), NUL-terminated heap copies owned by the library, valid from
 *   PART_BEGIN to the end of PART_END; "" (never NULL) when absent. A name holding a NUL
 *   cannot occur (NUL is refused in part headers).
 * - data: PART_DATA's bytes (a view into nc->recv_mbuf, valid during the call); empty
 *   in the other events.
 * - status: 0, or -1 on PART_END / REQUEST_END when the stream did not complete.
 * - user_data: the handler's slot, NULL at first, kept over the whole request (every
 *   part and REQUEST_END); the library never touches it.
 * - num_data_consumed: preset to data.len in PART_DATA. A handler that takes only k
 *   bytes sets it to k: the other bytes are offered again, with the data that follows,
 *   when more of the body arrives, or on the next MG_EV_POLL (once per poll iteration,
 *   so a handler that paused gets them without the peer sending more) - or at once
 *   when the body is complete (the handler must then take something each time: an
 *   offer it takes nothing of is dropped).
 *   Unconsumed bytes stay in recv_mbuf and count against the body limit (413).
 *
 * Parsing (DESIGN "Fixes" 5): the delimiter is CRLF "--" boundary followed by optional
 * SP/HTAB padding (at most 64 bytes) and CRLF, or by "--" (the close delimiter); the
 * first one may open the body without the CRLF. Data that merely contains the boundary
 * text (without the CRLF before it, or followed by other bytes) stays data. The
 * preamble before the first delimiter and the epilogue after the close delimiter are
 * skipped. Each part needs a header section (CRLF line ends, at most 8 KiB with its
 * empty line) with one Content-Disposition carrying a name parameter (quoted-string with
 * backslash escapes, or token); at most 1000 parts. The body's own framing
 * (Content-Length or chunked) still ends the request.
 *
 * Errors, each answered with "Connection: close" and the connection closed after it
 * (no later request is read); the handler gets PART_END(-1) for an open part then
 * REQUEST_END(-1), after the answer is queued:
 * - no or invalid boundary parameter (1 to 70 RFC 2046 bchars, not ending with a space;
 *   quoted or not, as mg_http_parse_header2 reads it), or a second Content-Type field:
 *   400 before any event (Mongoose 6 closed silently, or crashed: CVE-2017-7185);
 * - malformed body, LF-only line ends, a part without a name, or a body that ends
 *   without the close delimiter: 400;
 * - a part header section over mp_header bytes (default 8 KiB), or a part beyond
 *   mp_parts (default 1000): 413 (struct mg_http_limits, mg_http_set_limits). The 70
 *   characters of a boundary are RFC 2046's and fixed.
 * A connection that closes mid-stream gives PART_END(-1) (names kept) for an open part
 * and REQUEST_END(-1), before MG_EV_CLOSE.
 *
 * A handler that closes the connection (MG_F_SEND_AND_CLOSE, MG_F_CLOSE_IMMEDIATELY,
 * mg_http_send_error ...) in any of these events gets no further PART_BEGIN or
 * PART_DATA: the part that has fully arrived still gets PART_END(0) and a complete body
 * REQUEST_END(0); otherwise the stream ends with PART_END(-1) / REQUEST_END(-1) when the
 * connection closes. Memory stays bounded whatever the body size: at most a delimiter
 * prefix (about 140 bytes) or one part header section is held back, plus what the
 * handler leaves unconsumed.
 *
 * MG_ENABLE_HTTP_STREAMING_MULTIPART (default 1; Mongoose 6 defaulted to 0) is a build
 * option of the library: built with 0, multipart requests are ordinary requests
 * (buffered, MG_EV_HTTP_CHUNK and MG_EV_HTTP_REQUEST; parse them with
 * mg_parse_multipart).
 * ---------------------------------------------------------------------------------- */

#ifndef MG_ENABLE_HTTP_STREAMING_MULTIPART
#define MG_ENABLE_HTTP_STREAMING_MULTIPART 1
#endif

struct mg_http_multipart_part {
  const char *file_name;    /* filename of the part ("" when none); library-owned */
  const char *var_name;     /* name of the part ("" when none); library-owned */
  struct mg_str data;       /* PART_DATA: the bytes of this event */
  int status;               /* 0, or -1 when the stream failed (PART_END, REQUEST_END) */
  void *user_data;          /* the handler's, kept over the whole request */
  size_t num_data_consumed; /* PART_DATA: bytes the handler took (preset to data.len) */
};

/* Parses one part of a fully buffered multipart body. buf[0 .. buf_len) must start
 * with the boundary line "--boundary" (padding allowed) CRLF - the first one of the
 * body (a preamble must be skipped by the caller) or the one the previous call pointed
 * to; the boundary is read from that line. The part's header section and data are
 * parsed by the rules of the streaming parser above (a part needs a name; 8 KiB of
 * headers), and its data ends at the next delimiter: CRLF "--boundary" followed by
 * padding and CRLF, or by "--".
 * On success: var_name and file_name receive the decoded name and filename,
 * NUL-terminated ("" when absent, or when it does not fit with its NUL in
 * var_name_len / file_name_len bytes); *chunk / *chunk_len the part's data (a view
 * into buf, without the CRLF before the delimiter); and the return value is the offset
 * of the next boundary line in buf (add it to buf to parse the next part; on the close
 * delimiter "--boundary--" the next call returns 0).
 * Returns 0 - with var_name and file_name "", *chunk NULL and *chunk_len 0 - when there
 * is no further complete part: the close delimiter, no boundary line, an invalid
 * boundary, a malformed or nameless part, or no delimiter after the part. NULL or
 * zero-sized outputs are skipped; reads nothing outside buf[0 .. buf_len) (Mongoose
 * 6 read out of bounds on malformed input).
 * Example: with body "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n",
 * the first call gives var_name "a", chunk "1" and returns 52; the call at body + 52
 * ("--b--\r\n") returns 0. */
size_t mg_parse_multipart(const char *buf, size_t buf_len, char *var_name, size_t var_name_len,
                          char *file_name, size_t file_name_len, const char **chunk,
                          size_t *chunk_len);

/* The name callback of mg_file_upload_handler: given the connection and the part's
 * file name as the client sent it (decoded, NUL-terminated at fname.p[fname.len]), it
 * returns the name to store the part under, or {NULL, 0} / an empty name to refuse.
 * Ownership of the result: when its p points into fname (fname itself, or a view of
 * it) or is NULL, nothing is freed; any other p must be the start of a block from
 * malloc(), which mg_file_upload_handler frees with free() once it has read the name,
 * whatever the outcome (so a static string must not be returned). */
typedef struct mg_str (*mg_fu_fname_fn)(struct mg_connection *nc, struct mg_str fname);

/* An event handler for streaming uploads: call it from a handler (or use it as one with
 * a wrapper) for MG_EV_HTTP_PART_BEGIN, PART_DATA, PART_END and
 * MG_EV_HTTP_MULTIPART_REQUEST_END; other events are ignored. It stores each part in a
 * file of the current working directory and uses mp->user_data for its state (the
 * caller must leave that slot to it).
 * - PART_BEGIN: local_name_fn (NULL: the client's file name is used) names the file.
 *   mgio fix: the result is reduced to a safe base name - refused when it holds a NUL
 *   byte; else what follows its last '/' or '\', without leading dots (so never "." or
 *   "..", a path, or a hidden file). An empty result (a field without a filename, by
 *   default) is answered "403 Forbidden" and the connection closes after it. The file is
 *   created or truncated (O_NOFOLLOW, mode 0644); failing that: 500.
 * - PART_DATA: appends the bytes (all of them). A write error answers 413 when the disk
 *   or file size limit is reached (ENOSPC, EFBIG), else 500, and the partial file is
 *   removed.
 * - PART_END: closes the file; with status -1 (the stream failed) the partial file is
 *   removed.
 * - MULTIPART_REQUEST_END: with status 0 and no earlier error, answers "HTTP/1.1 200 OK"
 *   with "Content-Type: text/plain", "Connection: close" and the body "Ok.\r\n", and
 *   closes the connection after sending; frees its state.
 * After an error answer the remaining parts are not stored. Files written before an
 * error are kept. File I/O is blocking (local disks). */
void mg_file_upload_handler(struct mg_connection *nc, int ev, void *ev_data,
                            mg_fu_fname_fn local_name_fn);

/* ------------------------------------------------------------------------------------
 * Authentication: HTTP Basic (RFC 7617) and Digest (RFC 7616, in the RFC 2617 form with
 * MD5 and qop=auth that htdigest files hold); Mongoose 6 sections 3.4 and 3.7.
 *
 * The server side of Digest in mgio (DESIGN "Fixes" 6):
 * - Nonces verify themselves: each is its issue time, a serial number and a MAC
 *   (HMAC-SHA1, truncated to 128 bits) over both and the realm, under a per-process key
 *   of 32 bytes from the OS CSPRNG (a forked child makes its own). No per-connection
 *   state is kept; a nonce from another process, key or realm is refused, as is any
 *   altered byte. The clock is CLOCK_MONOTONIC, so wall-clock steps do not matter.
 * - A nonce is valid for MG_DIGEST_NONCE_LIFETIME seconds (300 by default;
 *   mg_http_set_digest_nonce_lifetime changes it at run time). Right credentials with
 *   an expired nonce are refused with a distinguishable result, and the 401 then says
 *   stale=true, so that the client retries with a fresh nonce without asking its user.
 * - `nc` (exactly 8 hex digits, not 0) must grow with every request made with a nonce:
 *   a per-process table of the 1024 most recently used nonces (thread-safe) keeps the
 *   highest nc of each, and a nonce too old to be in it is no longer accepted. A
 *   replayed or out-of-order nc with right credentials is refused as stale too.
 * - The `uri` parameter must equal the request target (path, and '?' and the query
 *   when the target had one), the realm must equal the server's, qop must be "auth",
 *   algorithm absent or MD5; every parameter is bounded (user, realm and cnonce 256
 *   bytes, nonce 128, uri 16 KiB); a repeated parameter or a second Authorization field
 *   is refused. The 32-digit response is compared whole, in constant time (Mongoose 6
 *   compared only as many digits as the client sent).
 * ---------------------------------------------------------------------------------- */

#ifndef MGIO_CDEF
#include <stdio.h> /* FILE */
#endif

/* Flags of mg_http_is_authorized. */
#define MG_AUTH_FLAG_IS_DIRECTORY (1 << 0)        /* `path` names a folder */
#define MG_AUTH_FLAG_IS_GLOBAL_PASS_FILE (1 << 1) /* the password file name is used as given */
#define MG_AUTH_FLAG_ALLOW_MISSING_FILE (1 << 2)  /* a missing password file authorizes */

/* Seconds a server nonce stays valid (DESIGN "Defaults"). */
#ifndef MG_DIGEST_NONCE_LIFETIME
#define MG_DIGEST_NONCE_LIFETIME 300
#endif

/* Reads Basic credentials from the Authorization field value `hdr`: the scheme "Basic"
 * (ASCII case-insensitive, surrounding whitespace ignored), one or more spaces, then
 * strict base64 (RFC 4648: length a multiple of 4, '=' only as final padding, zero pad
 * bits) of "user:password". The user ends at the first ':' and may not be empty; the
 * password is the rest (it may hold ':' or be empty). Both are written NUL-terminated
 * to `user` (user_len bytes) and `pass` (pass_len bytes). Returns 0, or -1 when `hdr`
 * is NULL, another scheme, not strict base64, has no ':' or an empty user, holds a
 * control byte (NUL, CR, LF ...; RFC 7617 2) in either part, or when a part does not
 * fit its buffer with its NUL (mgio never truncates: Mongoose 6 did, and read 6 bytes
 * past the field). Whenever a buffer is not NULL and its length is not 0 it is written:
 * "" on failure. Reads only hdr->p[0 .. hdr->len).
 * Example: "Basic Zm9vOmJhcg==" -> 0, "foo", "bar". */
int mg_parse_http_basic_auth(struct mg_str *hdr, char *user, size_t user_len, char *pass,
                             size_t pass_len);

/* mg_parse_http_basic_auth on the first Authorization field of `hm`; -1 (buffers "")
 * when there is none or `hm` is NULL. */
int mg_get_http_basic_auth(struct http_message *hm, char *user, size_t user_len, char *pass,
                           size_t pass_len);

/* Appends "Authorization: Basic <base64>\r\n" to `buf`, where the base64 encodes
 * "user:pass", or only `user` when pass.len is 0 (so `user` may already be
 * "user:pass"). Nothing is appended (buf unchanged) when memory runs out or a view is
 * {NULL, len > 0}. The caller makes sure neither part holds a control byte.
 * Example: ("foo", "bar") -> the 35 bytes "Authorization: Basic Zm9vOmJhcg==\r\n". */
void mg_basic_auth_header(const struct mg_str user, const struct mg_str pass,
                          struct mbuf *buf);

/* Client: writes a Digest Authorization field line answering the challenge with `nonce`
 * for a request `method` `uri` (the request target as sent, with its query):
 * "Authorization: Digest username=\"U\", realm=\"R\", nonce=\"N\", uri=\"URI\",
 * qop=auth, nc=00000001, cnonce=\"C\", response=\"X\", algorithm=MD5\r\n" with a cnonce
 * of 16 bytes from the OS CSPRNG (32 hex digits), HA1 = MD5(user:realm:passwd),
 * HA2 = MD5(method:uri) and X = MD5(HA1:nonce:00000001:C:auth:HA2). Quoted values get
 * '"' and '\' escaped. Returns the length of the line (without its NUL); when that is
 * >= buf_len nothing is written but "" (test as with snprintf). Returns -1 (buf "")
 * when an argument is NULL, the method is empty or not a token, a value holds a
 * control byte (no CR or LF can be injected), or the CSPRNG fails. */
int mg_http_create_digest_auth_header(char *buf, size_t buf_len, const char *method,
                                      const char *uri, const char *auth_domain,
                                      const char *user, const char *passwd,
                                      const char *nonce);

/* Checks a Digest answer against the htdigest file `fp` (lines "user:realm:HA1", HA1 =
 * 32 hex digits; read from the current position to the end; lines of any length, blank
 * or garbage ones are skipped safely): the first line whose user and realm equal
 * `username` and `auth_domain` gives HA1, and the expected response
 * MD5(HA1:nonce:nc:cnonce:qop:MD5(method:uri)) is compared with `response` in constant
 * time over all 32 hex digits (either case). Requires qop "auth", nc of 8 hex digits,
 * a 32-hex-digit response and the parameter bounds above. Returns 1 when they match,
 * else 0. It does not check the nonce (its freshness, its origin or nc replay): a
 * server calls mg_http_check_digest_auth, which does. */
int mg_check_digest_auth(struct mg_str method, struct mg_str uri, struct mg_str username,
                         struct mg_str cnonce, struct mg_str response, struct mg_str qop,
                         struct mg_str nc, struct mg_str nonce, struct mg_str auth_domain,
                         FILE *fp);

/* Server: checks the Authorization: Digest field of request `hm` for realm
 * `auth_domain` against the htdigest file `fp`, with every rule listed at the top of
 * this section: the parameters username, realm, nonce, uri, response, qop, nc and
 * cnonce, a nonce this process issued for this realm and not expired, a new nc, the
 * right response. Returns 1 when authorized, else 0 (NULL arguments too). */
int mg_http_check_digest_auth(struct http_message *hm, const char *auth_domain, FILE *fp);

/* mgio extension: mg_http_check_digest_auth that also tells why it refused: *stale (when
 * `stale` is not NULL) is set to 1 when the credentials were right but the nonce had
 * expired, was too old to be remembered, or its nc was not new - answer with
 * mg_http_send_digest_auth_request2(c, realm, 1) - and to 0 otherwise. */
int mg_http_check_digest_auth2(struct http_message *hm, const char *auth_domain, FILE *fp,
                               int *stale);

/* Queues "401 Unauthorized" with "WWW-Authenticate: Digest realm=\"<domain>\",
 * qop=\"auth\", nonce=\"<fresh nonce>\", algorithm=MD5" and Content-Length: 0, keeping
 * the connection as the request allows. A NULL domain, one over 256 bytes or holding
 * a control byte, or a CSPRNG failure gives 500 "auth not available" instead. */
void mg_http_send_digest_auth_request(struct mg_connection *c, const char *domain);

/* mgio extension: mg_http_send_digest_auth_request, adding ", stale=true" to the
 * challenge when `stale` is not 0 (RFC 7616 3.3). */
void mg_http_send_digest_auth_request2(struct mg_connection *c, const char *domain,
                                       int stale);

/* Checks request `hm` against the password file `passwords_file` for realm `domain`
 * with mg_http_check_digest_auth. The file is `passwords_file` as given with
 * MG_AUTH_FLAG_IS_GLOBAL_PASS_FILE; else "<path>/<passwords_file>" with
 * MG_AUTH_FLAG_IS_DIRECTORY; else the file of that name in the folder holding `path`
 * (up to its last '/'; the current folder when it has none). Returns 1 when
 * authorized or when `passwords_file` is NULL (nothing to check); 0 otherwise. A file
 * that does not exist (ENOENT, ENOTDIR) authorizes only with
 * MG_AUTH_FLAG_ALLOW_MISSING_FILE; one that exists but cannot be opened never does
 * (mgio fix: fail closed). A NULL `domain` with a file gives 0 (Mongoose 6 gave 1). */
int mg_http_is_authorized(struct http_message *hm, struct mg_str path, const char *domain,
                          const char *passwords_file, int flags);

/* mgio extension: sets how many seconds a server nonce stays valid, for the whole
 * process (0 restores MG_DIGEST_NONCE_LIFETIME); returns the previous value.
 * Thread-safe. */
unsigned int mg_http_set_digest_nonce_lifetime(unsigned int seconds);

/* ------------------------------------------------------------------------------------
 * Static files (Mongoose 6 section 3.7).
 * ---------------------------------------------------------------------------------- */

struct mg_serve_http_opts {
  const char *document_root;
  const char *index_files;
  const char *per_directory_auth_file;
  const char *auth_domain;
  const char *global_auth_file;
  const char *enable_directory_listing;
  const char *ssi_pattern;
  const char *ip_acl;
  const char *url_rewrites;
  const char *dav_document_root;
  const char *dav_auth_file;
  const char *hidden_file_pattern;
  const char *cgi_file_pattern;
  const char *cgi_interpreter;
  const char *custom_mime_types;
  const char *extra_headers;
};

/* Answers request `hm` on `nc` with the file at `path`, a file system path used as
 * given (no document root, no confinement: mg_serve_http adds those). NULL nc, hm or
 * path does nothing.
 *
 * - Any method gets the file; HEAD gets the same head and no body.
 * - Conditional GET and HEAD (RFC 9110 13.2.2): If-None-Match, when present, decides
 *   alone ("*", or a listed entity tag equal to the ETag under weak comparison); else
 *   If-Modified-Since (any of the three HTTP-date forms; ignored when invalid) when the
 *   file's mtime is not later than the date. Then the answer is 304 with Date,
 *   Last-Modified, ETag and Connection, and no body or Content-Length.
 * - Range, for GET only, and only when an If-Range field (if any) equals the ETag or
 *   the Last-Modified date: one range "bytes=a-b", "bytes=a-" or "bytes=-n" (unit
 *   case-insensitive) is answered 206 with "Content-Range: bytes a-b/size", clamped to
 *   the file; a range starting at or past the end, "bytes=-0", b < a, or a malformed
 *   value is 416 with "Content-Length: 0" and a Content-Range of "bytes", a space,
 *   '*', '/' and the size (the unsatisfied-range form of RFC 9110 14.4); several
 *   ranges, another unit, or a suffix range of an empty file give the whole file
 *   (200).
 * - The head, in this order: status line, server line (MG_SERVER_HEADER),
 *   `extra_headers`, Date, Last-Modified (IMF-fixdate of the mtime), "Accept-Ranges:
 *   bytes", Content-Type, "Connection: keep-alive" or "close" (from hm->flags &
 *   MG_HTTP_F_KEEP_ALIVE), Content-Length, Content-Range (206 and 416), and
 *   ETag "\"<mtime in lower-case hex>.<size in decimal>\"".
 * - Content-Type is `mime_type`, or when that is empty the built-in type for the file
 *   name's extension (see mg_serve_http; unknown: text/plain).
 * - The body: up to 64 KiB is read into nc->send_mbuf at once; a larger one is read in
 *   pieces as the socket drains (never whole: at most about 64 KiB is queued), and
 *   later pipelined requests wait until it is sent. The file stays open until then or
 *   until the connection closes. A file that shrinks meanwhile closes the connection
 *   (its length was promised). Streaming needs a connection speaking HTTP
 *   (mg_set_protocol_http_websocket); on any other, a body over 64 KiB closes the
 *   connection after the head.
 * - Errors, each with a text/plain body holding the reason phrase and with
 *   `extra_headers`: opening or stat-ing fails with ENOENT, ENOTDIR or ENAMETOOLONG ->
 *   404, EACCES, EPERM or ELOOP -> 403, anything else -> 500; not a regular file
 *   (folder, FIFO, device, socket) -> 403. The file is opened with O_NONBLOCK, so a
 *   FIFO never blocks the loop. 5xx answers close the connection after sending.
 * - `extra_headers`: field lines as for mg_send_response_line (CRLF-separated, a final
 *   CRLF optional; {NULL, 0} for none). Malformed ones, or a `mime_type` holding a
 *   control byte, queue nothing and close the connection at once (nc->err = EINVAL).
 * Nothing is kept from `hm` or the strings after the call returns. */
void mg_http_serve_file(struct mg_connection *nc, struct http_message *hm, const char *path,
                        const struct mg_str mime_type, const struct mg_str extra_headers);

/* Answers request `hm` on `nc` from the folder opts.document_root. NULL nc or hm does
 * nothing; hm is not modified (Mongoose 6 rewrote hm->uri in place). The strings of
 * `opts` are only read during the call. Options (NULL: the default):
 * - document_root: the folder served; default ".".
 * - index_files: comma-separated names tried in order for a folder; default
 *   "index.html,index.htm".
 * - enable_directory_listing: "yes" (the default; ASCII case-insensitive) lists a
 *   folder that has no index file; any other value answers 403 instead.
 * - hidden_file_pattern: a glob matched by mg_match_prefix_n (ASCII case-insensitive,
 *   a prefix match: end it with '$' to match whole names, e.g. "**.bak$|.git$")
 *   against each segment of the path, so hiding a folder hides what it holds. Hidden
 *   -> 404, and left out of listings.
 * - per_directory_auth_file: its name (default ".htpasswd") is never served (404) nor
 *   listed, in any folder, compared ASCII case-insensitively.
 * - custom_mime_types: "ext=type,..." tried in order before the built-in table. An
 *   entry matches when the path ends with ext (ASCII case-insensitively) and that
 *   suffix starts with '.', follows a '.' or '/', or is the whole name:
 *   ".txt=text/x-a", "txt=text/x-a", ".tar.gz=application/x-tgz", "Makefile=text/plain".
 *   Entries with an empty ext or type, or a type holding a control byte, are skipped.
 *   The built-in table maps common extensions (html, css, js, json, png, svg, wasm,
 *   mp4, woff2, pdf, zip, ...) case-insensitively; anything else is text/plain.
 * - extra_headers: field lines (as for mg_http_serve_file) added to every answer:
 *   files, 304, 416, listings, redirects and errors.
 * - ip_acl: checked first with mg_check_ip_acl against the peer's IPv4 address (also
 *   one mapped into IPv6): denied -> 403, malformed ACL -> 500. The ACL syntax is IPv4
 *   only, so a peer with a real IPv6 address is denied whenever an ACL is set.
 * - global_auth_file, per_directory_auth_file, auth_domain: Digest authentication
 *   (see "Authentication") with htdigest files for the realm auth_domain.
 *   global_auth_file guards every request (a missing or unreadable file lets nobody
 *   in). A per-directory file (default ".htpasswd") guards the folder it sits in and
 *   everything below it: the nearest one in the target's canonical folder or a folder
 *   above it, up to the root, applies (for a missing target, its deepest existing
 *   folder's); folders without one are open. A refused request gets 401 with the
 *   challenge (stale=true when only the nonce had expired). Without auth_domain,
 *   global_auth_file and an explicitly named per_directory_auth_file that applies
 *   answer 500 "auth not available", never serving unprotected, while the default
 *   ".htpasswd" guards nothing (Mongoose 6: no realm, no check). Password files are
 *   never served: the per-directory name is hidden in every folder, and the
 *   global_auth_file itself is 404 when it lies inside the root.
 * - ssi_pattern, url_rewrites, dav_document_root, dav_auth_file, cgi_file_pattern and
 *   cgi_interpreter are ignored: SSI, rewrites, WebDAV and CGI are not supported.
 *
 * The request is handled in this order:
 * 1. ip_acl, then global_auth_file, as above.
 * 2. The method (case-sensitive): GET and HEAD are served. OPTIONS "*" is answered 200
 *    with "Allow: GET, HEAD, OPTIONS"; OPTIONS on a path gets that answer once the
 *    target is found (step 7). POST, PUT, DELETE, PATCH, CONNECT, TRACE, PROPFIND,
 *    PROPPATCH, MKCOL, COPY, MOVE, LOCK, UNLOCK, SEARCH, REPORT and MKCALENDAR -> 405
 *    with the same Allow field; any other token -> 501.
 * 3. The target (hm->uri; origin-form, or http(s) absolute-form whose path is used) is
 *    percent-decoded ('+' stays '+') and then normalised with mg_normalize_uri_path, so
 *    "..", also written "%2e%2e", never climbs above the root. A malformed escape or a
 *    target that is not a path -> 400; an encoded '/' ("%2f", which would put a '/'
 *    inside a name) or an encoded NUL ("%00") -> 404.
 * 4. The per-directory password file, as above (before anything about the target is
 *    revealed: 301, 404 and listings come after it). Then a hidden segment -> 404.
 * 5. Confinement: the canonical path of root + path (realpath(3): every symlink
 *    resolved) must lie inside the canonical root, else 404 - a symlink in the root is
 *    followed only when it leads to somewhere inside the root. The file is then opened
 *    by that canonical path with O_NOFOLLOW. (A user able to write inside the root
 *    could still swap a folder for a symlink between the check and the open; the
 *    root's content is trusted not to.) A missing target -> 404, EACCES -> 403, other
 *    errors -> 500.
 * 6. A folder requested without a final '/' -> 301 with "Location: <path>/", built
 *    from the normalised path re-encoded with mg_url_encode and repeated '/'
 *    collapsed (never "//host"), with the query kept.
 * 7. OPTIONS -> 200 with the Allow field.
 * 8. A folder: its first index file that is a regular file, not hidden and inside the
 *    root is served as a file; else the listing, or 403 when listings are disabled.
 *    The listing is an HTML page ("text/html; charset=utf-8"): folders first, then
 *    files, each sorted by name, with date and size. Names are HTML-escaped
 *    (& < > " ') in the text and percent-encoded in the links; hidden names and
 *    symlinks leading out of the root are left out. HTTP/1.1 gets it with
 *    "Transfer-Encoding: chunked", HTTP/1.0 with Content-Length; HEAD gets the head.
 * 9. A file: as mg_http_serve_file, with the media type chosen as above.
 * Every answer carries Date, extra_headers and "Connection: keep-alive" or "close" as
 * the request allows; errors have a text/plain body (the reason phrase), and 400 and
 * 5xx answers close the connection after sending. */
void mg_serve_http(struct mg_connection *nc, struct http_message *hm,
                   struct mg_serve_http_opts opts);

/* ------------------------------------------------------------------------------------
 * WebSocket (RFC 6455, Mongoose 6 section 3.5), on connections that speak HTTP.
 *
 * Server: a complete request that asks for an upgrade (an Upgrade field naming
 * websocket, or a Sec-WebSocket-Key) goes through MG_EV_WEBSOCKET_HANDSHAKE_REQUEST
 * (struct http_message *; to the endpoint matching its URI, if any) when it is a valid
 * one: GET, HTTP/1.1, Connection: upgrade, Upgrade: websocket, a valid Sec-WebSocket-Key
 * and Sec-WebSocket-Version 13. Otherwise it is answered 426 with
 * "Sec-WebSocket-Version: 13" (another version) or 400, and closed (mgio fix: Mongoose
 * 6 upgraded any request carrying a key). The handler may refuse (mg_http_send_error,
 * or close), or answer the handshake itself (then no automatic 101 is sent). Otherwise
 * mgio answers 101 with Sec-WebSocket-Accept, a subprotocol (the client's first offer,
 * or the one chosen with mg_websocket_select_protocol) and, when offered and enabled,
 * permessage-deflate. Then MG_F_IS_WEBSOCKET is set,
 * MG_EV_WEBSOCKET_HANDSHAKE_DONE fires (with the request), and bytes that followed the
 * request are read as frames.
 *
 * Client: mg_connect_ws (or mg_connect + mg_set_protocol_http_websocket +
 * mg_send_websocket_handshake*) sends the upgrade request with a key from the OS
 * CSPRNG. The reply goes to MG_EV_WEBSOCKET_HANDSHAKE_DONE (struct http_message *): a
 * success is 101 with the right Sec-WebSocket-Accept (verified, mgio fix), Upgrade and
 * Connection fields, a subprotocol among those offered and a valid extension answer;
 * anything else is reported with its status (resp_code; 0 when the reply itself was
 * invalid) and the connection closes after the event.
 *
 * Frames: every data message arrives as one MG_EV_WEBSOCKET_FRAME (struct
 * websocket_message *: data, size, flags = FIN | opcode of its first frame), reassembled
 * from its fragments (or each fragment as it comes with MG_F_WEBSOCKET_NO_DEFRAG, which
 * also declines compression), decompressed when permessage-deflate is on. Control frames
 * (Close, Ping, Pong) arrive as MG_EV_WEBSOCKET_CONTROL_FRAME, also between fragments; a
 * Ping is answered with a Pong before the event, a Close is answered with a Close (same
 * code) and the connection then closes. data points into the connection's buffers and
 * is valid during the event only.
 *
 * The peer is held to RFC 6455 (mgio fixes, DESIGN "Fixes" 4): an unmasked frame to a
 * server or a masked one to a client, reserved bits (RSV1 outside a compressed
 * message's first frame), reserved opcodes, fragmented or over-125-byte control frames,
 * a continuation without a message or a new message inside one, a non-minimal length,
 * an invalid close code or a 1-byte Close -> Close 1002; text or a close reason that is
 * not UTF-8 -> 1007, detected as soon as the bad byte arrives, even inside a fragment
 * (a compressed message is checked when it is inflated, at its end); a message over
 * ws_message bytes (inflated; on the wire a compressed one may take deflate's worst
 * case, ws_message / 256 + 1 KiB more) or ws_fragments frames (mg_http_set_limits) ->
 * 1009 as soon as its announced length says so. After sending a Close, mgio waits up
 * to ws_close_ms for the peer's, then closes. A connection that received nothing for
 * ws_ping_ms gets a Ping (checked on each poll, so as precisely as the poll loop runs);
 * when nothing at all arrives within ws_pong_ms after it (0: wait for ever), the peer is
 * taken for gone: Close 1011 and the connection closes (err ETIMEDOUT). Any input counts,
 * not only the Pong: a peer busy sending is alive.
 * ---------------------------------------------------------------------------------- */

#define WEBSOCKET_OP_CONTINUE 0
#define WEBSOCKET_OP_TEXT 1
#define WEBSOCKET_OP_BINARY 2
#define WEBSOCKET_OP_CLOSE 8
#define WEBSOCKET_OP_PING 9
#define WEBSOCKET_OP_PONG 10
#define WEBSOCKET_DONT_FIN 0x100 /* op_and_flags: more fragments of this message follow */

struct websocket_message {
  unsigned char *data; /* the payload (a whole message, or one control frame) */
  size_t size;         /* its length in bytes */
  unsigned char flags; /* FIN | opcode: 0x81 text, 0x82 binary, 0x88 close, 0x89 ping... */
};

/* Sends a WebSocket upgrade request on `nc` (which speaks HTTP, or is made to): GET
 * `path` ("/" when empty) HTTP/1.1 with Upgrade, Connection, Sec-WebSocket-Version: 13,
 * a fresh Sec-WebSocket-Key, Host `host` when not empty, Sec-WebSocket-Protocol
 * `protocol` when not empty, Authorization: Basic for `user` (and `pass`) when `user`
 * is not empty, Sec-WebSocket-Extensions offering permessage-deflate when enabled, and
 * `extra_headers` (field lines; malformed ones refuse the request and close `nc`). */
void mg_send_websocket_handshake3v(struct mg_connection *nc, const struct mg_str path,
                                   const struct mg_str host, const struct mg_str protocol,
                                   const struct mg_str extra_headers, const struct mg_str user,
                                   const struct mg_str pass);

/* mg_send_websocket_handshake3v with C strings (NULL is empty). */
void mg_send_websocket_handshake3(struct mg_connection *nc, const char *path, const char *host,
                                  const char *protocol, const char *extra_headers,
                                  const char *user, const char *pass);

/* mg_send_websocket_handshake3 without credentials. */
void mg_send_websocket_handshake2(struct mg_connection *nc, const char *path, const char *host,
                                  const char *protocol, const char *extra_headers);

/* mg_send_websocket_handshake2 with only a path ("uri") and extra headers (deprecated). */
void mg_send_websocket_handshake(struct mg_connection *nc, const char *uri,
                                 const char *extra_headers);

/* Connects to `url` ("ws://[user:pass@]host[:port][/path][?query]", or http://; no
 * scheme = ws) and sends the upgrade request with `protocol` and `extra_headers` (NULL:
 * none). Returns NULL for an unparsable URL, wss:// or https:// ("ssl is disabled") or
 * another scheme, with the text in *opts.error_string. */
struct mg_connection *mg_connect_ws(struct mg_mgr *mgr, mg_event_handler_t event_handler,
                                    const char *url, const char *protocol,
                                    const char *extra_headers);

/* As mg_connect_ws with connection options. */
struct mg_connection *mg_connect_ws_opt(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                        struct mg_connect_opts opts, const char *url,
                                        const char *protocol, const char *extra_headers);

/* Sends one frame: opcode op_and_flags & 0x0f, FIN unless WEBSOCKET_DONT_FIN is set
 * (continue a fragmented message with WEBSOCKET_OP_CONTINUE frames), the payload
 * `data_len` bytes at `data`. A client masks it with a key from the OS CSPRNG. A whole
 * text or binary message is compressed when permessage-deflate is on. A Close frame's
 * payload is a 2-byte code and a reason; sending one starts the closing handshake, and
 * nothing is sent after it. Control payloads over 125 bytes and sends on a connection
 * that is not a WebSocket are refused (nothing queued). */
void mg_send_websocket_frame(struct mg_connection *nc, int op_and_flags, const void *data,
                             size_t data_len);

/* As mg_send_websocket_frame with the payload made of `num_strings` pieces. */
void mg_send_websocket_framev(struct mg_connection *nc, int op_and_flags,
                              const struct mg_str *strings, int num_strings);

/* As mg_send_websocket_frame with a printf-formatted payload; nothing when it is empty. */
void mg_printf_websocket_frame(struct mg_connection *nc, int op_and_flags, const char *fmt,
                               ...) MG_PRINTF_LIKE(3, 4);

/* mgio extension: during MG_EV_WEBSOCKET_HANDSHAKE_REQUEST, chooses the subprotocol the
 * automatic 101 names: `protocol` must be one the client offered (otherwise, or for
 * NULL or "", the 101 names none). Without a call, the 101 names the client's first
 * offer (as Mongoose 6 did). */
void mg_websocket_select_protocol(struct mg_connection *nc, const char *protocol);

/* mgio extension: starts the closing handshake with `code` (a valid close code, or 0 for
 * none) and a UTF-8 `reason` of up to 123 bytes (longer is cut at a character
 * boundary). */
void mg_websocket_close(struct mg_connection *nc, int code, const char *reason);

#ifdef __cplusplus
}
#endif

#endif /* MGIO_H */
