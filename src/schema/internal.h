/*
 * The compiled form of a schema, shared by the compiler (compile.c) and the validator
 * (validate.c). A compiled schema is a graph of nodes, one per schema object or boolean;
 * $ref edges may point anywhere in it, cycles included. Every node, string and array
 * lives in the schema's arena and is freed with it; PCRE2 codes are listed separately;
 * "enum" and "const" values point into the schema documents, which the compiled schema
 * holds references to. After sg_schema_compile returns, nothing in the graph changes.
 */
#ifndef SG_SCHEMA_INTERNAL_H
#define SG_SCHEMA_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schema/regex.h"
#include "schema/schema.h"

/* Evaluation depth (schema nodes entered, through $ref and applicators) beyond which an
   instance is refused rather than risk the C stack. */
#define SG__MAX_DEPTH 512

/* Bits of the "type" keyword. */
enum {
  SG__T_NULL = 1 << 0,
  SG__T_BOOLEAN = 1 << 1,
  SG__T_OBJECT = 1 << 2,
  SG__T_ARRAY = 1 << 3,
  SG__T_NUMBER = 1 << 4,
  SG__T_STRING = 1 << 5,
  SG__T_INTEGER = 1 << 6
};

/* Groups of keywords a node holds (sg__node_t.kw), so that validation reads only the
   fields of the keywords that are there. A true schema has none. */
enum {
  SG__K_FALSE = 1 << 0, /* the schema false */
  SG__K_TYPE = 1 << 1,
  SG__K_ENUM = 1 << 2,
  SG__K_CONST = 1 << 3,
  SG__K_NUMBER = 1 << 4,        /* minimum, maximum, their exclusive forms, multipleOf */
  SG__K_STRING = 1 << 5,        /* minLength, maxLength, pattern, an asserted format */
  SG__K_ARRAY = 1 << 6,         /* minItems, maxItems, uniqueItems, prefixItems, items, contains */
  SG__K_OBJECT = 1 << 7,        /* the object keywords but unevaluatedProperties */
  SG__K_APPLICATOR = 1 << 8,    /* $ref, $dynamicRef, allOf, anyOf, oneOf, not, if */
  SG__K_UNEVALUATED = 1 << 9,   /* unevaluatedProperties, unevaluatedItems */
  SG__K_MEMBERS = 1 << 10,      /* object keywords that read the members by name (see validate.c) */
  SG__K_REF_ONLY = 1 << 11,     /* nothing but $ref */
  SG__K_PLAIN = 1 << 12,        /* descends only through array or object keywords */
  SG__K_PLAIN_OBJECT = 1 << 13, /* and for objects has only properties, required and
                                   additionalProperties */
  SG__K_ALTERNATIVES = 1 << 14, /* of the applicators, only anyOf and oneOf */
  SG__K_ALT_ONLY = 1 << 15,     /* and nothing else descends or reads members */
  SG__K_FLAT = 1 << 16,         /* an SG__K_PLAIN_OBJECT node without additionalProperties whose
                                   properties are all leaves, with at most "type" of its own */
  SG__K_LEAF_ITEMS = 1 << 17,   /* descends only through prefixItems and items, into leaves,
                                   and has no contains */
  SG__K_ALT_LEAVES = 1 << 18,   /* an SG__K_ALT_ONLY node whose alternatives are all leaves */
};

/* The shapes of the keywords a node applies to the instance itself (those of a leaf) that
   validation checks with code of their own (sg__node_t.leaf), in place of going through
   every group of keywords; any other is SG__LEAF_ANY. A node that is not a leaf is only
   ever SG__LEAF_NONE, SG__LEAF_TYPE or SG__LEAF_ANY. */
enum {
  SG__LEAF_ANY = 0,
  SG__LEAF_NONE,   /* none of them */
  SG__LEAF_TYPE,   /* "type" alone */
  SG__LEAF_STRING, /* "type": "string" with minLength, maxLength, a simple pattern */
  SG__LEAF_NUMBER, /* "type" of numbers or integers with bounds, without multipleOf */
  SG__LEAF_ENUM,   /* an "enum" of strings (and maybe "type": "string") */
  SG__LEAF_CONST,  /* a string "const" (and maybe "type": "string") */
};

/* The groups of keywords that descend into subschemas or read an object's members: a node
   with none of them is a leaf. */
enum { SG__K_NOT_LEAF = SG__K_ARRAY | SG__K_OBJECT | SG__K_APPLICATOR | SG__K_UNEVALUATED };

/* Groups of names in sg__node_t.evaluated: evaluated whatever the instance; when "if"
   holds (by "if" or "then"); when it does not (by "else"). */
enum { SG__EV_ALWAYS = 1, SG__EV_IF = 2, SG__EV_ELSE = 4 };

/* A string from the schema, with its length; head as sg__head gives it, where set. */
typedef struct {
  const char *s;
  size_t len;
  uint64_t head;
} sg__str_t;

/* Formats asserted when sg_schema_opts_t.format_assert is set. */
typedef enum {
  SG__F_NONE = 0,
  SG__F_DATE_TIME,
  SG__F_DATE,
  SG__F_TIME,
  SG__F_DURATION,
  SG__F_EMAIL,
  SG__F_IDN_EMAIL,
  SG__F_HOSTNAME,
  SG__F_IDN_HOSTNAME,
  SG__F_IPV4,
  SG__F_IPV6,
  SG__F_URI,
  SG__F_URI_REFERENCE,
  SG__F_IRI,
  SG__F_IRI_REFERENCE,
  SG__F_URI_TEMPLATE,
  SG__F_UUID,
  SG__F_REGEX, /* checked by compiling the pattern: the one format that allocates */
  SG__F_JSON_POINTER,
  SG__F_RELATIVE_JSON_POINTER,
  SG__F_UNKNOWN /* a format the validator does not know: accepted */
} sg__format_t;

typedef struct sg__node sg__node_t;

/* A link to a subschema. path is the link's JSON Pointer relative to the parent node,
   escaped and without the leading "/" ("properties/a~1b", "allOf/2", "$ref"); it builds
   keyword locations when an error is reported. node is NULL when the keyword is absent.
   The path's length is kept just before it (sg__edge_pathlen), and before that the length
   of its first step, the keyword (sg__edge_kwlen), so that writing an error measures no
   string, while the edge stays two words. */
typedef struct {
  const char *path;
  const sg__node_t *node;
} sg__edge_t;

/* How many bytes from the start of an edge's path can be read, whatever its length (NUL
   past its end): a short path is copied in one go. */
enum { SG__EDGE_PATH_READABLE = 32 };

static inline size_t sg__edge_pathlen(const char *path) {
  size_t n;
  memcpy(&n, path - sizeof n, sizeof n);
  return n;
}

static inline size_t sg__edge_kwlen(const char *path) {
  size_t n;
  memcpy(&n, path - 2 * sizeof n, sizeof n);
  return n;
}

/* A number from the schema, kept exactly: integers as integers. */
typedef struct {
  int set;
  int is_int;
  int exact; /* an integer that d holds exactly, so that doubles compare with it directly */
  json_int_t i;
  double d;
} sg__num_t;

typedef struct {
  const char *name;
  size_t len;
  sg__edge_t edge;
} sg__prop_t;

typedef struct {
  pcre2_code *re;
  const char *src;
  sg__edge_t edge;
} sg__patprop_t;

typedef struct {
  const char *name;
  const char **required;
  size_t nrequired;
  unsigned id;                 /* name's in the node's name table */
  unsigned char *required_ids; /* and those of required */
} sg__depreq_t;

typedef struct {
  const char *name;
  sg__edge_t edge;
  unsigned id; /* name's in the node's name table */
} sg__depschema_t;

/* A table of the member names a node's object keywords look for (properties, required,
   dependentRequired, dependentSchemas), so that an object is read in one pass over its
   members rather than with a lookup per name. Each name has an id below 64, its bit in a
   mask of the names an object has; the id of properties[i] is i. Open addressing, at
   most half full. */
typedef struct {
  const char *name; /* NULL: an empty slot */
  size_t len;
  uint64_t head; /* see sg__key_hash */
  uint32_t hash;
  unsigned id;
} sg__slot_t;

typedef struct {
  sg__slot_t *slots;      /* NULL: no table (more than 64 names) */
  size_t mask;            /* number of slots - 1 */
  const sg__str_t *list;  /* the names by id, with their heads */
  const uint32_t *hashes; /* and their hashes */
  size_t n;
} sg__names_t;

#define SG__MAX_NAMES 64

static inline uint64_t sg__load_le(const char *p, size_t n) {
  uint64_t v = 0;
  if (n == 8) {
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
  }
  uint32_t w;
  memcpy(&w, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap32(w);
#endif
  return w;
}

/* The first eight bytes of a string (fewer for a shorter one, as a little-endian
   number), so that strings of up to eight bytes and the same length compare as numbers. */
static inline uint64_t sg__head(const char *k, size_t len) {
  if (len >= 8) return sg__load_le(k, 8);
  if (len >= 4) /* Two loads that overlap when len < 8; the shared bytes land in the same place. */
    return sg__load_le(k, 4) | sg__load_le(k + len - 4, 4) << (8 * (len - 4));
  if (len)
    return (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[len / 2] << (8 * (len / 2)) |
           (uint64_t)(unsigned char)k[len - 1] << (8 * (len - 1));
  return 0;
}

/* Whether a and b, of len bytes each, are the same string, given that their heads are:
   past eight bytes, one more load compares names of up to sixteen. */
static inline int sg__rest_eq(const char *a, const char *b, size_t len) {
  if (len <= 8) return 1;
  if (len <= 16) return sg__load_le(a + len - 8, 8) == sg__load_le(b + len - 8, 8);
  return memcmp(a + 8, b + 8, len - 8) == 0;
}

/* Whether p (len bytes) is the string s, whose head is set. */
static inline int sg__str_eq(const sg__str_t *s, const char *p, size_t len) {
  return len == s->len && sg__head(p, len) == s->head && sg__rest_eq(p, s->s, len);
}

/* Hashes a member name and sets *head to sg__head's. Every table and every object's
   members use this one function. */
static inline uint32_t sg__key_hash(const char *k, size_t len, uint64_t *head) {
  uint64_t h0, tail = 0;
  if (len >= 8) {
    h0 = sg__load_le(k, 8);
    if (len > 8) tail = sg__load_le(k + len - 8, 8);
  } else if (len >= 4) {
    /* Two loads that overlap when len < 8; the shared bytes land in the same place. */
    h0 = sg__load_le(k, 4) | sg__load_le(k + len - 4, 4) << (8 * (len - 4));
  } else if (len) {
    h0 = (uint64_t)(unsigned char)k[0] | (uint64_t)(unsigned char)k[len / 2] << (8 * (len / 2)) |
         (uint64_t)(unsigned char)k[len - 1] << (8 * (len - 1));
  } else {
    h0 = 0;
  }
  *head = h0;
  /* The high half of one product: tables take its low bits, which every byte reaches. */
  return (uint32_t)(((h0 ^ tail * 0xc2b2ae3d27d4eb4full ^ len) * 0x9e3779b97f4a7c15ull) >> 32);
}

static inline const sg__slot_t *sg__names_get(const sg__names_t *t, const char *k, size_t len,
                                              uint64_t head, uint32_t h) {
  for (size_t i = h & t->mask;; i = (i + 1) & t->mask) {
    const sg__slot_t *e = &t->slots[i];
    if (e->name == NULL) return NULL;
    if (e->hash == h && e->len == len && e->head == head && sg__rest_eq(e->name, k, len)) return e;
  }
}

static inline const sg__slot_t *sg__names_find(const sg__names_t *t, const char *k, size_t len) {
  uint64_t head;
  uint32_t h = sg__key_hash(k, len, &head);
  return sg__names_get(t, k, len, head, h);
}

/* For a node that gives an object a view (SG__K_MEMBERS, see validate.c): one table of the
   names that the node and the subschemas it applies in place look up, so that building the
   view looks each member up once for all of them. Each of those nodes has a map from its
   own name ids (sg__names_t) to the table's; the node's "evaluated" groups (SG__EV_*) are
   kept by the table's ids too. */
#define SG__PLAN_NODES 16
#define SG__PLAN_NONE 0xff /* a member whose name is not in the table */

typedef struct {
  sg__names_t names;
  const sg__node_t *nodes[SG__PLAN_NODES];
  const unsigned char *maps[SG__PLAN_NODES];
  size_t nnodes;
  const unsigned char *evaluated; /* by id: the groups that evaluate the name; NULL: none */
  uint64_t evaluated_mask[3];     /* the ids evaluated by SG__EV_ALWAYS, SG__EV_IF, SG__EV_ELSE */
} sg__plan_t;

/* A schema resource (the document root, or an object with $id): the unit of dynamic
   scope, with the $dynamicAnchor names it declares. */
typedef struct {
  const char *name;
  const sg__node_t *node;
} sg__anchor_t;

typedef struct {
  const char *uri;
  sg__anchor_t *dynamic;
  size_t ndynamic;
} sg__resource_t;

/* For anyOf and oneOf whose alternatives each require a property P (the same for all)
   and give it a string "const", like {"kind": {"const": "circle"}}: an alternative whose
   constant is not the instance's P fails. It is skipped, without evaluating it, when
   what it checks before P cannot hit a limit (see prepare.c). */
typedef struct {
  sg__str_t name; /* P */
  uint64_t head;  /* and its sg__key_hash */
  uint32_t hash;
  const sg__str_t *tags; /* the constants, each once */
  const uint64_t *cand;  /* per constant: the alternatives that give P that constant */
  size_t ntags;
  uint64_t always; /* the alternatives checked whatever P is */
  int depth_below; /* skipping needs the evaluation depth below this (see prepare.c) */
  /* Per alternative, when its constant is not the instance's P: 2 or 3 when the first
     error it reports is at most one step inside the instance (at the object or at P),
     with an error_score of at most 2 * d + bound for an object d steps deep; 0 when
     nothing bounds it. */
  const unsigned char *bound;
  /* Per alternative, when the switch may rule out every alternative: the highest bound of
     the others, or 0 when one of them has none. */
  const unsigned char *rivals;
  int objects; /* every alternative is an object schema whose "type" admits objects */
  /* Per alternative: the alternative with its check of P's constant left out, which holds
     once the switch has matched that constant (see prepare.c); node NULL when there is
     none. */
  sg__edge_t *matched;
  size_t *matched_at; /* per alternative with a copy: the id of P among its names */
} sg__switch_t;

struct sg__node {
  unsigned kw;        /* SG__K_* bits */
  unsigned char leaf; /* SG__LEAF_* */
  int boolean;        /* -1: an object schema; 0: false; 1: true */
  sg_schema_draft_t draft;
  const char *ptr; /* where the schema sits in its document, for compile errors */
  int visit;       /* scratch for the compiler's cycle check */
  int safe;        /* 0 unknown; -1 may hit a limit; -2 being worked out; else nesting depth */
  const sg__resource_t *res; /* the resource this node belongs to */

  unsigned types; /* SG__T_* bits; 0 when "type" is absent */
  json_t *enum_;  /* borrowed from the document; NULL when absent */
  json_t *const_; /* borrowed; meaningful when has_const */
  int has_const;
  /* When every "enum" value is a string (enum_strs is then set), or "const" is one
     (const_str.s set): the strings, so that a match is a comparison of bytes. */
  const sg__str_t *enum_strs;
  size_t nenum_strs;
  sg__str_t const_str;

  sg__num_t minimum, maximum, ex_minimum, ex_maximum, multiple_of;

  long min_length, max_length; /* -1 when absent */
  pcre2_code *pattern;
  const char *pattern_src;
  size_t pattern_len;
  const sg__simple_re_t *pattern_simple; /* NULL unless the pattern is that simple */
  sg__format_t format;
  const char *format_name;

  long min_items, max_items;       /* -1 when absent */
  long min_contains, max_contains; /* min_contains is 1 when absent; max -1 */
  int unique_items;
  sg__edge_t *prefix; /* prefixItems, or draft-07 "items" given as an array */
  size_t nprefix;
  sg__edge_t items; /* applies to the items after prefix */
  sg__edge_t contains;
  sg__edge_t unevaluated_items;

  long min_props, max_props; /* -1 when absent */
  sg__prop_t *props;         /* sorted by name (bytes, then length) */
  size_t nprops;
  sg__patprop_t *patprops;
  size_t npatprops;
  sg__edge_t additional;
  sg__edge_t property_names;
  sg__edge_t unevaluated_props;
  /* When what unevaluatedProperties sees as evaluated is known from the schema alone (see
     prepare.c): the names evaluated, each slot's id holding the SG__EV_* groups that
     evaluate it. slots is NULL otherwise. */
  sg__names_t evaluated;
  const char **required;
  size_t nrequired;
  unsigned char *required_ids; /* the ids of required in names */
  uint64_t required_mask;      /* and their bits */
  sg__names_t names;
  const sg__plan_t *plan; /* NULL unless the node gives objects a view and a plan helps */
  sg__depreq_t *dep_required;
  size_t ndep_required;
  sg__depschema_t *dep_schemas;
  size_t ndep_schemas;
  const char *dep_keyword; /* where dep_required came from: "dependentRequired" or "dependencies" */

  sg__edge_t *all_of, *any_of, *one_of;
  size_t nall_of, nany_of, none_of;
  const sg__switch_t *any_switch, *one_switch;
  sg__edge_t not_, if_, then_, else_;
  sg__edge_t ref;
  sg__edge_t dynamic_ref;
  const char *dynamic_anchor; /* NULL: the $dynamicRef acts as a plain $ref */
};

/* Arena: blocks freed all at once. Allocations are zeroed and suitably aligned. */
typedef struct sg__arena_block sg__arena_block_t;
typedef struct {
  sg__arena_block_t *head;
} sg__arena_t;

void *sg__arena_alloc(sg__arena_t *a, size_t n);
char *sg__arena_strndup(sg__arena_t *a, const char *s, size_t n);
void sg__arena_free(sg__arena_t *a);

struct sg_schema {
  sg__arena_t arena;
  const sg__node_t *root;
  int dynamic;   /* some $dynamicRef is dynamic: validation keeps track of the dynamic scope */
  json_t **docs; /* references held on every document the graph points into */
  size_t ndocs;
  pcre2_code **codes;
  size_t ncodes;
};

/* Whether n is a leaf: it enters no node below it (no group of SG__K_NOT_LEAF, no $ref),
   so that its own keywords alone say whether it holds. */
static inline int sg__is_leaf(const sg__node_t *n) {
  return !(n->kw & (SG__K_NOT_LEAF | SG__K_REF_ONLY));
}

/* Fills in what validation reads besides the keywords themselves (kw, the string forms
   of enum and const, ...) once the node and the nodes it links to are compiled. */
int sg__node_prepare(sg__arena_t *a, sg__node_t *n);
/* What depends on the nodes n links to being prepared; after sg__node_prepare on all. */
int sg__node_link(sg__arena_t *a, sg__node_t *n);
/* What depends on the nodes n links to being linked; after sg__node_link on all. */
int sg__node_finish(sg__arena_t *a, sg__node_t *n);

/* JSON value equality as JSON Schema defines it: numbers compare by value (1 == 1.0). */
int sg__json_equal(json_t *a, json_t *b);

/* Number of Unicode code points in a UTF-8 string. */
size_t sg__utf8_length(const char *s, size_t len);

/* Checks s against a known format; 1 when it conforms. */
int sg__format_check(sg__format_t f, const char *s, size_t len);
sg__format_t sg__format_lookup(const char *name);

#endif
