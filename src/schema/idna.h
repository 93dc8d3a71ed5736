/*
 * Internationalised host-name labels for the "hostname" and "idn-hostname" formats:
 * Punycode (RFC 3492) and the IDNA2008 rules a label can be checked against without the
 * full derived-property tables (see idna.c). Code points are uint32_t arrays the caller
 * owns.
 */
#ifndef SG_SCHEMA_IDNA_H
#define SG_SCHEMA_IDNA_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the Punycode in s[0..len) (an A-label without its "xn--") into out, which has
   room for cap code points. Returns how many it wrote, or -1 when s is not valid Punycode
   or does not fit. */
long sg__punycode_decode(const char *s, size_t len, uint32_t *out, size_t cap);

/* 1 when the U-label cp[0..n) passes the checks of idna.c, else 0. */
int sg__idna_label_ok(const uint32_t *cp, size_t n);

#endif
