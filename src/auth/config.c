/*
 * Loading the auth configuration and its keys. The file is read strictly (duplicate keys
 * and unknown fields are errors, so a misspelt setting is never silently ignored) and
 * every problem is reported with the file and a JSON Pointer to the field. Keys are
 * checked here, once, so that verification never meets a key it cannot use: an HMAC
 * secret must be long and private, a public key must be of the type and size its
 * algorithm needs, and no key file may hold a private key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/internal.h"
#include "core/error.h"
#include "json/parse.h"
#include "json/pointer.h"

#define DEFAULT_LEEWAY 30
#define MAX_LEEWAY 300
#define MAX_KEYS 64
#define MAX_KEY_FILE_BYTES (64 * 1024)
#define MIN_HMAC_BYTES 32
#define MIN_RSA_BITS 2048

static const struct {
  const char *name;
  jwt_alg_t jwt;
} algs[SG__AUTH_NALGS] = {
    [SG__AUTH_HS256] = {"HS256", JWT_ALG_HS256},
    [SG__AUTH_RS256] = {"RS256", JWT_ALG_RS256},
    [SG__AUTH_ES256] = {"ES256", JWT_ALG_ES256},
};

const char *sg__auth_alg_name(sg__auth_alg_t alg) {
  return algs[alg].name;
}

jwt_alg_t sg__auth_jwt_alg(sg__auth_alg_t alg) {
  return algs[alg].jwt;
}

sg__auth_alg_t sg__auth_alg_parse(const char *name) {
  for (int i = 0; i < SG__AUTH_NALGS; i++)
    if (strcmp(algs[i].name, name) == 0) return (sg__auth_alg_t)i;
  return SG__AUTH_NALGS;
}

/* Problems are appended to errbuf, one per line; the first one decides the return code. */
typedef struct {
  const char *file;
  char *errbuf;
  size_t errlen;
  int rc;
} loader_t;

static void problem(loader_t *l, int rc, const char *ptr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void problem(loader_t *l, int rc, const char *ptr, const char *fmt, ...) {
  if (l->rc == 0) l->rc = rc;
  if (l->errbuf == NULL || l->errlen == 0) return;
  size_t used = strlen(l->errbuf);
  if (used + 1 >= l->errlen) return;
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(l->errbuf + used, l->errlen - used, "%s%s: %s: %s", used ? "\n" : "", l->file,
           ptr[0] ? ptr : "(root)", msg);
}

static void ptr_join(char *out, size_t outlen, const char *base, const char *token) {
  snprintf(out, outlen, "%s", base);
  sg_json_pointer_append(out, outlen, token);
}

static void only_keys(loader_t *l, json_t *obj, const char *ptr, const char *const *allowed) {
  const char *key;
  json_t *v;
  json_object_foreach(obj, key, v) {
    int ok = 0;
    for (const char *const *a = allowed; *a; a++)
      if (strcmp(*a, key) == 0) ok = 1;
    if (!ok) {
      char p[256];
      ptr_join(p, sizeof p, ptr, key);
      problem(l, SG_EINVAL, p, "unknown field \"%s\"", key);
    }
  }
}

/* A copy of obj[key] when it is a non-empty string; dflt (copied) when absent and
 * dflt is given; NULL after reporting otherwise. */
static char *get_string(loader_t *l, json_t *obj, const char *ptr, const char *key,
                        const char *dflt) {
  char p[256];
  ptr_join(p, sizeof p, ptr, key);
  json_t *v = json_object_get(obj, key);
  if (v == NULL && dflt == NULL) {
    problem(l, SG_EINVAL, ptr, "missing required field \"%s\"", key);
    return NULL;
  }
  if (v && (!json_is_string(v) || json_string_length(v) == 0)) {
    problem(l, SG_EINVAL, p, "must be a non-empty string");
    return NULL;
  }
  char *copy = strdup(v ? json_string_value(v) : dflt);
  if (copy == NULL) problem(l, SG_ENOMEM, p, "out of memory");
  return copy;
}

/* Reads a key file of at most MAX_KEY_FILE_BYTES into key->material. The mode is checked
 * on the opened descriptor, so it is the mode of the file actually read. */
static int read_key_file(loader_t *l, const char *ptr, const char *path, int secret,
                         sg__auth_key_t *key) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    problem(l, SG_EIO, ptr, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  int ok = 0;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    problem(l, SG_EIO, ptr, "%s is not a regular file", path);
  } else if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
    problem(l, SG_EINVAL, ptr,
            "%s holds an HMAC secret but its mode %04o lets group or others access it "
            "(chmod 600 it)",
            path, (unsigned)(st.st_mode & 07777));
  } else if (st.st_size <= 0 || st.st_size > MAX_KEY_FILE_BYTES) {
    problem(l, SG_EINVAL, ptr, "%s is %s (a key file holds 1 to %d bytes)", path,
            st.st_size <= 0 ? "empty" : "too large", MAX_KEY_FILE_BYTES);
  } else if ((key->material = malloc((size_t)st.st_size + 1)) == NULL) {
    problem(l, SG_ENOMEM, ptr, "out of memory");
  } else {
    size_t got = 0;
    while (got < (size_t)st.st_size) {
      ssize_t n = read(fd, key->material + got, (size_t)st.st_size - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += (size_t)n;
    }
    if (got != (size_t)st.st_size) {
      problem(l, SG_EIO, ptr, "cannot read %s", path);
    } else {
      key->material[got] = '\0';
      key->len = got;
      ok = 1;
    }
  }
  close(fd);
  return ok ? 0 : -1;
}

/* Checks a public key's PEM text against its algorithm and works out the signature
 * length; libjwt parses the same text again at every verification. */
static int check_public_key(loader_t *l, const char *ptr, const char *path, sg__auth_key_t *key) {
  if (memmem(key->material, key->len, "PRIVATE KEY-----", 16) != NULL) {
    problem(l, SG_EINVAL, ptr,
            "%s contains a private key; give the gateway only the public key "
            "(openssl pkey -pubout)",
            path);
    return -1;
  }
  BIO *bio = BIO_new_mem_buf(key->material, (int)key->len);
  EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  int ok = 0;
  const char *alg = sg__auth_alg_name(key->alg);
  if (pk == NULL) {
    problem(l, SG_EINVAL, ptr, "%s is not a PEM public key (\"-----BEGIN PUBLIC KEY-----\")", path);
  } else if (key->alg == SG__AUTH_RS256) {
    if (!EVP_PKEY_is_a(pk, "RSA"))
      problem(l, SG_EINVAL, ptr, "%s is not an RSA key, which %s needs", path, alg);
    else if (EVP_PKEY_get_bits(pk) < MIN_RSA_BITS)
      problem(l, SG_EINVAL, ptr, "%s is a %d-bit RSA key; %s needs at least %d bits", path,
              EVP_PKEY_get_bits(pk), alg, MIN_RSA_BITS);
    else
      key->sig_len = (size_t)EVP_PKEY_get_size(pk), ok = 1;
  } else {
    char group[64] = "";
    if (!EVP_PKEY_is_a(pk, "EC") || !EVP_PKEY_get_group_name(pk, group, sizeof group, NULL) ||
        OBJ_txt2nid(group) != NID_X9_62_prime256v1)
      problem(l, SG_EINVAL, ptr, "%s is not an EC key on P-256, which %s needs", path, alg);
    else
      key->sig_len = 64, ok = 1; /* JWS carries r and s as 32 bytes each */
  }
  EVP_PKEY_free(pk);
  return ok ? 0 : -1;
}

static void load_key(loader_t *l, const char *dir, json_t *obj, const char *ptr,
                     sg__auth_key_t *key) {
  static const char *const allowed[] = {"kid", "alg", "file", NULL};
  if (!json_is_object(obj)) {
    problem(l, SG_EINVAL, ptr, "must be an object with \"alg\" and \"file\"");
    return;
  }
  only_keys(l, obj, ptr, allowed);
  char p[256];
  if (json_object_get(obj, "kid")) key->kid = get_string(l, obj, ptr, "kid", NULL);
  char *alg = get_string(l, obj, ptr, "alg", NULL);
  char *file = get_string(l, obj, ptr, "file", NULL);
  if (alg) {
    key->alg = sg__auth_alg_parse(alg);
    if (key->alg == SG__AUTH_NALGS) {
      ptr_join(p, sizeof p, ptr, "alg");
      problem(l, SG_EINVAL, p, "algorithm \"%s\" is not accepted (HS256, RS256 or ES256)", alg);
    }
  }
  if (alg && file && key->alg != SG__AUTH_NALGS) {
    char path[PATH_MAX];
    int n = file[0] == '/' ? snprintf(path, sizeof path, "%s", file)
                           : snprintf(path, sizeof path, "%s/%s", dir, file);
    ptr_join(p, sizeof p, ptr, "file");
    int secret = key->alg == SG__AUTH_HS256;
    if (n < 0 || (size_t)n >= sizeof path) {
      problem(l, SG_EINVAL, p, "path is too long");
    } else if (read_key_file(l, p, path, secret, key) == 0) {
      if (!secret) {
        check_public_key(l, p, path, key);
      } else if (key->len < MIN_HMAC_BYTES) {
        problem(l, SG_EINVAL, p, "%s holds a %zu-byte HMAC secret; HS256 needs at least %d bytes",
                path, key->len, MIN_HMAC_BYTES);
      } else {
        key->sig_len = 32;
      }
    }
  }
  free(alg);
  free(file);
}

static void load_claims(loader_t *l, json_t *root, sg_auth_t *a) {
  static const char *const allowed[] = {"subject", "roles", "tenant", "env", NULL};
  json_t *claims = json_object_get(root, "claims");
  json_t *none = json_object();
  if (claims && !json_is_object(claims)) {
    problem(l, SG_EINVAL, "/claims", "must be an object naming the claims to read");
    claims = NULL;
  }
  if (claims) only_keys(l, claims, "/claims", allowed);
  json_t *c = claims ? claims : none;
  a->claim_subject = get_string(l, c, "/claims", "subject", "sub");
  a->claim_roles = get_string(l, c, "/claims", "roles", "roles");
  a->claim_tenant = get_string(l, c, "/claims", "tenant", "tenant");
  a->claim_env = get_string(l, c, "/claims", "env", "env");
  json_decref(none);
}

int sg_auth_load(const char *config_path, sg_auth_t **out, char *errbuf, size_t errlen) {
  static const char *const allowed[] = {"issuer", "audience", "leeway_seconds",
                                        "keys",   "claims",   NULL};
  *out = NULL;
  if (errbuf && errlen) errbuf[0] = '\0';
  loader_t l = {config_path, errbuf, errlen, 0};
  json_t *root = NULL;
  char jerr[512];
  int rc = sg_json_load_file(config_path, &root, jerr, sizeof jerr);
  if (rc != 0) {
    if (errbuf && errlen) snprintf(errbuf, errlen, "%s", jerr);
    return rc;
  }
  sg_auth_t *a = calloc(1, sizeof *a);
  if (a == NULL) {
    json_decref(root);
    problem(&l, SG_ENOMEM, "", "out of memory");
    return SG_ENOMEM;
  }
  if (!json_is_object(root)) {
    problem(&l, SG_EINVAL, "", "must be an object with \"issuer\", \"audience\" and \"keys\"");
    goto done;
  }
  only_keys(&l, root, "", allowed);
  a->issuer = get_string(&l, root, "", "issuer", NULL);
  a->audience = get_string(&l, root, "", "audience", NULL);
  a->leeway = DEFAULT_LEEWAY;
  json_t *lw = json_object_get(root, "leeway_seconds");
  if (lw) {
    if (!json_is_integer(lw) || json_integer_value(lw) < 0 || json_integer_value(lw) > MAX_LEEWAY)
      problem(&l, SG_EINVAL, "/leeway_seconds", "must be an integer from 0 to %d", MAX_LEEWAY);
    else
      a->leeway = json_integer_value(lw);
  }
  load_claims(&l, root, a);

  json_t *keys = json_object_get(root, "keys");
  if (keys == NULL) {
    problem(&l, SG_EINVAL, "", "missing required field \"keys\"");
  } else if (!json_is_array(keys) || json_array_size(keys) == 0 ||
             json_array_size(keys) > MAX_KEYS) {
    problem(&l, SG_EINVAL, "/keys", "must be an array of 1 to %d keys", MAX_KEYS);
  } else {
    a->keys = calloc(json_array_size(keys), sizeof *a->keys);
    if (a->keys == NULL) {
      problem(&l, SG_ENOMEM, "/keys", "out of memory");
      goto done;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", config_path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
      snprintf(dir, sizeof dir, ".");
    else if (slash == dir)
      slash[1] = '\0';
    else
      *slash = '\0';
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
      char p[64];
      snprintf(p, sizeof p, "/keys/%zu", i);
      sg__auth_key_t *key = &a->keys[a->nkeys++];
      key->alg = SG__AUTH_NALGS;
      load_key(&l, dir, k, p, key);
      for (size_t j = 0; key->kid && j < i; j++)
        if (a->keys[j].kid && strcmp(a->keys[j].kid, key->kid) == 0) {
          char pk[80];
          snprintf(pk, sizeof pk, "%s/kid", p);
          problem(&l, SG_EINVAL, pk, "key id \"%s\" is also used by /keys/%zu", key->kid, j);
        }
    }
  }

done:
  json_decref(root);
  if (l.rc != 0) {
    sg_auth_free(a);
    return l.rc;
  }
  *out = a;
  return 0;
}

const char *sg_auth_issuer(const sg_auth_t *a) {
  return a->issuer;
}

const char *sg_auth_audience(const sg_auth_t *a) {
  return a->audience;
}

void sg_auth_free(sg_auth_t *a) {
  if (a == NULL) return;
  for (size_t i = 0; i < a->nkeys; i++) {
    free(a->keys[i].kid);
    if (a->keys[i].material) {
      /* The HMAC secret does not outlive its use. */
      OPENSSL_cleanse(a->keys[i].material, a->keys[i].len);
      free(a->keys[i].material);
    }
  }
  free(a->keys);
  free(a->issuer);
  free(a->audience);
  free(a->claim_subject);
  free(a->claim_roles);
  free(a->claim_tenant);
  free(a->claim_env);
  free(a);
}
