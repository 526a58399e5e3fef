/*
 * Media types for static files: the operator's "ext=type" list first, then a built-in
 * table keyed by file extension (types as registered with IANA; RFC 9239 for
 * JavaScript, RFC 9512 for YAML), and text/plain for anything unknown.
 */
#include <stdlib.h>
#include <string.h>

#include "../base/ascii.h"
#include "static_internal.h"

struct mime_entry {
  const char *ext; /* lower case, without the dot; the table is sorted by it */
  const char *type;
};

static const struct mime_entry builtin[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"atom", "application/atom+xml"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"bz2", "application/x-bzip2"},
    {"css", "text/css"},
    {"csv", "text/csv"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"epub", "application/epub+zip"},
    {"exe", "application/octet-stream"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"htm", "text/html"},
    {"html", "text/html"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar"},
    {"iso", "application/octet-stream"},
    {"jar", "application/java-archive"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"map", "application/json"},
    {"md", "text/markdown"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "text/javascript"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"rar", "application/vnd.rar"},
    {"rss", "application/rss+xml"},
    {"rtf", "application/rtf"},
    {"sh", "application/x-sh"},
    {"shtm", "text/html"},
    {"shtml", "text/html"},
    {"svg", "image/svg+xml"},
    {"svgz", "image/svg+xml"},
    {"tar", "application/x-tar"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml"},
    {"ts", "video/mp2t"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain"},
    {"vtt", "text/vtt"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
};

/* Longer extensions than any in the table cannot match; this bounds the lowered copy. */
#define MAX_EXT 16

static int compare_entry(const void *key, const void *elem) {
  return strcmp((const char *) key, ((const struct mime_entry *) elem)->ext);
}

/* The built-in type for the extension after the last '.' of the last segment, or
 * NULL. */
static const char *builtin_type(struct mg_str path) {
  size_t i = path.len;
  while (i > 0 && path.p[i - 1] != '.' && path.p[i - 1] != '/') i--;
  if (i == 0 || path.p[i - 1] != '.') return NULL; /* no extension */
  size_t n = path.len - i;
  if (n == 0 || n > MAX_EXT) return NULL;
  char ext[MAX_EXT + 1];
  for (size_t k = 0; k < n; k++) ext[k] = (char) mg__ascii_lower((unsigned char) path.p[i + k]);
  ext[n] = '\0';
  const struct mime_entry *e =
      bsearch(ext, builtin, sizeof(builtin) / sizeof(builtin[0]), sizeof(builtin[0]),
              compare_entry);
  return e == NULL ? NULL : e->type;
}

/* 1 when `path` ends with `ext` (ASCII case-insensitively) at a name boundary: the
 * suffix starts with '.', follows '.' or '/', or is all of `path`. */
static int suffix_matches(struct mg_str path, struct mg_str ext) {
  if (ext.len == 0 || ext.len > path.len) return 0;
  size_t at = path.len - ext.len;
  for (size_t k = 0; k < ext.len; k++) {
    if (mg__ascii_lower((unsigned char) path.p[at + k]) !=
        mg__ascii_lower((unsigned char) ext.p[k])) {
      return 0;
    }
  }
  return ext.p[0] == '.' || at == 0 || path.p[at - 1] == '.' || path.p[at - 1] == '/';
}

/* A type goes into a Content-Type field: it must be non-empty field-value bytes. */
static int valid_type(struct mg_str type) {
  if (type.p == NULL || type.len == 0) return 0;
  for (size_t k = 0; k < type.len; k++) {
    unsigned char c = (unsigned char) type.p[k];
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return 0;
  }
  return 1;
}

struct mg_str mg__static_mime_type(struct mg_str path, struct mg_str custom) {
  struct mg_str ext, type;
  if (path.p == NULL) path.len = 0;
  if (custom.p == NULL) custom.len = 0;
  while ((custom = mg_next_comma_list_entry_n(custom, &ext, &type)).p != NULL) {
    if (valid_type(type) && suffix_matches(path, ext)) return type;
  }
  const char *t = path.len > 0 ? builtin_type(path) : NULL;
  return mg_mk_str(t != NULL ? t : "text/plain");
}
