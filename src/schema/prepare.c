/*
 * What validation reads besides the keywords as compiled: which groups of keywords a node
 * holds, so that a node is checked without touching the fields of absent keywords, and
 * forms of "enum" and "const" that compare without walking JSON values. It runs once per
 * node, after the whole graph is compiled; nothing here changes what a schema means.
 */
#include <string.h>

#include "core/error.h"
#include "schema/internal.h"

static void num_exact(sg__num_t *n) {
  const json_int_t lim = (json_int_t)1 << 53;
  n->exact = n->set && n->is_int && n->i >= -lim && n->i <= lim;
}

static unsigned groups(const sg__node_t *n) {
  if (n->boolean >= 0) return n->boolean ? 0 : SG__K_FALSE;
  unsigned kw = 0;
  if (n->types) kw |= SG__K_TYPE;
  if (n->enum_) kw |= SG__K_ENUM;
  if (n->has_const) kw |= SG__K_CONST;
  if (n->minimum.set || n->maximum.set || n->ex_minimum.set || n->ex_maximum.set ||
      n->multiple_of.set)
    kw |= SG__K_NUMBER;
  if (n->min_length >= 0 || n->max_length >= 0 || n->pattern || n->format != SG__F_NONE)
    kw |= SG__K_STRING;
  if (n->min_items >= 0 || n->max_items >= 0 || n->unique_items || n->nprefix || n->items.node ||
      n->contains.node)
    kw |= SG__K_ARRAY;
  if (n->min_props >= 0 || n->max_props >= 0 || n->nrequired || n->ndep_required || n->nprops ||
      n->npatprops || n->additional.node || n->property_names.node || n->ndep_schemas)
    kw |= SG__K_OBJECT;
  if (n->ref.node || n->dynamic_ref.node || n->nall_of || n->nany_of || n->none_of ||
      n->not_.node || n->if_.node)
    kw |= SG__K_APPLICATOR;
  if (n->unevaluated_props.node || n->unevaluated_items.node) kw |= SG__K_UNEVALUATED;
  return kw;
}

/* The names being collected for a table; ids are indexes. */
typedef struct {
  sg__str_t v[SG__MAX_NAMES];
  size_t n;
  int full; /* a name did not fit */
} names_t;

static unsigned name_id(names_t *l, const char *s, size_t len) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].len == len && memcmp(l->v[i].s, s, len) == 0) return (unsigned)i;
  if (l->n == SG__MAX_NAMES) {
    l->full = 1;
    return 0;
  }
  l->v[l->n].s = s;
  l->v[l->n].len = len;
  return (unsigned)l->n++;
}

/* Lays the names out in a table at most half full, bigger when that shortens the probes. */
static int names_table(sg__arena_t *a, const names_t *l, const unsigned *ids, sg__names_t *t) {
  size_t cap = 8;
  while (cap < 2 * l->n) cap *= 2;
  uint64_t heads[SG__MAX_NAMES];
  uint32_t hashes[SG__MAX_NAMES];
  for (size_t i = 0; i < l->n; i++) hashes[i] = sg__key_hash(l->v[i].s, l->v[i].len, &heads[i]);
  for (int tries = 0;; tries++, cap *= 2) {
    size_t cost = 0;
    t->slots = sg__arena_alloc(a, cap * sizeof *t->slots);
    if (t->slots == NULL) return SG_ENOMEM;
    t->mask = cap - 1;
    for (size_t i = 0; i < l->n; i++) {
      size_t k = hashes[i] & t->mask;
      while (t->slots[k].name) {
        k = (k + 1) & t->mask;
        cost++;
      }
      t->slots[k] =
          (sg__slot_t){l->v[i].s, l->v[i].len, heads[i], hashes[i], ids ? ids[i] : (unsigned)i};
    }
    if (cost * 4 <= l->n || tries == 2) break;
  }
  sg__str_t *list = sg__arena_alloc(a, (l->n + 1) * sizeof *list);
  uint32_t *h = sg__arena_alloc(a, (l->n + 1) * sizeof *h);
  if (list == NULL || h == NULL) return SG_ENOMEM;
  for (size_t i = 0; i < l->n; i++) {
    list[i] = (sg__str_t){l->v[i].s, l->v[i].len, heads[i]};
    h[i] = hashes[i];
  }
  t->list = list;
  t->hashes = h;
  t->n = l->n;
  return 0;
}

/* The name table of the object keywords. Names other than those of properties are C
   strings, looked up by their length up to the first NUL as they always were. */
static int object_names(sg__arena_t *a, sg__node_t *n) {
  names_t l = {.n = 0};
  if (n->nprops > SG__MAX_NAMES) return 0;
  for (size_t i = 0; i < n->nprops; i++) {
    l.v[i].s = n->props[i].name;
    l.v[i].len = n->props[i].len;
  }
  l.n = n->nprops;
  n->required_ids = sg__arena_alloc(a, n->nrequired + 1);
  if (n->required_ids == NULL) return SG_ENOMEM;
  for (size_t i = 0; i < n->nrequired; i++) {
    n->required_ids[i] = (unsigned char)name_id(&l, n->required[i], strlen(n->required[i]));
    n->required_mask |= (uint64_t)1 << n->required_ids[i];
  }
  for (size_t i = 0; i < n->ndep_required; i++) {
    sg__depreq_t *d = &n->dep_required[i];
    d->id = name_id(&l, d->name, strlen(d->name));
    d->required_ids = sg__arena_alloc(a, d->nrequired + 1);
    if (d->required_ids == NULL) return SG_ENOMEM;
    for (size_t k = 0; k < d->nrequired; k++)
      d->required_ids[k] = (unsigned char)name_id(&l, d->required[k], strlen(d->required[k]));
  }
  for (size_t i = 0; i < n->ndep_schemas; i++) {
    sg__depschema_t *d = &n->dep_schemas[i];
    d->id = name_id(&l, d->name, strlen(d->name));
  }
  if (l.full) return 0;
  return names_table(a, &l, NULL, &n->names);
}

/* unevaluatedProperties needs the members that the node's other keywords and its in-place
   subschemas evaluated. When those subschemas evaluate only the names of their
   "properties" (no patternProperties, additionalProperties, anyOf, oneOf, nested if, ...),
   the answer is a set of names fixed by the schema, plus those of "if" and "then" or those
   of "else" according to the outcome of "if", which validation knows by then. */
typedef struct {
  names_t l;
  unsigned groups[SG__MAX_NAMES];
} evaluated_t;

static void evaluated_add(evaluated_t *e, const sg__node_t *n, unsigned group) {
  for (size_t i = 0; i < n->nprops; i++) {
    size_t before = e->l.n;
    unsigned id = name_id(&e->l, n->props[i].name, n->props[i].len);
    if (e->l.full) return;
    if (e->l.n > before) e->groups[id] = 0;
    e->groups[id] |= group;
  }
}

/* Adds what n evaluates, n being a subschema applied in place; 0 when that depends on more
   than the outcome of the top node's "if". */
static int evaluated_in_place(evaluated_t *e, const sg__node_t *n, unsigned group, int depth) {
  if (n == NULL || n->boolean >= 0) return 1;
  if (depth > 8 || n->additional.node || n->unevaluated_props.node || n->npatprops || n->nany_of ||
      n->none_of || n->if_.node || n->dynamic_ref.node || n->ndep_schemas)
    return 0;
  evaluated_add(e, n, group);
  if (!evaluated_in_place(e, n->ref.node, group, depth + 1)) return 0;
  for (size_t i = 0; i < n->nall_of; i++)
    if (!evaluated_in_place(e, n->all_of[i].node, group, depth + 1)) return 0;
  return !e->l.full;
}

static int evaluated_names(sg__arena_t *a, sg__node_t *n) {
  if (n->unevaluated_props.node == NULL || n->additional.node || n->npatprops || n->nany_of ||
      n->none_of || n->dynamic_ref.node || n->ndep_schemas)
    return 0;
  evaluated_t e;
  e.l.n = 0;
  e.l.full = 0;
  evaluated_add(&e, n, SG__EV_ALWAYS);
  int ok = evaluated_in_place(&e, n->ref.node, SG__EV_ALWAYS, 1);
  for (size_t i = 0; ok && i < n->nall_of; i++)
    ok = evaluated_in_place(&e, n->all_of[i].node, SG__EV_ALWAYS, 1);
  if (ok && n->if_.node)
    ok = evaluated_in_place(&e, n->if_.node, SG__EV_IF, 1) &&
         evaluated_in_place(&e, n->then_.node, SG__EV_IF, 1) &&
         evaluated_in_place(&e, n->else_.node, SG__EV_ELSE, 1);
  if (!ok || e.l.full) return 0;
  return names_table(a, &e.l, e.groups, &n->evaluated);
}

int sg__node_prepare(sg__arena_t *a, sg__node_t *n) {
  n->kw = groups(n);
  if (n->boolean >= 0) return 0;
  if ((n->kw & SG__K_OBJECT) && object_names(a, n)) return SG_ENOMEM;
  if (evaluated_names(a, n)) return SG_ENOMEM;
  if ((n->kw & SG__K_OBJECT) && n->names.slots && n->min_props < 0 && n->max_props < 0 &&
      !n->ndep_required && !n->npatprops && !n->property_names.node && !n->ndep_schemas)
    n->kw |= SG__K_PLAIN_OBJECT;
  if ((n->nany_of || n->none_of) && !n->ref.node && !n->dynamic_ref.node && !n->nall_of &&
      !n->not_.node && !n->if_.node)
    n->kw |= SG__K_ALTERNATIVES;
  if (n->kw == SG__K_APPLICATOR && n->ref.node && !n->dynamic_ref.node && !n->nall_of &&
      !n->nany_of && !n->none_of && !n->not_.node && !n->if_.node)
    n->kw |= SG__K_REF_ONLY;
  sg__simple_re_t simple;
  if (n->pattern && sg__regex_simple(n->pattern_src, n->pattern_len, &simple)) {
    sg__simple_re_t *re = sg__arena_alloc(a, sizeof *re);
    if (re == NULL) return SG_ENOMEM;
    *re = simple;
    n->pattern_simple = re;
  }
  num_exact(&n->minimum);
  num_exact(&n->maximum);
  num_exact(&n->ex_minimum);
  num_exact(&n->ex_maximum);
  num_exact(&n->multiple_of);
  if (n->has_const && json_is_string(n->const_)) {
    n->const_str.s = json_string_value(n->const_);
    n->const_str.len = json_string_length(n->const_);
    n->const_str.head = sg__head(n->const_str.s, n->const_str.len);
  }
  size_t size = json_array_size(n->enum_);
  for (size_t i = 0; i < size; i++)
    if (!json_is_string(json_array_get(n->enum_, i))) return 0;
  if (n->enum_ && size) {
    sg__str_t *v = sg__arena_alloc(a, size * sizeof *v);
    if (v == NULL) return SG_ENOMEM;
    for (size_t i = 0; i < size; i++) {
      json_t *e = json_array_get(n->enum_, i);
      v[i].s = json_string_value(e);
      v[i].len = json_string_length(e);
      v[i].head = sg__head(v[i].s, v[i].len);
    }
    n->enum_strs = v;
    n->nenum_strs = size;
  }
  return 0;
}

/* How deep evaluating n can go, in nodes entered, when nothing under it can hit a limit
   (no pattern, patternProperties, uniqueItems, unevaluated*, $dynamicRef, cycle); -1
   otherwise. Validation refuses an instance when a pattern exceeds its match limits or
   memory runs out, and those refusals must not depend on which checks were skipped. */
static int limit_free_depth(const sg__node_t *cn) {
  sg__node_t *n = (sg__node_t *)cn;
  if (n == NULL) return 0;
  if (n->boolean >= 0) return 1;
  if (n->safe == -2) return -1; /* a cycle */
  if (n->safe) return n->safe;
  if (n->pattern || n->npatprops || n->unique_items || n->unevaluated_props.node ||
      n->unevaluated_items.node || n->dynamic_ref.node) {
    n->safe = -1;
    return -1;
  }
  n->safe = -2;
  int d = 0;
  const sg__edge_t *single[] = {&n->ref,   &n->not_,     &n->if_,
                                &n->then_, &n->else_,    &n->additional,
                                &n->items, &n->contains, &n->property_names};
  for (size_t i = 0; d >= 0 && i < sizeof single / sizeof single[0]; i++) {
    int k = limit_free_depth(single[i]->node);
    d = k < 0 ? -1 : k > d ? k : d;
  }
  const struct {
    const sg__edge_t *e;
    size_t n;
    size_t step;
  } lists[] = {
      {n->all_of, n->nall_of, sizeof(sg__edge_t)},
      {n->any_of, n->nany_of, sizeof(sg__edge_t)},
      {n->one_of, n->none_of, sizeof(sg__edge_t)},
      {n->prefix, n->nprefix, sizeof(sg__edge_t)},
      {n->nprops ? &n->props[0].edge : NULL, n->nprops, sizeof(sg__prop_t)},
      {n->ndep_schemas ? &n->dep_schemas[0].edge : NULL, n->ndep_schemas, sizeof(sg__depschema_t)}};
  for (size_t l = 0; d >= 0 && l < sizeof lists / sizeof lists[0]; l++)
    for (size_t i = 0; d >= 0 && i < lists[l].n; i++) {
      const sg__edge_t *e = (const sg__edge_t *)((const char *)lists[l].e + i * lists[l].step);
      int k = limit_free_depth(e->node);
      d = k < 0 ? -1 : k > d ? k : d;
    }
  n->safe = d < 0 || d >= 64 ? -1 : d + 1;
  return n->safe;
}

/* The string constant alternative a gives name, when a requires name; NULL otherwise. */
static const sg__prop_t *tagged(const sg__node_t *a, const sg__str_t *name, size_t *at) {
  if (a->boolean >= 0 || a->names.slots == NULL) return NULL;
  const sg__slot_t *e = sg__names_find(&a->names, name->s, name->len);
  if (e == NULL || e->id >= a->nprops) return NULL;
  const sg__node_t *t = a->props[e->id].edge.node;
  if (t->boolean >= 0 || !(t->kw & SG__K_CONST) || t->const_str.s == NULL) return NULL;
  size_t r = 0;
  while (r < a->nrequired && a->required_ids[r] != e->id) r++;
  if (r == a->nrequired) return NULL;
  *at = e->id;
  return &a->props[e->id];
}

/* sg__switch_t.bound for alternative a, whose property at (in the order of names) is P.
   Its checks run in this order: those of the object itself (at the object), then the
   properties in the order of their names; the first error is at P or before when P's
   constant does not match. An error at the object scores at most 2 * d + 1, one on a
   leaf property 2 * d + 3, and a mismatched constant alone 2 * d + 2. */
static unsigned char tag_bound(const sg__node_t *a, size_t at) {
  if (a->kw & (SG__K_APPLICATOR | SG__K_UNEVALUATED)) return 0;
  unsigned char b = 2;
  for (size_t k = 0; k <= at; k++) {
    const sg__node_t *t = a->props[k].edge.node;
    if (t->boolean >= 0) {
      if (t->boolean == 0) b = 3;
      continue;
    }
    if (!sg__is_leaf(t)) return 0;
    if (k < at || (t->kw & ~(unsigned)SG__K_CONST)) b = 3;
  }
  return b;
}

static int switch_for(sg__arena_t *a, const sg__edge_t *alts, size_t n, const sg__switch_t **out) {
  if (n < 2 || n > 64) return 0;
  /* The candidates for P: the names of the first alternative's properties. */
  const sg__node_t *first = alts[0].node;
  if (first->boolean >= 0) return 0;
  for (size_t p = 0; p < first->nprops; p++) {
    sg__str_t name = {first->props[p].name, first->props[p].len};
    size_t tags = 0;
    for (size_t i = 0; i < n; i++) {
      size_t at;
      tags += tagged(alts[i].node, &name, &at) != NULL;
    }
    if (tags < 2) continue;
    sg__switch_t *sw = sg__arena_alloc(a, sizeof *sw);
    sg__str_t *tag = sg__arena_alloc(a, n * sizeof *tag);
    uint64_t *cand = sg__arena_alloc(a, n * sizeof *cand);
    unsigned char *bound = sg__arena_alloc(a, n);
    unsigned char *rivals = sg__arena_alloc(a, n);
    sg__edge_t *matched = sg__arena_alloc(a, n * sizeof *matched);
    size_t *matched_at = sg__arena_alloc(a, n * sizeof *matched_at);
    if (sw == NULL || tag == NULL || cand == NULL || bound == NULL || rivals == NULL ||
        matched == NULL || matched_at == NULL)
      return SG_ENOMEM;
    sw->always = n == 64 ? ~(uint64_t)0 : ((uint64_t)1 << n) - 1;
    sw->depth_below = SG__MAX_DEPTH;
    for (size_t i = 0; i < n; i++) {
      size_t at;
      const sg__prop_t *t = tagged(alts[i].node, &name, &at);
      if (t == NULL) continue;
      /* The properties checked before P, in the order of their names. */
      int d = 0;
      for (size_t k = 0; d >= 0 && k < at; k++) {
        int e = limit_free_depth(alts[i].node->props[k].edge.node);
        d = e < 0 ? -1 : e > d ? e : d;
      }
      if (d < 0) continue;
      /* Skipping it must not hide a depth limit: its checks enter d + 2 levels (the
         alternative, then the properties' schemas), and 16 more are kept in hand for a
         "then" working out what was evaluated (see validate.c). */
      if (SG__MAX_DEPTH - 16 - (d + 2) < sw->depth_below)
        sw->depth_below = SG__MAX_DEPTH - 16 - (d + 2);
      sw->always &= ~((uint64_t)1 << i);
      bound[i] = tag_bound(alts[i].node, at);
      const sg__str_t *v = &t->edge.node->const_str;
      size_t k = 0;
      while (k < sw->ntags && !(tag[k].len == v->len && memcmp(tag[k].s, v->s, v->len) == 0)) k++;
      if (k == sw->ntags) {
        tag[k] = *v;
        cand[k] = 0;
        sw->ntags++;
      }
      cand[k] |= (uint64_t)1 << i;
    }
    for (size_t i = 0; sw->always == 0 && i < n; i++)
      for (size_t k = 0; k < n; k++) {
        if (k == i) continue;
        if (bound[k] == 0) {
          rivals[i] = 0;
          break;
        }
        if (bound[k] > rivals[i]) rivals[i] = bound[k];
      }
    sw->rivals = rivals;
    sw->objects = 1;
    for (size_t i = 0; i < n; i++)
      if (alts[i].node->boolean >= 0 || !(alts[i].node->types & SG__T_OBJECT)) sw->objects = 0;
    sw->matched = matched;
    sw->matched_at = matched_at;
    sw->name = name;
    sw->hash = sg__key_hash(name.s, name.len, &sw->head);
    sw->tags = tag;
    sw->cand = cand;
    sw->bound = bound;
    *out = sw;
    return 0;
  }
  return 0;
}

/* sg__switch_t.matched: for each alternative the switch may rule out that checks nothing
   but its own object keywords, and whose P is checked by its constant alone (with
   "type": "string" perhaps), a copy whose P holds for any value. The switch enters it when
   it has matched that constant, which is then known to hold: the copy does all else the
   alternative does, in the same order, and reports the same errors. */
static int matched_for(sg__arena_t *a, const sg__switch_t *sw, const sg__edge_t *alts, size_t n) {
  for (size_t i = 0; sw && i < n && i < 64; i++) {
    const sg__node_t *alt = alts[i].node;
    size_t at;
    if (((sw->always >> i) & 1) || !(alt->kw & SG__K_PLAIN) ||
        tagged(alt, &sw->name, &at) == NULL || alt->props[at].edge.node->leaf != SG__LEAF_CONST)
      continue;
    sg__node_t *copy = sg__arena_alloc(a, sizeof *copy);
    sg__prop_t *props = sg__arena_alloc(a, alt->nprops * sizeof *props);
    sg__node_t *any = sg__arena_alloc(a, sizeof *any);
    if (copy == NULL || props == NULL || any == NULL) return SG_ENOMEM;
    /* P's schema without its constant and type: the schema {}, where it stood. */
    *any = *alt->props[at].edge.node;
    any->kw = 0;
    any->types = 0;
    any->has_const = 0;
    any->const_ = NULL;
    any->const_str = (sg__str_t){NULL, 0, 0};
    any->leaf = SG__LEAF_NONE;
    memcpy(props, alt->props, alt->nprops * sizeof *props);
    props[at].edge.node = any;
    *copy = *alt;
    copy->props = props;
    sw->matched[i] = (sg__edge_t){alts[i].path, copy};
    sw->matched_at[i] = at;
  }
  return 0;
}

int sg__node_finish(sg__arena_t *a, sg__node_t *n) {
  if (n->boolean >= 0) return 0;
  if (matched_for(a, n->any_switch, n->any_of, n->nany_of) ||
      matched_for(a, n->one_switch, n->one_of, n->none_of))
    return SG_ENOMEM;
  return 0;
}

/* Whether each constant of sw picks a single alternative. */
static int single_picks(const sg__switch_t *sw) {
  for (size_t k = 0; k < sw->ntags; k++)
    if (sw->cand[k] & (sw->cand[k] - 1)) return 0;
  return 1;
}

/* How many times n reads an object's members by name: its object keywords,
   unevaluatedProperties; a node that gives the object a view counts once. The switch of
   an anyOf or oneOf, which looks for one member, is not counted: it reads a small object
   without a view at about the cost of building one. */
static int member_reads(const sg__node_t *n) {
  if (n == NULL || n->boolean >= 0) return 0;
  if (n->kw & SG__K_MEMBERS) return 1;
  return (n->names.slots &&
          (n->names.n || n->npatprops || n->additional.node || n->property_names.node)) +
         (n->evaluated.slots != NULL);
}

/* Whether an object should get a view (see validate.c) at n: when n and the subschemas
   it applies in place read its members more than once between them. */
static int shared_reads(const sg__node_t *n) {
  int reads = member_reads(n);
  const sg__edge_t *single[] = {&n->ref, &n->not_, &n->if_, &n->then_, &n->else_};
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
    reads += member_reads(single[i]->node);
  const struct {
    const sg__edge_t *e;
    size_t n;
  } lists[] = {{n->all_of, n->nall_of}, {n->any_of, n->nany_of}, {n->one_of, n->none_of}};
  const sg__switch_t *sw[] = {NULL, n->any_switch, n->one_switch};
  for (size_t l = 0; l < 3; l++) {
    /* Alternatives that a switch picks one at a time are read one at a time. */
    int gated = sw[l] && sw[l]->always == 0 && single_picks(sw[l]), most = 0;
    for (size_t i = 0; i < lists[l].n; i++) {
      int r = member_reads(lists[l].e[i].node);
      if (gated) {
        most = r > most ? r : most;
      } else {
        reads += r;
      }
    }
    reads += most;
  }
  return reads >= 2;
}

/* sg__node_t.leaf: the shape of a leaf, once its string forms and automaton are known. */
static unsigned leaf_shape(const sg__node_t *n) {
  unsigned kw = n->kw & (SG__K_TYPE | SG__K_ENUM | SG__K_CONST | SG__K_NUMBER | SG__K_STRING);
  if (n->kw & (SG__K_REF_ONLY | SG__K_FALSE)) return SG__LEAF_ANY;
  if (kw == 0) return SG__LEAF_NONE;
  if (kw == SG__K_TYPE) return SG__LEAF_TYPE;
  if (n->kw & SG__K_NOT_LEAF) return SG__LEAF_ANY;
  unsigned strings = kw & SG__K_TYPE ? n->types == SG__T_STRING : 1;
  if ((kw & ~(unsigned)SG__K_TYPE) == SG__K_ENUM && n->enum_strs && strings) return SG__LEAF_ENUM;
  if ((kw & ~(unsigned)SG__K_TYPE) == SG__K_CONST && n->const_str.s && strings)
    return SG__LEAF_CONST;
  if (kw == (SG__K_TYPE | SG__K_STRING) && n->types == SG__T_STRING && n->format == SG__F_NONE &&
      (n->pattern == NULL || n->pattern_simple))
    return SG__LEAF_STRING;
  if (kw == (SG__K_TYPE | SG__K_NUMBER) &&
      !(n->types & ~(unsigned)(SG__T_NUMBER | SG__T_INTEGER)) && !n->multiple_of.set)
    return SG__LEAF_NUMBER;
  return SG__LEAF_ANY;
}

/* Adds t to the nodes a plan covers, once, when it looks names up in a table. */
static void plan_node(const sg__node_t **nodes, size_t *k, const sg__node_t *t) {
  if (t == NULL || t->boolean >= 0 || t->names.slots == NULL || t->names.n == 0) return;
  for (size_t i = 0; i < *k; i++)
    if (nodes[i] == t) return;
  if (*k < SG__PLAN_NODES) nodes[(*k)++] = t;
}

/* sg__node_t.plan, for a node that gives objects a view: its own names, those of the
   subschemas it applies in place and those unevaluatedProperties counts as evaluated, in
   one table, when they fit. */
static int plan_for(sg__arena_t *a, sg__node_t *n) {
  const sg__node_t *nodes[SG__PLAN_NODES];
  size_t k = 0;
  plan_node(nodes, &k, n);
  const sg__edge_t *single[] = {&n->ref, &n->not_, &n->if_, &n->then_, &n->else_};
  for (size_t i = 0; i < sizeof single / sizeof single[0]; i++)
    plan_node(nodes, &k, single[i]->node);
  for (size_t i = 0; i < n->nall_of; i++) plan_node(nodes, &k, n->all_of[i].node);
  for (size_t i = 0; i < n->nany_of; i++) plan_node(nodes, &k, n->any_of[i].node);
  for (size_t i = 0; i < n->none_of; i++) plan_node(nodes, &k, n->one_of[i].node);
  for (size_t i = 0; i < n->ndep_schemas; i++) plan_node(nodes, &k, n->dep_schemas[i].edge.node);
  if (k + (n->evaluated.slots != NULL) < 2) return 0; /* one reader: nothing to share */
  names_t l = {.n = 0};
  unsigned char maps[SG__PLAN_NODES][SG__MAX_NAMES];
  for (size_t j = 0; j < k; j++)
    for (size_t i = 0; i < nodes[j]->names.n; i++)
      maps[j][i] =
          (unsigned char)name_id(&l, nodes[j]->names.list[i].s, nodes[j]->names.list[i].len);
  unsigned char groups[SG__MAX_NAMES] = {0};
  if (n->evaluated.slots)
    for (size_t s = 0; s <= n->evaluated.mask; s++) {
      const sg__slot_t *e = &n->evaluated.slots[s];
      if (e->name) groups[name_id(&l, e->name, e->len)] |= (unsigned char)e->id;
    }
  if (l.full) return 0;
  sg__plan_t *p = sg__arena_alloc(a, sizeof *p);
  if (p == NULL || names_table(a, &l, NULL, &p->names)) return SG_ENOMEM;
  for (size_t j = 0; j < k; j++) {
    unsigned char *m = sg__arena_alloc(a, nodes[j]->names.n);
    if (m == NULL) return SG_ENOMEM;
    memcpy(m, maps[j], nodes[j]->names.n);
    p->nodes[j] = nodes[j];
    p->maps[j] = m;
  }
  p->nnodes = k;
  if (n->evaluated.slots) {
    unsigned char *g = sg__arena_alloc(a, l.n);
    if (g == NULL) return SG_ENOMEM;
    memcpy(g, groups, l.n);
    p->evaluated = g;
    for (size_t i = 0; i < l.n; i++)
      for (unsigned b = 0; b < 3; b++)
        if (groups[i] & (1u << b)) p->evaluated_mask[b] |= (uint64_t)1 << i;
  }
  n->plan = p;
  return 0;
}

/* Whether the n edges all lead to leaves. */
static int all_leaves(const sg__edge_t *e, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (e[i].node == NULL || !sg__is_leaf(e[i].node)) return 0;
  return 1;
}

/* Whether n descends only through prefixItems and items, and those are leaves: an array is
   then checked in one loop (SG__K_LEAF_ITEMS, see validate.c). */
static int leaf_items(const sg__node_t *n) {
  if ((n->kw & (SG__K_NOT_LEAF | SG__K_REF_ONLY)) != SG__K_ARRAY || n->contains.node) return 0;
  return all_leaves(n->prefix, n->nprefix) && (n->items.node == NULL || sg__is_leaf(n->items.node));
}

/* Whether every alternative of n, an SG__K_ALT_ONLY node, is a leaf: n then holds or not
   as its leaves' checks tell (SG__K_ALT_LEAVES, see validate.c). */
static int alt_leaves(const sg__node_t *n) {
  return all_leaves(n->any_of, n->nany_of) && all_leaves(n->one_of, n->none_of);
}

int sg__node_link(sg__arena_t *a, sg__node_t *n) {
  if (n->boolean >= 0) return 0;
  n->leaf = (unsigned char)leaf_shape(n);
  if (switch_for(a, n->any_of, n->nany_of, &n->any_switch) ||
      switch_for(a, n->one_of, n->none_of, &n->one_switch))
    return SG_ENOMEM;
  if (!(n->kw & SG__K_REF_ONLY) && shared_reads(n)) n->kw |= SG__K_MEMBERS;
  if ((n->kw & SG__K_MEMBERS) && plan_for(a, n)) return SG_ENOMEM;
  if ((n->kw & SG__K_NOT_LEAF) &&
      !(n->kw & (SG__K_APPLICATOR | SG__K_UNEVALUATED | SG__K_MEMBERS | SG__K_REF_ONLY)))
    n->kw |= SG__K_PLAIN;
  if ((n->kw & SG__K_PLAIN) && (n->kw & SG__K_PLAIN_OBJECT) && n->additional.node == NULL &&
      (n->leaf == SG__LEAF_NONE || n->leaf == SG__LEAF_TYPE)) {
    int leaves = 1;
    for (size_t i = 0; i < n->nprops; i++)
      if (!sg__is_leaf(n->props[i].edge.node)) leaves = 0;
    if (leaves) n->kw |= SG__K_FLAT;
  }
  if ((n->kw & SG__K_ALTERNATIVES) &&
      !(n->kw & (SG__K_ARRAY | SG__K_OBJECT | SG__K_UNEVALUATED | SG__K_MEMBERS)))
    n->kw |= SG__K_ALT_ONLY;
  if ((n->kw & SG__K_ALT_ONLY) && alt_leaves(n)) n->kw |= SG__K_ALT_LEAVES;
  if (leaf_items(n)) n->kw |= SG__K_LEAF_ITEMS;
  return 0;
}
