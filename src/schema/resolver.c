/*
 * Schema documents from local files (see resolver.h). Every lookup ends in the same check:
 * the canonical path of the file (realpath: symbolic links, "." and ".." resolved) must lie
 * inside the canonical path of a directory the operator named, so neither a ".." in a
 * URI, a %-encoded one, an absolute path nor a symbolic link pointing elsewhere can reach
 * a file outside it. The directories are made canonical when they are added.
 */
#include "schema/resolver.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

#define MAX_DOCUMENT (16u * 1024u * 1024u)

typedef struct {
  char *prefix; /* ends in "/" unless the operator's prefix ended in some other delimiter */
  size_t prefix_len;
  char *dir; /* canonical */
} mapping_t;

struct sg_schema_resolver {
  mapping_t *maps;
  size_t nmaps;
  char **allowed; /* canonical */
  size_t nallowed;
  char error[PATH_MAX + 512];
};

sg_schema_resolver_t *sg_schema_resolver_new(void) {
  return calloc(1, sizeof(sg_schema_resolver_t));
}

void sg_schema_resolver_free(sg_schema_resolver_t *r) {
  if (r == NULL) return;
  for (size_t i = 0; i < r->nmaps; i++) {
    free(r->maps[i].prefix);
    free(r->maps[i].dir);
  }
  for (size_t i = 0; i < r->nallowed; i++) free(r->allowed[i]);
  free(r->maps);
  free(r->allowed);
  free(r);
}

/* The canonical path of an existing directory, malloc'd; NULL when there is none. */
static char *canonical_dir(const char *dir) {
  char real[PATH_MAX];
  struct stat st;
  if (dir == NULL || realpath(dir, real) == NULL || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
    return NULL;
  return strdup(real);
}

int sg_schema_resolver_map(sg_schema_resolver_t *r, const char *prefix, const char *dir) {
  if (prefix == NULL || prefix[0] == '\0') return SG_EINVAL;
  char *real = canonical_dir(dir);
  if (real == NULL) return errno == ENOMEM ? SG_ENOMEM : SG_EINVAL;
  size_t n = strlen(prefix);
  /* "https://x/s" is taken to mean the folder "https://x/s/"; a prefix ending in a
     delimiter such as "/" or ":" ("urn:acme:") is used as it is. */
  int whole = strchr("/:#?", prefix[n - 1]) == NULL;
  char *p = malloc(n + 2);
  mapping_t *grown = realloc(r->maps, (r->nmaps + 1) * sizeof *r->maps);
  if (p == NULL || grown == NULL) {
    free(p);
    free(real);
    if (grown) r->maps = grown;
    return SG_ENOMEM;
  }
  r->maps = grown;
  memcpy(p, prefix, n);
  if (whole) p[n++] = '/';
  p[n] = '\0';
  r->maps[r->nmaps++] = (mapping_t){p, n, real};
  return 0;
}

int sg_schema_resolver_allow(sg_schema_resolver_t *r, const char *dir) {
  char *real = canonical_dir(dir);
  if (real == NULL) return errno == ENOMEM ? SG_ENOMEM : SG_EINVAL;
  char **grown = realloc(r->allowed, (r->nallowed + 1) * sizeof *r->allowed);
  if (grown == NULL) {
    free(real);
    return SG_ENOMEM;
  }
  r->allowed = grown;
  r->allowed[r->nallowed++] = real;
  return 0;
}

void sg_schema_resolver_use(sg_schema_resolver_t *r, sg_schema_opts_t *opts) {
  opts->resolve = sg_schema_resolver_resolve;
  opts->resolve_data = r;
}

const char *sg_schema_resolver_error(const sg_schema_resolver_t *r) {
  return r->error;
}

__attribute__((format(printf, 3, 4))) static json_t *refuse(sg_schema_resolver_t *r,
                                                            const char *uri, const char *fmt, ...) {
  char msg[PATH_MAX + 256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(r->error, sizeof r->error, "%.*s: %s", 200, uri, msg);
  return NULL;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* %-decodes s into out (cap bytes). -1 on a malformed escape, an encoded NUL, a query or
   fragment, or when out is too small. */
static int decode(const char *s, char *out, size_t cap) {
  size_t o = 0;
  for (const char *p = s; *p; p++) {
    char c = *p;
    if (c == '?' || c == '#') return -1;
    if (c == '%') {
      int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
      if (lo < 0) return -1;
      c = (char)(hi * 16 + lo);
      if (c == '\0') return -1;
      p += 2;
    }
    if (o + 1 >= cap) return -1;
    out[o++] = c;
  }
  out[o] = '\0';
  return 0;
}

/* Whether the canonical path real lies inside the canonical directory dir. */
static int inside(const char *real, const char *dir) {
  size_t n = strlen(dir);
  if (strncmp(real, dir, n) != 0) return 0;
  return (n > 0 && dir[n - 1] == '/') || real[n] == '/';
}

/* Reads the regular file at the canonical path real as one JSON value. */
static json_t *load(sg_schema_resolver_t *r, const char *uri, const char *real) {
  /* O_NONBLOCK: a FIFO placed in the directory must not hang the compiler. */
  int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return refuse(r, uri, "cannot open %s: %s", real, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return refuse(r, uri, "%s is not a regular file", real);
  }
  if ((unsigned long long)st.st_size > MAX_DOCUMENT) {
    close(fd);
    return refuse(r, uri, "%s is larger than %u bytes", real, MAX_DOCUMENT);
  }
  size_t size = (size_t)st.st_size, got = 0;
  char *data = malloc(size + 1);
  if (data == NULL) {
    close(fd);
    return refuse(r, uri, "out of memory");
  }
  while (got < size) {
    ssize_t k = read(fd, data + got, size - got);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    got += (size_t)k;
  }
  close(fd);
  json_error_t jerr;
  json_t *doc = json_loadb(data, got, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
  free(data);
  if (doc == NULL) return refuse(r, uri, "%s:%d:%d: %s", real, jerr.line, jerr.column, jerr.text);
  r->error[0] = '\0';
  return doc;
}

static json_t *resolve_mapped(sg_schema_resolver_t *r, const char *uri, const mapping_t *m) {
  char rel[PATH_MAX], path[2 * PATH_MAX + 2], real[PATH_MAX];
  if (decode(uri + m->prefix_len, rel, sizeof rel) != 0)
    return refuse(r, uri, "malformed, or has a query");
  if (rel[0] == '\0' || rel[0] == '/') return refuse(r, uri, "names no file under %s", m->dir);
  snprintf(path, sizeof path, "%s/%s", m->dir, rel);
  if (realpath(path, real) == NULL) return refuse(r, uri, "%s: %s", path, strerror(errno));
  if (!inside(real, m->dir)) return refuse(r, uri, "leads outside %s", m->dir);
  return load(r, uri, real);
}

static json_t *resolve_file(sg_schema_resolver_t *r, const char *uri) {
  const char *p = uri + strlen("file://");
  if (strncmp(p, "localhost/", 10) == 0) p += strlen("localhost");
  if (*p != '/') return refuse(r, uri, "names a file on another host");
  char path[PATH_MAX], real[PATH_MAX];
  if (decode(p, path, sizeof path) != 0) return refuse(r, uri, "malformed, or has a query");
  if (realpath(path, real) == NULL) return refuse(r, uri, "%s: %s", path, strerror(errno));
  for (size_t i = 0; i < r->nallowed; i++)
    if (inside(real, r->allowed[i])) return load(r, uri, real);
  return refuse(r, uri, "outside the directories schemas may be read from");
}

json_t *sg_schema_resolver_resolve(void *data, const char *uri) {
  sg_schema_resolver_t *r = data;
  r->error[0] = '\0';
  if (uri == NULL) return NULL;
  /* The longest matching prefix wins, so a narrower mapping can override a broader one. */
  const mapping_t *best = NULL;
  for (size_t i = 0; i < r->nmaps; i++)
    if (strncmp(uri, r->maps[i].prefix, r->maps[i].prefix_len) == 0 &&
        (best == NULL || r->maps[i].prefix_len > best->prefix_len))
      best = &r->maps[i];
  if (best) return resolve_mapped(r, uri, best);
  if (strncmp(uri, "file://", 7) == 0) return resolve_file(r, uri);
  return refuse(r, uri, "no mapping names a directory for this URI");
}

int sg_schema_file_uri(const char *path, char *out, size_t outlen) {
  char real[PATH_MAX];
  if (realpath(path, real) == NULL) return SG_EIO;
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;
  const char *head = "file://";
  for (const char *h = head; *h; h++) {
    if (o + 1 >= outlen) return SG_EINVAL;
    out[o++] = *h;
  }
  for (const unsigned char *p = (const unsigned char *)real; *p; p++) {
    int plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("-._~/", *p) != NULL;
    if (o + (plain ? 1 : 3) >= outlen) return SG_EINVAL;
    if (plain) {
      out[o++] = (char)*p;
    } else {
      out[o++] = '%';
      out[o++] = hex[*p >> 4];
      out[o++] = hex[*p & 15];
    }
  }
  out[o] = '\0';
  return 0;
}
