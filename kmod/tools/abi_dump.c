/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * abi_dump: prints the ABI as this C compiler lays it out, as JSON: every
 * struct and union of vpc.h and freebsd_layouts.h with every field (offset,
 * size, integer type or nested type, array length, whether it is padding),
 * vpc.h's integer types, constants, errnos and object types, and the core's
 * op table with each op's key and value types.  scripts/gen-abi.ts writes
 * the TypeScript side from this, and test/abi.test.ts checks koffi's
 * layouts against it.
 *
 * Which names to print comes from abi_list.generated.h, which gen-abi.ts
 * writes from clang's parse of the headers: no field is listed by hand here.
 * Every number comes from the compiler (sizeof, offsetof, the constants'
 * values), and every entry's shape is checked as it compiles: a scalar must
 * be an integer type (the _Generic below has no default), an array must be
 * subscriptable, a nested field must have the type the list names.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "vpc.h"
#include "freebsd_layouts.h"
#include "vpc_core.h"

/* ---- JSON, by hand: each list knows whether it has printed an item ---- */

static int nitems;              /* items printed in the current section */
static int nfields;             /* fields printed in the current record */
static int naliases;            /* aliases printed in the current record */
static int in_fields;           /* the record's "fields" list is open */

static const char *
next_item(void)
{
	return (nitems++ > 0 ? ",\n" : "\n");
}

static void
section_begin(const char *name, char open)
{
	printf("  \"%s\": %c", name, open);
	nitems = 0;
}

static void
section_end(char close, int last)
{
	printf("\n  %c%s\n", close, last ? "" : ",");
}

/* ---- Integer types: "int32", "uint8", or "char" (a string's bytes) ---- */

#define INT_SIGN(x) _Generic((x),                                       \
	char: 'c',                                                      \
	signed char: 's', short: 's', int: 's', long: 's', long long: 's', \
	unsigned char: 'u', unsigned short: 'u', unsigned int: 'u',     \
	unsigned long: 'u', unsigned long long: 'u')
#define INT_TYPE(x)     int_type(INT_SIGN(x), sizeof(x))

static const char *
int_type(char sign, size_t size)
{
	static const char *const s[] = { "int8", "int16", "int32", "int64" };
	static const char *const u[] = { "uint8", "uint16", "uint32", "uint64" };
	unsigned i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;

	if (sign == 'c')
		return ("char");
	return (sign == 's' ? s[i] : u[i]);
}

/* ---- Structs and unions ------------------------------------------------ */

#define MEMBER(t, f)    (((t *)0)->f)
#define SAME_TYPE(a, b) __builtin_types_compatible_p(__typeof__(a), b)

static void
record_begin(const char *name, const char *ctype, const char *header,
    int is_union, size_t size)
{
	printf("%s    \"%s\": { \"ctype\": \"%s\", \"header\": \"%s\", "
	    "\"union\": %s, \"size\": %zu, \"fields\": [", next_item(), name,
	    ctype, header, is_union ? "true" : "false", size);
	nfields = naliases = 0;
	in_fields = 1;
}

/* Padding is a field named _padN: there to be zero, never to carry meaning. */
static int
is_padding(const char *name)
{
	if (strncmp(name, "_pad", 4) != 0 || name[4] == '\0')
		return (0);
	for (name += 4; *name != '\0'; name++)
		if (!isdigit((unsigned char)*name))
			return (0);
	return (1);
}

static void
field(const char *name, const char *shape, size_t offset, size_t size,
    const char *type, size_t count, const char *ctype)
{
	printf("%s      { \"name\": \"%s\", \"shape\": \"%s\", \"offset\": %zu, "
	    "\"size\": %zu, \"type\": \"%s\", \"count\": %zu, "
	    "\"ctype\": \"%s\", \"padding\": %s }", nfields++ > 0 ? ",\n" : "\n",
	    name, shape, offset, size, type, count, ctype,
	    is_padding(name) ? "true" : "false");
}

static void
fields_end(void)
{
	if (in_fields)
		printf(" ], \"aliases\": {");
	in_fields = 0;
}

static void
alias(const char *name, const char *of)
{
	fields_end();
	printf("%s \"%s\": \"%s\"", naliases++ > 0 ? "," : "", name, of);
}

static void
records(void)
{
	section_begin("records", '{');
#define ABI_STRUCT(t, name, header) \
	record_begin(name, #t, header, 0, sizeof(t));
#define ABI_UNION(t, name, header) \
	record_begin(name, #t, header, 1, sizeof(t));
#define ABI_SCALAR(t, f, decl)                                          \
	_Static_assert(SAME_TYPE(MEMBER(t, f), decl),                   \
	    #t "." #f " is not " #decl);                                \
	field(#f, "scalar", offsetof(t, f), sizeof(MEMBER(t, f)),        \
	    INT_TYPE(MEMBER(t, f)), 1, #decl);
#define ABI_ARRAY(t, f, elem)                                           \
	_Static_assert(SAME_TYPE(MEMBER(t, f)[0], elem),                \
	    #t "." #f " is not " #elem "[]");                           \
	field(#f, "array", offsetof(t, f), sizeof(MEMBER(t, f)),         \
	    INT_TYPE(MEMBER(t, f)[0]),                                  \
	    sizeof(MEMBER(t, f)) / sizeof(MEMBER(t, f)[0]), #elem);
#define ABI_NESTED(t, f, nested, name)                                  \
	_Static_assert(SAME_TYPE(MEMBER(t, f), nested),                 \
	    #t "." #f " is not " #nested);                              \
	field(#f, "nested", offsetof(t, f), sizeof(MEMBER(t, f)), name, 1, \
	    #nested);
#define ABI_ALIAS(t, a, f)                                              \
	_Static_assert(offsetof(t, a) == offsetof(t, f) &&              \
	    SAME_TYPE(MEMBER(t, a), __typeof__(MEMBER(t, f))),          \
	    #t "." #a " is not " #f);                                   \
	alias(#a, #f);
#define ABI_END()       fields_end(); printf(" } }");
#define ABI_LIST_RECORDS
#include "abi_list.generated.h"
#undef ABI_LIST_RECORDS
#undef ABI_STRUCT
#undef ABI_UNION
#undef ABI_SCALAR
#undef ABI_ARRAY
#undef ABI_NESTED
#undef ABI_ALIAS
#undef ABI_END
	section_end('}', 0);
}

/* ---- Scalar types, constants, errnos, object types ---------------------- */

static void
typedefs(void)
{
	section_begin("types", '{');
#define ABI_TYPEDEF(t)                                                  \
	printf("%s    \"%s\": { \"size\": %zu, \"type\": \"%s\" }", next_item(), \
	    #t, sizeof(t), INT_TYPE((t)0));
#define ABI_LIST_TYPEDEFS
#include "abi_list.generated.h"
#undef ABI_LIST_TYPEDEFS
#undef ABI_TYPEDEF
	section_end('}', 0);
}

/* Values are strings of decimal digits: a JSON number is a double. */
static void
constant_signed(const char *name, long long v)
{
	printf("%s    \"%s\": \"%lld\"", next_item(), name, v);
}

static void
constant_unsigned(const char *name, unsigned long long v)
{
	printf("%s    \"%s\": \"%llu\"", next_item(), name, v);
}

static void
constants(void)
{
	section_begin("constants", '{');
#define ABI_CONST(c) _Generic((c),                                      \
	unsigned int: constant_unsigned, unsigned long: constant_unsigned, \
	unsigned long long: constant_unsigned,                          \
	default: constant_signed)(#c, (c));
#define ABI_LIST_CONSTANTS
#include "abi_list.generated.h"
#undef ABI_LIST_CONSTANTS
#undef ABI_CONST
	section_end('}', 0);
}

static void
errnos(void)
{
	section_begin("errnos", '{');
#define ABI_ERRNO(c, name)                                              \
	_Static_assert((c) > 0, #c " is not an errno");                 \
	printf("%s    \"%s\": %d", next_item(), name, (int)(c));
#define ABI_LIST_ERRNOS
#include "abi_list.generated.h"
#undef ABI_LIST_ERRNOS
#undef ABI_ERRNO
	section_end('}', 0);
}

static void
object_types(void)
{
	section_begin("objectTypes", '{');
#define ABI_OBJECT_TYPE(c, name)                                        \
	_Static_assert((c) > VPC_TYPE_UNSET && (c) <= VPC_TYPE_MAX,     \
	    #c " is not an object type");                               \
	printf("%s    \"%s\": %d", next_item(), name, (int)(c));
#define ABI_LIST_OBJECT_TYPES
#include "abi_list.generated.h"
#undef ABI_LIST_OBJECT_TYPES
#undef ABI_OBJECT_TYPE
	section_end('}', 0);
}

/* ---- The core's op table ----------------------------------------------- */

static const char *
bool_json(int b)
{
	return (b ? "true" : "false");
}

static void
quoted_or_null(const char *s)
{
	if (s == NULL)
		printf("null");
	else
		printf("\"%s\"", s);
}

static void
ops(void)
{
	struct vpc_opinfo oi;
	size_t i, n = vpc_op_count();

	section_begin("ops", '[');
	for (i = 0; i < n; i++) {
		vpc_op_info(i, &oi);
		printf("%s    { \"op\": %u, \"name\": \"%s\", \"types\": %u, "
		    "\"key\": ", next_item(), oi.op, oi.name, oi.types);
		quoted_or_null(oi.keytype);
		printf(", \"keysz\": %u, \"value\": ", oi.keysz);
		quoted_or_null(oi.valtype);
		printf(", \"valsz\": %u, \"keyArray\": %s, \"valArray\": %s, "
		    "\"mutating\": %s, \"privileged\": %s, \"changesState\": %s, "
		    "\"handleOff\": %d }",
		    oi.valsz, bool_json(oi.key_array), bool_json(oi.val_array),
		    bool_json(oi.mutating), bool_json(oi.privileged),
		    bool_json(oi.changes_state), oi.handle_off);
	}
	section_end(']', 1);
}

int
main(void)
{
	printf("{\n");
	records();
	typedefs();
	constants();
	errnos();
	object_types();
	ops();
	printf("}\n");
	return (0);
}
