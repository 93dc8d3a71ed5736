/*
 * JSON value equality as JSON Schema defines it, used by enum/const and by envelopes:
 * numbers compare by mathematical value (1 equals 1.0), objects ignore member order.
 */
#ifndef SG_JSON_EQUAL_H
#define SG_JSON_EQUAL_H

#include <jansson.h>

int sg_json_equal(json_t *a, json_t *b);

#endif
