/*
 * Socket addresses as text: parsing "[tcp://|udp://][HOST]:PORT" address strings,
 * rendering addresses back ("1.2.3.4:80", "[::1]:80"), IPv4 access-control lists, and
 * the local socket pairs the manager uses for wakeups.
 *
 * Choices the reference leaves open:
 * - IPv6 zone ids: "[fe80::1%2]:80" takes a numeric zone (interface index) only; an
 *   interface name ("%eth0") is an error, since mapping names needs an interface lookup
 *   that a parser should not do. Rendering appends "%N" when the scope id is nonzero, so
 *   the text parses back to the same address.
 * - Host names: letters, digits, '-', '.', '_'. A name whose last label is a number
 *   (decimal, or 0x-hex) is an error, not a name: "1.2.3", "1.2.3.4.5", "127.1" and
 *   "0x7f.1" are malformed numbers that getaddrinfo would otherwise quietly turn into
 *   some address through inet_aton's shorthand forms.
 * - IPv4 literals are exactly four decimal octets without leading zeros ("010" would
 *   read as octal elsewhere), in addresses and ACLs alike.
 * - ACL entries need all four octets ("+192.168.0.0/16", not "+192.168/16"): a short
 *   form without a mask would be ambiguous. No spaces are allowed around entries.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../base/ascii.h"
#include "internal.h"

/* Room for "[" v6 "%" 4294967295 "]:65535" and the NUL, with margin. */
#define MG__ADDR_TEXT_MAX 80

static int is_digit(int c) {
  return c >= '0' && c <= '9';
}

/* Parses the n bytes at p as 1..max_digits decimal digits with a value <= max. */
static int parse_uint(const char *p, size_t n, size_t max_digits, unsigned long max,
                      unsigned long *out) {
  unsigned long v = 0;
  if (n == 0 || n > max_digits) return 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_digit((unsigned char) p[i])) return 0;
    v = v * 10 + (unsigned long) (p[i] - '0'); /* max_digits <= 10 cannot overflow */
  }
  if (v > max) return 0;
  *out = v;
  return 1;
}

/* Parses exactly "a.b.c.d" (decimal octets, no leading zeros) from the n bytes at p.
 * *ip is in host byte order. */
static int parse_ipv4(const char *p, size_t n, uint32_t *ip) {
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    size_t start = i;
    unsigned long octet;
    while (i < n && p[i] != '.') i++;
    if (i - start > 1 && p[start] == '0') return 0;
    if (!parse_uint(p + start, i - start, 3, 255, &octet)) return 0;
    v = v << 8 | (uint32_t) octet;
    if (part < 3) {
      if (i == n) return 0;
      i++; /* the dot */
    }
  }
  if (i != n) return 0; /* a fifth part, or a trailing dot */
  *ip = v;
  return 1;
}

/* A label that inet_aton would read as a number: decimal/octal digits, or 0x and hex. */
static int is_numeric_label(const char *p, size_t n) {
  size_t i = 0;
  if (n >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    i = 2;
    while (i < n && mg__hex_value((unsigned char) p[i]) >= 0) i++;
    return i == n;
  }
  while (i < n && is_digit((unsigned char) p[i])) i++;
  return n > 0 && i == n;
}

/* Whether the n bytes at p are a name worth handing to the resolver (see the top). */
static int is_host_name(const char *p, size_t n) {
  size_t last = 0; /* start of the last label */
  if (n > 0 && p[n - 1] == '.') n--; /* an absolute name "example.com." */
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char) p[i];
    int lower = mg__ascii_lower(c);
    if (c == '.') {
      last = i + 1;
    } else if (!is_digit(c) && !(lower >= 'a' && lower <= 'z') && c != '-' && c != '_') {
      return 0;
    }
  }
  return last < n && !is_numeric_label(p + last, n - last);
}

static int is_localhost(const char *p, size_t n) {
  static const char name[] = "localhost";
  if (n != sizeof(name) - 1) return 0;
  for (size_t i = 0; i < n; i++) {
    if (mg__ascii_lower((unsigned char) p[i]) != name[i]) return 0;
  }
  return 1;
}

static void set_ipv4(union socket_address *sa, uint32_t ip, uint16_t port) {
  sa->sin.sin_family = AF_INET;
  sa->sin.sin_port = htons(port);
  sa->sin.sin_addr.s_addr = htonl(ip);
}

/* The inside of "[...]": an IPv6 literal with an optional numeric zone "%N". */
static int parse_ipv6_host(const char *p, size_t n, uint16_t port,
                           union socket_address *sa) {
  char text[INET6_ADDRSTRLEN];
  const char *pct = memchr(p, '%', n);
  size_t addr_len = pct != NULL ? (size_t) (pct - p) : n;
  unsigned long scope = 0;
  if (addr_len >= sizeof(text)) return MG__PARSE_ERROR;
  if (pct != NULL && !parse_uint(pct + 1, n - addr_len - 1, 10, 0xffffffffUL, &scope)) {
    return MG__PARSE_ERROR;
  }
  memcpy(text, p, addr_len); /* inet_pton wants a NUL-terminated string */
  text[addr_len] = '\0';
  if (inet_pton(AF_INET6, text, &sa->sin6.sin6_addr) != 1) return MG__PARSE_ERROR;
  sa->sin6.sin6_family = AF_INET6;
  sa->sin6.sin6_port = htons(port);
  sa->sin6.sin6_scope_id = (uint32_t) scope;
  return MG__PARSE_NUMERIC;
}

/* An unbracketed host: empty (any address), IPv4 literal, "localhost", or a name. */
static int parse_plain_host(const char *p, size_t n, uint16_t port,
                            union socket_address *sa, char *host, size_t host_len) {
  uint32_t ip = 0; /* INADDR_ANY when the host is empty */
  if (n == 0 || parse_ipv4(p, n, &ip)) {
    set_ipv4(sa, ip, port);
    return MG__PARSE_NUMERIC;
  }
  if (is_localhost(p, n)) {
    set_ipv4(sa, 0x7f000001, port);
    return MG__PARSE_NUMERIC;
  }
  if (!is_host_name(p, n) || host == NULL || n >= host_len) return MG__PARSE_ERROR;
  memcpy(host, p, n);
  host[n] = '\0';
  set_ipv4(sa, 0, port); /* the family and port the resolver's answer will keep */
  return MG__PARSE_NAME;
}

/* Splits "HOST:PORT", "[HOST]:PORT", ":PORT" or "PORT" (after the scheme). Returns 1 for
 * a bracketed host, 0 for a plain (possibly empty) one, -1 when malformed. */
static int split_host_port(const char *str, const char **h, size_t *h_len,
                           const char **port) {
  const char *sep;
  if (str[0] == '[') {
    sep = strchr(str, ']');
    if (sep == NULL || sep[1] != ':') return -1; /* unterminated, or no port */
    *h = str + 1;
    *h_len = (size_t) (sep - *h);
    *port = sep + 2;
    return 1;
  }
  sep = strchr(str, ':');
  *h = str;
  *h_len = sep != NULL ? (size_t) (sep - str) : 0;
  *port = sep != NULL ? sep + 1 : str;
  return 0;
}

int mg__parse_address(const char *str, union socket_address *sa, int *sock_type, char *host,
                      size_t host_len) {
  const char *h, *port_text;
  size_t h_len;
  unsigned long port;
  int bracketed;
  memset(sa, 0, sizeof(*sa));
  *sock_type = SOCK_STREAM;
  if (host != NULL && host_len > 0) host[0] = '\0';
  if (str == NULL) return MG__PARSE_ERROR;
  /* strncmp stops at the NUL, so short inputs are never read past their end. */
  if (strncmp(str, "udp://", 6) == 0) {
    *sock_type = SOCK_DGRAM;
    str += 6;
  } else if (strncmp(str, "tcp://", 6) == 0) {
    str += 6;
  }
  bracketed = split_host_port(str, &h, &h_len, &port_text);
  if (bracketed < 0) return MG__PARSE_ERROR;
  if (!parse_uint(port_text, strlen(port_text), 5, 65535, &port)) return MG__PARSE_ERROR;
  if (bracketed) return parse_ipv6_host(h, h_len, (uint16_t) port, sa);
  return parse_plain_host(h, h_len, (uint16_t) port, sa, host, host_len);
}

unsigned int mg__sa_len(const union socket_address *sa) {
  if (sa->sa.sa_family == AF_INET6) return (unsigned int) sizeof(sa->sin6);
  return (unsigned int) sizeof(sa->sin);
}

/* The IP of an AF_INET or AF_INET6 address as text (v6 with "%scope" when set) and its
 * port. Returns 0 for other families. */
static int ip_text(const union socket_address *sa, char *out, size_t out_len,
                   unsigned int *port) {
  if (sa->sa.sa_family == AF_INET) {
    *port = ntohs(sa->sin.sin_port);
    return inet_ntop(AF_INET, &sa->sin.sin_addr, out, (socklen_t) out_len) != NULL;
  }
  if (sa->sa.sa_family == AF_INET6) {
    *port = ntohs(sa->sin6.sin6_port);
    if (inet_ntop(AF_INET6, &sa->sin6.sin6_addr, out, (socklen_t) out_len) == NULL) return 0;
    if (sa->sin6.sin6_scope_id != 0) {
      size_t n = strlen(out);
      snprintf(out + n, out_len - n, "%%%lu", (unsigned long) sa->sin6.sin6_scope_id);
    }
    return 1;
  }
  return 0;
}

/* Formats what `flags` asks for into out (MG__ADDR_TEXT_MAX bytes); returns its length,
 * 0 when there is nothing to show. */
static size_t format_addr(const union socket_address *sa, int flags, char *out) {
  char ip[MG__ADDR_TEXT_MAX - 8];
  unsigned int port = 0;
  int want_ip = flags & MG_SOCK_STRINGIFY_IP, want_port = flags & MG_SOCK_STRINGIFY_PORT;
  int n = 0;
  if ((!want_ip && !want_port) || !ip_text(sa, ip, sizeof(ip), &port)) return 0;
  if (want_ip && want_port) {
    /* Brackets keep the port's colon apart from the address's own colons. */
    const char *fmt = sa->sa.sa_family == AF_INET6 ? "[%s]:%u" : "%s:%u";
    n = snprintf(out, MG__ADDR_TEXT_MAX, fmt, ip, port);
  } else if (want_ip) {
    n = snprintf(out, MG__ADDR_TEXT_MAX, "%s", ip);
  } else {
    n = snprintf(out, MG__ADDR_TEXT_MAX, "%u", port);
  }
  return n > 0 && n < MG__ADDR_TEXT_MAX ? (size_t) n : 0;
}

int mg_sock_addr_to_str(const union socket_address *sa, char *buf, size_t len, int flags) {
  char text[MG__ADDR_TEXT_MAX];
  size_t n = sa != NULL ? format_addr(sa, flags, text) : 0;
  if (buf == NULL || len == 0) return 0;
  if (n >= len) n = 0; /* all or nothing: a cut-off address would mislead */
  memcpy(buf, text, n);
  buf[n] = '\0';
  return (int) n;
}

/* The socket's peer (remote) or local address; family AF_UNSPEC when unavailable. */
static void socket_addr(sock_t sock, int remote, union socket_address *sa) {
  socklen_t sl = sizeof(*sa);
  int rc = -1;
  memset(sa, 0, sizeof(*sa));
  if (sock != INVALID_SOCKET) {
    rc = remote ? getpeername(sock, &sa->sa, &sl) : getsockname(sock, &sa->sa, &sl);
  }
  if (rc != 0) memset(sa, 0, sizeof(*sa));
}

int mg_conn_addr_to_str(struct mg_connection *c, char *buf, size_t len, int flags) {
  union socket_address sa;
  if (c == NULL) return mg_sock_addr_to_str(NULL, buf, len, flags);
  /* c->sa is the peer even for UDP, where getpeername has nothing to say. */
  if (flags & MG_SOCK_STRINGIFY_REMOTE) return mg_sock_addr_to_str(&c->sa, buf, len, flags);
  socket_addr(c->sock, 0, &sa);
  return mg_sock_addr_to_str(&sa, buf, len, flags);
}

void mg_sock_to_str(sock_t sock, char *buf, size_t len, int flags) {
  union socket_address sa;
  socket_addr(sock, (flags & MG_SOCK_STRINGIFY_REMOTE) != 0, &sa);
  mg_sock_addr_to_str(&sa, buf, len, flags);
}

/* One ACL entry "+a.b.c.d[/n]" in the n bytes at p: its sign, network and mask. */
static int parse_acl_entry(const char *p, size_t n, int *allow, uint32_t *net,
                           uint32_t *mask) {
  const char *slash;
  size_t ip_len;
  unsigned long bits = 32;
  if (n < 2 || (p[0] != '+' && p[0] != '-')) return 0;
  *allow = p[0] == '+';
  p++;
  n--;
  slash = memchr(p, '/', n);
  ip_len = slash != NULL ? (size_t) (slash - p) : n;
  if (slash != NULL && !parse_uint(slash + 1, n - ip_len - 1, 2, 32, &bits)) return 0;
  if (!parse_ipv4(p, ip_len, net)) return 0;
  *mask = bits == 0 ? 0 : 0xffffffffU << (32 - bits); /* a shift by 32 is undefined */
  return 1;
}

int mg_check_ip_acl(const char *acl, uint32_t remote_ip) {
  int allowed;
  if (acl == NULL || acl[0] == '\0') return 1;
  /* Without a match the answer is the opposite of the first rule: a list that starts
   * by allowing is an allow-list, one that starts by denying is a deny-list. */
  allowed = acl[0] != '+';
  for (;;) {
    size_t n = strcspn(acl, ",");
    int allow;
    uint32_t net, mask;
    if (!parse_acl_entry(acl, n, &allow, &net, &mask)) return -1;
    if ((remote_ip & mask) == (net & mask)) allowed = allow; /* the last match wins */
    if (acl[n] == '\0') return allowed;
    acl += n + 1;
  }
}

#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
/* Set atomically, so a fork in another thread never inherits the pair. */
static int socket_pair(int sock_type, int fds[2]) {
  return socketpair(AF_UNIX, sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0;
}
#else
static int nonblock_cloexec(int fd) {
  int fl = fcntl(fd, F_GETFL);
  return fl >= 0 && fcntl(fd, F_SETFL, fl | O_NONBLOCK) == 0 &&
         fcntl(fd, F_SETFD, FD_CLOEXEC) == 0;
}

static int socket_pair(int sock_type, int fds[2]) {
  if (socketpair(AF_UNIX, sock_type, 0, fds) != 0) return 0;
  if (nonblock_cloexec(fds[0]) && nonblock_cloexec(fds[1])) return 1;
  close(fds[0]);
  close(fds[1]);
  return 0;
}
#endif

int mg_socketpair(sock_t sp[2], int sock_type) {
  int fds[2];
  if (sp == NULL) return 0;
  sp[0] = sp[1] = INVALID_SOCKET;
  /* A Unix-domain pair is loopback without a port, a listener or a connect race. */
  if (sock_type != SOCK_STREAM && sock_type != SOCK_DGRAM) return 0;
  if (!socket_pair(sock_type, fds)) return 0;
  sp[0] = fds[0];
  sp[1] = fds[1];
  return 1;
}
