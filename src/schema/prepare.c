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

int sg__node_prepare(sg__arena_t *a, sg__node_t *n) {
  n->kw = groups(n);
  if (n->boolean >= 0) return 0;
  num_exact(&n->minimum);
  num_exact(&n->maximum);
  num_exact(&n->ex_minimum);
  num_exact(&n->ex_maximum);
  num_exact(&n->multiple_of);
  if (n->has_const && json_is_string(n->const_)) {
    n->const_str.s = json_string_value(n->const_);
    n->const_str.len = json_string_length(n->const_);
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
    }
    n->enum_strs = v;
    n->nenum_strs = size;
  }
  return 0;
}
