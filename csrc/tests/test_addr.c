/* Address strings (the internal parser included), address rendering, IPv4 ACLs and socket
 * pairs. Every parsed input is copied to a heap block of its exact size, so ASan and
 * valgrind report any read past its NUL. */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../net/internal.h"
#include "mgio.h"
#include "test.h"

/* mg__parse_address on an exact-size heap copy of `str`. */
static int parse(const char *str, union socket_address *sa, int *type, char *host,
                 size_t host_len) {
  size_t n = strlen(str) + 1;
  char *copy = test_malloc(n);
  int rc;
  if (copy == NULL) return -99;
  memcpy(copy, str, n);
  rc = mg__parse_address(copy, sa, type, host, host_len);
  test_free(copy);
  return rc;
}

/* `str` parses as a numeric address of `type` whose IP|PORT text is `text`. */
static int numeric(const char *str, int type, const char *text) {
  union socket_address sa;
  char host[64] = "x", out[96];
  int t = -1;
  if (parse(str, &sa, &t, host, sizeof(host)) != MG__PARSE_NUMERIC) return 0;
  mg_sock_addr_to_str(&sa, out, sizeof(out), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  return t == type && strcmp(out, text) == 0 && host[0] == '\0';
}

/* `str` parses as the name `name` with `port`, family AF_INET. */
static int name(const char *str, int type, const char *want, const char *port) {
  union socket_address sa;
  char host[64], out[16];
  int t = -1;
  if (parse(str, &sa, &t, host, sizeof(host)) != MG__PARSE_NAME) return 0;
  mg_sock_addr_to_str(&sa, out, sizeof(out), MG_SOCK_STRINGIFY_PORT);
  return t == type && sa.sa.sa_family == AF_INET && strcmp(host, want) == 0 &&
         strcmp(out, port) == 0;
}

static int error(const char *str) {
  union socket_address sa;
  char host[64] = "x";
  int t;
  return parse(str, &sa, &t, host, sizeof(host)) == MG__PARSE_ERROR && host[0] == '\0';
}

TEST(parse_reference_examples) {
  CHECK(numeric("127.0.0.1:0", SOCK_STREAM, "127.0.0.1:0"));
  CHECK(numeric("tcp://[::1]:8000", SOCK_STREAM, "[::1]:8000"));
  CHECK(numeric("udp://1.2.3.4:53", SOCK_DGRAM, "1.2.3.4:53"));
  CHECK(numeric("8000", SOCK_STREAM, "0.0.0.0:8000"));
  CHECK(numeric(":8000", SOCK_STREAM, "0.0.0.0:8000"));
  CHECK(error("tcp://[::1"));
  CHECK(error("65537"));
}

TEST(parse_numeric_hosts) {
  CHECK(numeric("tcp://:80", SOCK_STREAM, "0.0.0.0:80"));
  CHECK(numeric("udp://8000", SOCK_DGRAM, "0.0.0.0:8000"));
  CHECK(numeric("udp://:1", SOCK_DGRAM, "0.0.0.0:1"));
  CHECK(numeric("localhost:80", SOCK_STREAM, "127.0.0.1:80"));
  CHECK(numeric("tcp://LocalHost:80", SOCK_STREAM, "127.0.0.1:80"));
  CHECK(numeric("255.255.255.255:65535", SOCK_STREAM, "255.255.255.255:65535"));
  CHECK(numeric("0.0.0.0:1", SOCK_STREAM, "0.0.0.0:1"));
  CHECK(numeric("10.0.0.1:00080", SOCK_STREAM, "10.0.0.1:80")); /* 5 digits */
  CHECK(numeric("0", SOCK_STREAM, "0.0.0.0:0"));
  CHECK(numeric("[::]:1", SOCK_STREAM, "[::]:1"));
  CHECK(numeric("[2001:db8::1]:443", SOCK_STREAM, "[2001:db8::1]:443"));
  CHECK(numeric("udp://[::ffff:1.2.3.4]:5", SOCK_DGRAM, "[::ffff:1.2.3.4]:5"));
  CHECK(numeric("[fe80::1%2]:80", SOCK_STREAM, "[fe80::1%2]:80"));
  CHECK(numeric("[fe80::1%4294967295]:80", SOCK_STREAM, "[fe80::1%4294967295]:80"));
}

TEST(parse_fields) {
  union socket_address sa;
  int t;
  CHECK(parse("udp://[::1]:258", &sa, &t, NULL, 0) == MG__PARSE_NUMERIC);
  CHECK(sa.sin6.sin6_family == AF_INET6 && sa.sin6.sin6_port == htons(258));
  CHECK(sa.sin6.sin6_scope_id == 0 && t == SOCK_DGRAM);
  CHECK(memcmp(&sa.sin6.sin6_addr, &in6addr_loopback, sizeof(in6addr_loopback)) == 0);
  CHECK(parse("1.2.3.4:258", &sa, &t, NULL, 0) == MG__PARSE_NUMERIC);
  CHECK(sa.sin.sin_family == AF_INET && sa.sin.sin_port == htons(258));
  CHECK(sa.sin.sin_addr.s_addr == htonl(0x01020304));
  CHECK(parse("[fe80::1%7]:1", &sa, &t, NULL, 0) == MG__PARSE_NUMERIC);
  CHECK(sa.sin6.sin6_scope_id == 7);
}

TEST(parse_names) {
  CHECK(name("example.com:80", SOCK_STREAM, "example.com", "80"));
  CHECK(name("tcp://My_Host-1.local.:443", SOCK_STREAM, "My_Host-1.local.", "443"));
  CHECK(name("udp://dns.google:53", SOCK_DGRAM, "dns.google", "53"));
  CHECK(name("a:1", SOCK_STREAM, "a", "1"));
  CHECK(name("1a:1", SOCK_STREAM, "1a", "1"));
  CHECK(name("10.0.0.x:1", SOCK_STREAM, "10.0.0.x", "1"));
  CHECK(name("host.0xg:1", SOCK_STREAM, "host.0xg", "1"));
  CHECK(name("localhost.:1", SOCK_STREAM, "localhost.", "1")); /* resolved, not special */
}

TEST(parse_name_fits_host_buffer) {
  union socket_address sa;
  char host[12];
  int t;
  memset(host, 'z', sizeof(host));
  CHECK(parse("example.com:1", &sa, &t, host, 11) == MG__PARSE_ERROR); /* no NUL room */
  CHECK(host[0] == '\0' && host[11] == 'z');
  CHECK(parse("example.com:1", &sa, &t, host, 12) == MG__PARSE_NAME);
  CHECK(strcmp(host, "example.com") == 0);
  CHECK(parse("example.com:1", &sa, &t, NULL, 0) == MG__PARSE_ERROR);
  CHECK(parse("example.com:1", &sa, &t, host, 0) == MG__PARSE_ERROR);
}

TEST(parse_bad_ports) {
  static const char *bad[] = {"65536", "65537", "99999", "123456", "", ":", "80x", "+80",
                              "-1", " 80", "80 ", "0x50", "1.2.3.4:", "1.2.3.4",
                              "1.2.3.4:+1", "example.com", "example.com:", "tcp://",
                              "udp://", "a:1:2", "[::1]:", "[::1]:65536"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) CHECK(error(bad[i]));
}

TEST(parse_bad_hosts) {
  static const char *bad[] = {
      "tcp://[::1", "[::1", "[", "[::1]", "[::1]80", "[]:80", "[1.2.3.4]:80",
      "[localhost]:80", "[fe80::1%eth0]:80", "[fe80::1%]:80", "[fe80::1%4294967296]:80",
      "[::1%1%2]:80", "[::1]]:80", "[[::1]]:80", "[::g]:80", "::1:80",
      "[0000:0000:0000:0000:0000:0000:0000:0000:1]:80", "1.2.3:80", "1.2.3.4.5:80",
      "256.1.1.1:80", "01.2.3.4:80", "1.2.3.04:80", "1..2.3:80", ".1.2.3:80", "127.1:80",
      "123:80", "0x7f:80", "0x7F.1:80", "1.0xff:80", "1.2.3.4.:80", ".:80", "a..:80",
      "ex ample:80", "ex@mple:80", "ex\xc3\xa9:80", "a/b:80", "TCP://1.2.3.4:80",
      "tcp:/1.2.3.4:80", "http://x:80", "tcp://tcp://1.2.3.4:80", "udp//1.2.3.4:80"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) CHECK(error(bad[i]));
}

TEST(parse_null_and_sa_len) {
  union socket_address sa;
  int t;
  CHECK(mg__parse_address(NULL, &sa, &t, NULL, 0) == MG__PARSE_ERROR);
  CHECK(parse("[::1]:1", &sa, &t, NULL, 0) == MG__PARSE_NUMERIC);
  CHECK(mg__sa_len(&sa) == sizeof(struct sockaddr_in6));
  CHECK(parse("1.2.3.4:1", &sa, &t, NULL, 0) == MG__PARSE_NUMERIC);
  CHECK(mg__sa_len(&sa) == sizeof(struct sockaddr_in));
}

static void make_v4(union socket_address *sa, uint32_t ip, uint16_t port) {
  memset(sa, 0, sizeof(*sa));
  sa->sin.sin_family = AF_INET;
  sa->sin.sin_addr.s_addr = htonl(ip);
  sa->sin.sin_port = htons(port);
}

TEST(sock_addr_to_str_flags) {
  union socket_address sa;
  char buf[64];
  const int ip = MG_SOCK_STRINGIFY_IP, port = MG_SOCK_STRINGIFY_PORT;
  make_v4(&sa, 0x7f000001, 12345);
  CHECK(mg_sock_addr_to_str(&sa, buf, sizeof(buf), 0) == 0 && buf[0] == '\0');
  CHECK(mg_sock_addr_to_str(&sa, buf, sizeof(buf), ip) == 9);
  CHECK(strcmp(buf, "127.0.0.1") == 0);
  CHECK(mg_sock_addr_to_str(&sa, buf, sizeof(buf), port) == 5 && strcmp(buf, "12345") == 0);
  CHECK(mg_sock_addr_to_str(&sa, buf, sizeof(buf), ip | port | MG_SOCK_STRINGIFY_REMOTE) == 15);
  CHECK(strcmp(buf, "127.0.0.1:12345") == 0);
  CHECK(mg_sock_addr_to_str(NULL, buf, sizeof(buf), ip) == 0 && buf[0] == '\0');
  sa.sa.sa_family = AF_UNIX;
  CHECK(mg_sock_addr_to_str(&sa, buf, sizeof(buf), ip | port) == 0 && buf[0] == '\0');
}

TEST(sock_addr_to_str_small_buffers) {
  union socket_address sa;
  char buf[20];
  make_v4(&sa, 0x7f000001, 12345);
  for (size_t len = 0; len <= 16; len++) {
    int want = len >= 16 ? 15 : 0;
    memset(buf, '#', sizeof(buf));
    CHECK(mg_sock_addr_to_str(&sa, buf, len, MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT) ==
          want);
    for (size_t i = len; i < sizeof(buf); i++) CHECK(buf[i] == '#');
    if (len > 0) CHECK(strlen(buf) == (size_t) want);
  }
  CHECK(mg_sock_addr_to_str(&sa, NULL, 0, MG_SOCK_STRINGIFY_IP) == 0);
}

/* A connected loopback TCP pair: *client, *server, and the listener's address. */
static int tcp_pair(int family, int *client, int *server, union socket_address *addr) {
  int lst = socket(family, SOCK_STREAM, 0);
  socklen_t sl = sizeof(*addr);
  memset(addr, 0, sizeof(*addr));
  addr->sa.sa_family = (sa_family_t) family;
  if (family == AF_INET) addr->sin.sin_addr.s_addr = htonl(0x7f000001);
  if (family == AF_INET6) addr->sin6.sin6_addr = in6addr_loopback;
  *client = *server = -1;
  if (lst < 0) return 0;
  if (bind(lst, &addr->sa, mg__sa_len(addr)) != 0 || listen(lst, 1) != 0 ||
      getsockname(lst, &addr->sa, &sl) != 0) {
    test_close(lst);
    return 0;
  }
  *client = socket(family, SOCK_STREAM, 0);
  if (*client >= 0 && connect(*client, &addr->sa, mg__sa_len(addr)) == 0) {
    *server = accept(lst, NULL, NULL);
  }
  test_close(lst);
  if (*server >= 0) return 1;
  if (*client >= 0) test_close(*client);
  return 0;
}

TEST(conn_addr_to_str_ipv4) {
  struct mg_connection c;
  union socket_address lst;
  int cl, sv;
  char buf[64], want[64], port[8];
  const int ip = MG_SOCK_STRINGIFY_IP, pt = MG_SOCK_STRINGIFY_PORT;
  CHECK(tcp_pair(AF_INET, &cl, &sv, &lst));
  memset(&c, 0, sizeof(c));
  c.sock = sv;
  socklen_t sl = sizeof(c.sa);
  CHECK(getpeername(sv, &c.sa.sa, &sl) == 0);
  /* local side of the accepted socket: the listener's address */
  CHECK(mg_sock_addr_to_str(&lst, want, sizeof(want), ip | pt) > 10);
  CHECK(mg_conn_addr_to_str(&c, buf, sizeof(buf), ip | pt) == (int) strlen(want));
  CHECK(strcmp(buf, want) == 0);
  mg_sock_to_str(sv, buf, sizeof(buf), ip | pt);
  CHECK(strcmp(buf, want) == 0);
  mg_sock_to_str(cl, buf, sizeof(buf), ip | pt | MG_SOCK_STRINGIFY_REMOTE);
  CHECK(strcmp(buf, want) == 0);
  /* remote side: c->sa, which is the client's local address */
  mg_sock_to_str(cl, want, sizeof(want), pt);
  CHECK(mg_conn_addr_to_str(&c, buf, sizeof(buf), pt | MG_SOCK_STRINGIFY_REMOTE) > 0);
  CHECK(strcmp(buf, want) == 0);
  mg_sock_to_str(sv, port, sizeof(port), pt | MG_SOCK_STRINGIFY_REMOTE);
  CHECK(strcmp(port, want) == 0);
  c.sock = INVALID_SOCKET;
  CHECK(mg_conn_addr_to_str(&c, buf, sizeof(buf), ip) == 0 && buf[0] == '\0');
  CHECK(mg_conn_addr_to_str(NULL, buf, sizeof(buf), ip) == 0 && buf[0] == '\0');
  mg_sock_to_str(INVALID_SOCKET, buf, sizeof(buf), ip);
  CHECK(buf[0] == '\0');
  test_close(cl);
  test_close(sv);
  mg_sock_to_str(sv, buf, sizeof(buf), ip); /* closed: getsockname fails */
  CHECK(buf[0] == '\0');
}

TEST(conn_addr_to_str_ipv6) {
  union socket_address lst;
  int cl, sv;
  char buf[64], want[64];
  if (!tcp_pair(AF_INET6, &cl, &sv, &lst)) return; /* no IPv6 loopback here */
  CHECK(mg_sock_addr_to_str(&lst, want, sizeof(want), MG_SOCK_STRINGIFY_IP) == 3);
  CHECK(strcmp(want, "::1") == 0);
  mg_sock_addr_to_str(&lst, want, sizeof(want), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  CHECK(strncmp(want, "[::1]:", 6) == 0);
  mg_sock_to_str(sv, buf, sizeof(buf), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  CHECK(strcmp(buf, want) == 0);
  test_close(cl);
  test_close(sv);
}

TEST(ip_acl_decisions) {
  const uint32_t in = 0xc0a80102, out = 0x0a000001; /* 192.168.1.2, 10.0.0.1 */
  CHECK(mg_check_ip_acl(NULL, in) == 1);
  CHECK(mg_check_ip_acl("", in) == 1);
  CHECK(mg_check_ip_acl("+192.168.0.0/16", in) == 1);
  CHECK(mg_check_ip_acl("+192.168.0.0/16", out) == 0); /* allow-list */
  CHECK(mg_check_ip_acl("-192.168.0.0/16", in) == 0);
  CHECK(mg_check_ip_acl("-192.168.0.0/16", out) == 1); /* deny-list */
  CHECK(mg_check_ip_acl("-0.0.0.0/0,+192.168.0.0/16", in) == 1);
  CHECK(mg_check_ip_acl("-0.0.0.0/0,+192.168.0.0/16", out) == 0);
  CHECK(mg_check_ip_acl("+0.0.0.0/0,-192.168.1.2", in) == 0);
  CHECK(mg_check_ip_acl("+0.0.0.0/0,-192.168.1.2", in + 1) == 1);
  CHECK(mg_check_ip_acl("+192.168.1.2", in) == 1);
  CHECK(mg_check_ip_acl("+192.168.1.2/32", in + 1) == 0);
  CHECK(mg_check_ip_acl("+192.168.1.77/24", in) == 1); /* host bits in the rule ignored */
  CHECK(mg_check_ip_acl("+192.168.1.77/24", 0xc0a80202) == 0);
  CHECK(mg_check_ip_acl("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", 0x0a010203) == 1);
  CHECK(mg_check_ip_acl("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", 0x0a010303) == 0);
  CHECK(mg_check_ip_acl("+10.0.0.0/8,-10.1.0.0/16,+10.1.2.0/24", 0x0a020303) == 1);
  CHECK(mg_check_ip_acl("-1.2.3.4/0", out) == 0); /* /0 matches everything */
  CHECK(mg_check_ip_acl("+255.255.255.255/1", 0x80000000) == 1);
  CHECK(mg_check_ip_acl("+255.255.255.255/1", 0x7fffffff) == 0);
}

TEST(ip_acl_malformed) {
  static const char *bad[] = {"192.168.0.0/16", "+", "-", "+/8", "+1.2.3.4/33",
                              "+1.2.3.4/", "+1.2.3.4/-1", "+1.2.3.4/100", "+1.2.3/8",
                              "+192.168/16", "+1.2.3.4.5", "+256.0.0.0", "+01.2.3.4",
                              "+1.2.3.4,", ",+1.2.3.4", "+1.2.3.4,,-5.6.7.8", "+1.2.3.4 ",
                              " +1.2.3.4", "+1.2.3.4, -5.6.7.8", "*1.2.3.4",
                              "+0.0.0.0/0,junk", "+1.2.3.4/8/8", "+::1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(mg_check_ip_acl(bad[i], 0x01020304) == -1);
  }
}

/* Sends one message each way across sp and reads it back. */
static int passes_both_ways(sock_t sp[2]) {
  char buf[8];
  for (int i = 0; i < 2; i++) {
    if (send(sp[i], "ping", 4, 0) != 4) return 0;
    if (recv(sp[1 - i], buf, sizeof(buf), 0) != 4 || memcmp(buf, "ping", 4) != 0) return 0;
  }
  return 1;
}

static int nonblocking_cloexec(int fd) {
  return (fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

TEST(socketpair_both_types) {
  static const int types[] = {SOCK_STREAM, SOCK_DGRAM};
  for (int i = 0; i < 2; i++) {
    sock_t sp[2] = {-5, -5};
    char b;
    CHECK(mg_socketpair(sp, types[i]) == 1);
    CHECK(sp[0] >= 0 && sp[1] >= 0 && sp[0] != sp[1]);
    CHECK(nonblocking_cloexec(sp[0]) && nonblocking_cloexec(sp[1]));
    CHECK(passes_both_ways(sp));
    errno = 0;
    CHECK(recv(sp[0], &b, 1, 0) == -1 && (errno == EAGAIN || errno == EWOULDBLOCK));
    test_close(sp[0]);
    test_close(sp[1]);
  }
}

TEST(socketpair_bad_type) {
  sock_t sp[2] = {-5, -5};
  int probe = open("/dev/null", O_RDONLY), next;
  CHECK(mg_socketpair(sp, 12345) == 0);
  CHECK(sp[0] == INVALID_SOCKET && sp[1] == INVALID_SOCKET);
  CHECK(mg_socketpair(NULL, SOCK_STREAM) == 0);
  /* nothing leaked: the next descriptor number is the same one as before */
  test_close(probe);
  next = open("/dev/null", O_RDONLY);
  CHECK(next == probe);
  test_close(next);
}
