/*
 * URI-reference resolution (RFC 3986, section 5.2) for $id and $ref, on plain strings.
 * URNs and other URIs without an authority resolve the same way: a reference that is
 * only a fragment replaces the base's fragment.
 */
#include "schema/uri.h"

#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

typedef struct {
  const char *scheme;
  size_t scheme_len; /* 0: none */
  const char *auth;
  size_t auth_len;
  int has_auth;
  const char *path;
  size_t path_len;
  const char *query;
  size_t query_len;
  int has_query;
  const char *frag;
  size_t frag_len;
  int has_frag;
} parts_t;

static void parse(const char *s, parts_t *p) {
  memset(p, 0, sizeof *p);
  const char *c = s;
  /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
  const char *q = s;
  if ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')) {
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9') ||
           *q == '+' || *q == '-' || *q == '.')
      q++;
    if (*q == ':') {
      p->scheme = s;
      p->scheme_len = (size_t)(q - s);
      c = q + 1;
    }
  }
  if (c[0] == '/' && c[1] == '/') {
    c += 2;
    p->has_auth = 1;
    p->auth = c;
    while (*c && *c != '/' && *c != '?' && *c != '#') c++;
    p->auth_len = (size_t)(c - p->auth);
  }
  p->path = c;
  while (*c && *c != '?' && *c != '#') c++;
  p->path_len = (size_t)(c - p->path);
  if (*c == '?') {
    p->has_query = 1;
    p->query = ++c;
    while (*c && *c != '#') c++;
    p->query_len = (size_t)(c - p->query);
  }
  if (*c == '#') {
    p->has_frag = 1;
    p->frag = c + 1;
    p->frag_len = strlen(p->frag);
  }
}

/* RFC 3986 5.2.4, writing the result to out (at least len + 1 bytes). */
static void remove_dots(const char *in, size_t len, char *out) {
  size_t o = 0;
  const char *p = in, *end = in + len;
  while (p < end) {
    size_t rest = (size_t)(end - p);
    if (rest >= 3 && memcmp(p, "../", 3) == 0) {
      p += 3;
    } else if (rest >= 2 && memcmp(p, "./", 2) == 0) {
      p += 2;
    } else if (rest >= 3 && memcmp(p, "/./", 3) == 0) {
      p += 2;
    } else if (rest == 2 && memcmp(p, "/.", 2) == 0) {
      out[o++] = '/';
      p = end;
    } else if ((rest >= 4 && memcmp(p, "/../", 4) == 0) ||
               (rest == 3 && memcmp(p, "/..", 3) == 0)) {
      int last = rest == 3;
      p += 3;
      while (o > 0 && out[o - 1] != '/') o--;
      if (o > 0) o--;
      if (last) {
        out[o++] = '/';
      }
    } else if ((rest == 1 && *p == '.') || (rest == 2 && memcmp(p, "..", 2) == 0)) {
      p = end;
    } else {
      if (*p == '/') out[o++] = *p++;
      while (p < end && *p != '/') out[o++] = *p++;
    }
  }
  out[o] = '\0';
}

char *sg__uri_resolve(const char *base, const char *ref) {
  parts_t b, r;
  parse(base, &b);
  parse(ref, &r);
  size_t cap = strlen(base) + strlen(ref) + 8;
  char *merged = malloc(cap), *path = malloc(cap);
  sg_buf_t out;
  sg_buf_init(&out);
  if (merged == NULL || path == NULL) goto fail;

  const parts_t *scheme = &b, *auth = &b, *query = &b;
  if (r.scheme_len) {
    scheme = auth = query = &r;
    remove_dots(r.path, r.path_len, path);
  } else if (r.has_auth) {
    auth = query = &r;
    remove_dots(r.path, r.path_len, path);
  } else if (r.path_len == 0) {
    memcpy(path, b.path, b.path_len);
    path[b.path_len] = '\0';
    if (r.has_query) query = &r;
  } else {
    query = &r;
    if (r.path[0] == '/') {
      remove_dots(r.path, r.path_len, path);
    } else {
      size_t m = 0;
      if (b.has_auth && b.path_len == 0) {
        merged[m++] = '/';
      } else {
        size_t keep = b.path_len;
        while (keep > 0 && b.path[keep - 1] != '/') keep--;
        memcpy(merged, b.path, keep);
        m = keep;
      }
      memcpy(merged + m, r.path, r.path_len);
      m += r.path_len;
      remove_dots(merged, m, path);
    }
  }
  int rc = 0;
  if (scheme->scheme_len) {
    rc |= sg_buf_append(&out, scheme->scheme, scheme->scheme_len);
    rc |= sg_buf_append(&out, ":", 1);
  }
  if (auth->has_auth) {
    rc |= sg_buf_append(&out, "//", 2);
    rc |= sg_buf_append(&out, auth->auth, auth->auth_len);
  }
  rc |= sg_buf_append_str(&out, path);
  if (query->has_query) {
    rc |= sg_buf_append(&out, "?", 1);
    rc |= sg_buf_append(&out, query->query, query->query_len);
  }
  if (r.has_frag) {
    rc |= sg_buf_append(&out, "#", 1);
    rc |= sg_buf_append(&out, r.frag, r.frag_len);
  }
  if (rc) goto fail;
  if (out.data == NULL && sg_buf_append(&out, "", 0)) goto fail;
  free(merged);
  free(path);
  return sg_buf_steal(&out, NULL);

fail:
  free(merged);
  free(path);
  sg_buf_free(&out);
  return NULL;
}

size_t sg__uri_split(const char *uri, const char **frag) {
  const char *h = strchr(uri, '#');
  if (h == NULL) {
    *frag = NULL;
    return strlen(uri);
  }
  *frag = h + 1;
  return (size_t)(h - uri);
}

static int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long sg__uri_percent_decode(char *s) {
  char *w = s;
  for (const char *r = s; *r; r++) {
    if (*r == '%') {
      int h = hex(r[1]), l = h < 0 ? -1 : hex(r[2]);
      if (h < 0 || l < 0) return -1;
      *w++ = (char)(h * 16 + l);
      r += 2;
    } else {
      *w++ = *r;
    }
  }
  *w = '\0';
  return (long)(w - s);
}

size_t sg__ptr_escape(char *out, size_t outlen, const char *token, size_t len) {
  size_t n = 0, w = 0;
  int full = outlen == 0;
  for (size_t i = 0; i < len; i++) {
    const char *e = NULL;
    if (token[i] == '~') e = "~0";
    if (token[i] == '/') e = "~1";
    size_t k = e ? 2 : 1;
    if (!full && w + k < outlen) {
      memcpy(out + w, e ? e : token + i, k);
      w += k;
    } else {
      full = 1;
    }
    n += k;
  }
  if (outlen) out[w] = '\0';
  return n;
}
