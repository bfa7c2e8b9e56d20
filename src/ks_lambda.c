/* ks_lambda: marshal code-object reader (see ks_lambda.h). */
#include "config.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_lambda.h"
#include "ks_util.h"

/* ---- base64 ---------------------------------------------------------------- */

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int ks_base64_decode(const char *text, size_t len, unsigned char **out, size_t *n, ks_err *err)
{
	size_t k = 0;
	unsigned char *buf = ks_xmalloc(len / 4 * 3 + 3);
	uint32_t acc = 0;
	int bits = 0;

	for (size_t i = 0; i < len; i++) {
		int c = (unsigned char)text[i], v;
		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=')
			break;
		v = b64val(c);
		if (v < 0) {
			free(buf);
			return ks_fail(err, "not base64: character %zu is '%c'", i, c);
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[k++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*out = buf;
	*n = k;
	return 0;
}

/* ---- marshal objects --------------------------------------------------------- */

enum mtype { M_NONE, M_BOOL, M_INT, M_FLOAT, M_COMPLEX, M_BYTES, M_STR, M_TUPLE, M_CODE,
	     M_OTHER };

typedef struct mobj {
	enum mtype t;
	long long i;
	double f;
	char *s;          /* bytes or text (NUL-terminated copy), slen bytes */
	size_t slen;
	struct mobj **v;  /* tuple items / code fields (consts, names, ...) */
	int n;
	struct code *code;
} mobj;

/* Fields of a code object as this module uses them, whatever the layout. */
typedef struct code {
	int argcount;
	mobj *co_code, *consts, *names, *varnames, *freevars, *kinds, *filename, *name;
} code;

enum layout { L_PY2, L_PY30, L_PY38, L_PY311, L_N };

typedef struct rd {
	const unsigned char *p;
	size_t n, pos;
	enum layout lay;
	mobj **refs;
	int n_refs, cap_refs;
	mobj **interned;   /* Python 2 't' strings, which 'R' refers to by index */
	int n_interned, cap_interned;
	mobj **all;        /* every object allocated, for freeing */
	int n_all, cap_all;
	int depth;
	bool py2_strings;  /* 't'/'R' seen: Python 2 interning */
	bool v3_marshal;   /* FLAG_REF or short strings seen: marshal version >= 3 (3.4+) */
	char msg[200];
} rd;

#define MAX_DEPTH 64
#define MAX_ITEMS (1 << 20)

static mobj *new_obj(rd *r, enum mtype t)
{
	mobj *o = ks_xcalloc(1, sizeof *o);
	o->t = t;
	if (r->n_all == r->cap_all) {
		r->cap_all = r->cap_all ? 2 * r->cap_all : 64;
		r->all = ks_xrealloc(r->all, (size_t)r->cap_all * sizeof *r->all);
	}
	r->all[r->n_all++] = o;
	return o;
}

static void free_all(rd *r)
{
	for (int i = 0; i < r->n_all; i++) {
		free(r->all[i]->s);
		free(r->all[i]->v);
		free(r->all[i]->code);
		free(r->all[i]);
	}
	free(r->all);
	free(r->refs);
	free(r->interned);
}

static bool fail(rd *r, const char *what)
{
	if (!r->msg[0])
		snprintf(r->msg, sizeof r->msg, "%s at byte %zu", what, r->pos);
	return false;
}

static bool get_u8(rd *r, int *out)
{
	if (r->pos >= r->n)
		return fail(r, "truncated");
	*out = r->p[r->pos++];
	return true;
}

static bool get_i32(rd *r, long long *out)
{
	if (r->n - r->pos < 4 || r->pos > r->n)
		return fail(r, "truncated");
	uint32_t v = (uint32_t)r->p[r->pos] | (uint32_t)r->p[r->pos + 1] << 8 |
	             (uint32_t)r->p[r->pos + 2] << 16 | (uint32_t)r->p[r->pos + 3] << 24;
	r->pos += 4;
	*out = (int32_t)v;
	return true;
}

static bool get_bytes(rd *r, size_t len, mobj *o)
{
	if (len > r->n - r->pos)
		return fail(r, "string runs past the end");
	o->s = ks_xmalloc(len + 1);
	memcpy(o->s, r->p + r->pos, len);
	o->s[len] = '\0';
	o->slen = len;
	r->pos += len;
	return true;
}

static int reserve_ref(rd *r)
{
	if (r->n_refs == r->cap_refs) {
		r->cap_refs = r->cap_refs ? 2 * r->cap_refs : 32;
		r->refs = ks_xrealloc(r->refs, (size_t)r->cap_refs * sizeof *r->refs);
	}
	r->refs[r->n_refs] = NULL;
	return r->n_refs++;
}

static mobj *read_obj(rd *r);

/* Identifiers and file names: str objects; Python 2 also writes plain
 * (byte) strings for them. */
static bool is_text(const rd *r, const mobj *o)
{
	return o->t == M_STR || (r->lay == L_PY2 && o->t == M_BYTES);
}

static bool read_code(rd *r, mobj *o)
{
	static const int header_ints[L_N] = {4, 5, 6, 5};
	code *c = ks_xcalloc(1, sizeof *c);
	long long v;
	mobj *f[10];
	int nf;

	o->code = c;
	o->t = M_CODE;
	for (int i = 0; i < header_ints[r->lay]; i++) {
		if (!get_i32(r, &v))
			return false;
		if (i == 0)
			c->argcount = (int)v;
	}
	if (c->argcount < 0 || c->argcount > 255)
		return fail(r, "implausible argument count");
	/* code consts names ... filename name [qualname] firstlineno table [exctable] */
	nf = r->lay == L_PY311 ? 7 : 8;
	for (int i = 0; i < 5 + (r->lay == L_PY311 ? 0 : 1); i++) {
		/* PY311: code consts names localsplusnames localspluskinds
		 * older: code consts names varnames freevars cellvars */
		if (!(f[i] = read_obj(r)))
			return false;
	}
	(void)nf;
	c->co_code = f[0];
	c->consts = f[1];
	c->names = f[2];
	c->varnames = f[3];
	if (c->co_code->t != M_BYTES)
		return fail(r, "code field is not bytes");
	if (c->consts->t != M_TUPLE || c->names->t != M_TUPLE || c->varnames->t != M_TUPLE)
		return fail(r, "code fields are not tuples");
	if (r->lay == L_PY311) {
		c->kinds = f[4];
		if (c->kinds->t != M_BYTES || c->kinds->slen != (size_t)c->varnames->n)
			return fail(r, "localspluskinds does not match localsplusnames");
	} else {
		c->freevars = f[4];
		if (c->freevars->t != M_TUPLE || f[5]->t != M_TUPLE)
			return fail(r, "freevars/cellvars are not tuples");
	}
	if (!(c->filename = read_obj(r)) || !(c->name = read_obj(r)))
		return false;
	if (!is_text(r, c->filename) || !is_text(r, c->name))
		return fail(r, "filename/name are not strings");
	if (r->lay == L_PY311) {
		mobj *q = read_obj(r);
		if (!q)
			return false;
		if (q->t != M_STR)
			return fail(r, "qualname is not a string");
	}
	if (!get_i32(r, &v))
		return false;
	for (int i = 0; i < (r->lay == L_PY311 ? 2 : 1); i++) {
		mobj *t = read_obj(r);
		if (!t)
			return false;
		if (t->t != M_BYTES)
			return fail(r, "line table is not bytes");
	}
	for (int i = 0; i < c->names->n; i++)
		if (!is_text(r, c->names->v[i]))
			return fail(r, "a name is not a string");
	for (int i = 0; i < c->varnames->n; i++)
		if (!is_text(r, c->varnames->v[i]))
			return fail(r, "a variable name is not a string");
	return true;
}

static mobj *read_obj(rd *r)
{
	int byte, type, ref = -1;
	long long v;
	mobj *o = NULL;

	if (r->depth >= MAX_DEPTH) {
		fail(r, "nesting too deep");
		return NULL;
	}
	if (!get_u8(r, &byte))
		return NULL;
	type = byte & 0x7f;
	if (byte & 0x80) {
		r->v3_marshal = true;
		ref = reserve_ref(r);
	}
	r->depth++;
	switch (type) {
	case 'N': o = new_obj(r, M_NONE); break;
	case 'F': case 'T': o = new_obj(r, M_BOOL); o->i = type == 'T'; break;
	case 'S': case '.': o = new_obj(r, M_OTHER); break;
	case 'i':
		if (!get_i32(r, &v))
			break;
		o = new_obj(r, M_INT);
		o->i = v;
		break;
	case 'I': /* Python 2 int64 */
		if (r->n - r->pos < 8) {
			fail(r, "truncated");
			break;
		}
		o = new_obj(r, M_INT);
		for (int k = 7; k >= 0; k--)
			o->i = (long long)((unsigned long long)o->i << 8 | r->p[r->pos + (size_t)k]);
		r->pos += 8;
		break;
	case 'l': { /* long: signed digit count, 15-bit digits */
		long long nd;
		if (!get_i32(r, &nd))
			break;
		long long a = nd < 0 ? -nd : nd;
		if (a > 1000 || (size_t)a * 2 > r->n - r->pos) {
			fail(r, "bad long integer");
			break;
		}
		o = new_obj(r, M_INT);
		double d = 0;
		for (long long k = 0; k < a; k++) {
			unsigned dg = r->p[r->pos + (size_t)(2 * k)] | (unsigned)r->p[r->pos + (size_t)(2 * k) + 1] << 8;
			d += ldexp((double)dg, (int)(15 * k));
		}
		r->pos += (size_t)a * 2;
		o->t = M_FLOAT; /* shown as a number; exactness is not needed for a report */
		o->f = nd < 0 ? -d : d;
		o->i = 1;  /* marks "integer-valued" for repr */
		break;
	}
	case 'f': case 'x': { /* float/complex as text */
		int parts = type == 'x' ? 2 : 1;
		o = new_obj(r, type == 'x' ? M_COMPLEX : M_FLOAT);
		for (int k = 0; k < parts; k++) {
			int len;
			char tmp[260];
			if (!get_u8(r, &len) || (size_t)len > r->n - r->pos) {
				fail(r, "truncated float");
				o = NULL;
				break;
			}
			memcpy(tmp, r->p + r->pos, (size_t)len);
			tmp[len] = '\0';
			r->pos += (size_t)len;
			if (k == 0)
				o->f = strtod(tmp, NULL);
		}
		break;
	}
	case 'g': case 'y': {
		size_t len = type == 'y' ? 16 : 8;
		if (r->n - r->pos < len) {
			fail(r, "truncated float");
			break;
		}
		o = new_obj(r, type == 'y' ? M_COMPLEX : M_FLOAT);
		uint64_t bitsv = 0;
		for (int k = 7; k >= 0; k--)
			bitsv = bitsv << 8 | r->p[r->pos + (size_t)k];
		memcpy(&o->f, &bitsv, sizeof o->f);
		r->pos += len;
		break;
	}
	case 's': case 't': case 'u': case 'a': case 'A': {
		long long len;
		if (!get_i32(r, &len))
			break;
		if (len < 0) {
			fail(r, "negative string length");
			break;
		}
		if (type == 't')
			r->py2_strings = true;
		if (type == 'a' || type == 'A')
			r->v3_marshal = true;
		o = new_obj(r, type == 's' ? M_BYTES : M_STR);
		if (!get_bytes(r, (size_t)len, o)) {
			o = NULL;
		} else if (type == 't') {
			if (r->n_interned == r->cap_interned) {
				r->cap_interned = r->cap_interned ? 2 * r->cap_interned : 32;
				r->interned = ks_xrealloc(r->interned, (size_t)r->cap_interned * sizeof *r->interned);
			}
			r->interned[r->n_interned++] = o;
		}
		break;
	}
	case 'z': case 'Z': {
		int len;
		r->v3_marshal = true;
		if (!get_u8(r, &len))
			break;
		o = new_obj(r, M_STR);
		if (!get_bytes(r, (size_t)len, o))
			o = NULL;
		break;
	}
	case 'R': case 'r': { /* Python 2 string ref / Python 3 object ref */
		long long idx;
		if (!get_i32(r, &idx))
			break;
		if (type == 'R') {
			r->py2_strings = true;
			if (idx < 0 || idx >= r->n_interned) {
				fail(r, "bad string reference");
				break;
			}
			o = r->interned[idx];
			break;
		}
		if (idx < 0 || idx >= r->n_refs || !r->refs[idx]) {
			fail(r, "bad back-reference");
			break;
		}
		o = r->refs[idx];
		break;
	}
	case '(': case ')': case '[': case '<': case '>': {
		long long cnt;
		int c1;
		if (type == ')') {
			if (!get_u8(r, &c1))
				break;
			cnt = c1;
		} else if (!get_i32(r, &cnt)) {
			break;
		}
		if (cnt < 0 || cnt > MAX_ITEMS || (size_t)cnt > r->n - r->pos) {
			fail(r, "bad tuple length");
			break;
		}
		o = new_obj(r, type == '(' || type == ')' ? M_TUPLE : M_OTHER);
		if (ref >= 0)
			r->refs[ref] = o;
		o->v = ks_xcalloc((size_t)(cnt ? cnt : 1), sizeof *o->v);
		for (long long k = 0; k < cnt; k++) {
			if (!(o->v[k] = read_obj(r))) {
				o = NULL;
				break;
			}
			o->n++;
		}
		break;
	}
	case 'c':
		o = new_obj(r, M_CODE);
		if (ref >= 0)
			r->refs[ref] = o;
		if (!read_code(r, o))
			o = NULL;
		break;
	default:
		fail(r, "unknown marshal type");
		break;
	}
	r->depth--;
	if (o && ref >= 0)
		r->refs[ref] = o;
	return o;
}

/* ---- repr of constants ------------------------------------------------------- */

static void repr_float(double f, char *buf, size_t n)
{
	/* Python's repr: the shortest text that reads back as the same double. */
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, n, "%.*g", prec, f);
		if (strtod(buf, NULL) == f)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", n - strlen(buf) - 1);
}

static char *repr(const mobj *o, int depth)
{
	char buf[64];

	switch (o->t) {
	case M_NONE: return ks_xstrdup("None");
	case M_BOOL: return ks_xstrdup(o->i ? "True" : "False");
	case M_INT: return ks_xasprintf("%lld", o->i);
	case M_FLOAT:
		if (o->i) /* a long integer */
			return ks_xasprintf("%.0f", o->f);
		repr_float(o->f, buf, sizeof buf);
		return ks_xstrdup(buf);
	case M_COMPLEX: return ks_xstrdup("<complex>");
	case M_STR: case M_BYTES: {
		/* quoted, non-printable bytes escaped, long strings cut */
		size_t lim = o->slen > 60 ? 60 : o->slen, k = 0;
		char *s = ks_xmalloc(lim * 4 + 16);
		if (o->t == M_BYTES)
			s[k++] = 'b';
		s[k++] = '\'';
		for (size_t i = 0; i < lim; i++) {
			unsigned char c = (unsigned char)o->s[i];
			if (c == '\'' || c == '\\') {
				s[k++] = '\\';
				s[k++] = (char)c;
			} else if (c < 32 || c == 127) {
				k += (size_t)snprintf(s + k, 5, "\\x%02x", c);
			} else {
				s[k++] = (char)c;
			}
		}
		s[k++] = '\'';
		if (lim < o->slen) {
			memcpy(s + k, "...", 3);
			k += 3;
		}
		s[k] = '\0';
		return s;
	}
	case M_TUPLE: {
		char *s = ks_xstrdup("(");
		for (int i = 0; i < o->n && depth < 4; i++) {
			char *e = repr(o->v[i], depth + 1), *t;
			t = ks_xasprintf("%s%s%s", s, i ? ", " : "", e);
			free(s);
			free(e);
			s = t;
		}
		char *t = ks_xasprintf("%s%s)", s, o->n == 1 ? "," : "");
		free(s);
		return t;
	}
	case M_CODE: return ks_xstrdup("<code>");
	default: return ks_xstrdup("<object>");
	}
}

/* ---- bytecode: version narrowing and expression reconstruction ------------------ */

static bool has_op(const mobj *co, int op)
{
	for (size_t i = 0; i + 1 < co->slen; i += 2)
		if ((unsigned char)co->s[i] == op)
			return true;
	return false;
}

/* CPython 3.11/3.12 opcode numbers used below. */
enum {
	OP_CACHE = 0, OP_PUSH_NULL = 2, OP_NOP = 9, OP_UNARY_NEGATIVE = 11, OP_UNARY_NOT = 12,
	OP_UNARY_INVERT = 15, OP_BINARY_SUBSCR = 25, OP_RETURN_VALUE = 83, OP_LOAD_CONST = 100,
	OP_BUILD_TUPLE = 102, OP_BUILD_LIST = 103, OP_LOAD_ATTR = 106, OP_COMPARE_OP = 107,
	OP_LOAD_GLOBAL = 116, OP_RETURN_CONST = 121, OP_BINARY_OP = 122, OP_LOAD_FAST = 124,
	OP_LOAD_DEREF = 137, OP_COPY_FREE_VARS = 149, OP_RESUME = 151, OP_LOAD_METHOD = 160,
	OP_PRECALL = 166, OP_CALL = 171, OP_LOAD_FAST_CHECK = 127, OP_MAKE_CELL = 135,
};

typedef struct sitem {
	char *s;
	int prec;  /* 100 atom, 14 **, 13 unary, 12 mul, 11 add, 10 shift, 9 &, 8 ^, 7 |, 6 compare */
} sitem;

#define STACK_MAX 32

static char *wrap(const sitem *it, int need)
{
	if (it->prec < need)
		return ks_xasprintf("(%s)", it->s);
	return ks_xstrdup(it->s);
}

/* Reconstructs `lambda args: expr` from straight-line 3.11/3.12 bytecode
 * (loads, arithmetic, comparisons, attribute access, calls, subscripts).
 * Returns NULL on anything else: a wrong reconstruction would mislead. */
/* One instruction in the 3.11/3.12 numbering (older bytecode is mapped
 * onto it by decode_classic); OP_FREE_NAME loads freevars[arg]. */
typedef struct insn {
	int op, arg;
} insn;
enum { OP_FREE_NAME = 1000, MAX_INSNS = 4096 };

static int decode_311(const code *c, insn *out)
{
	const mobj *co = c->co_code;
	int n = 0;
	for (size_t i = 0; i + 1 < co->slen && n < MAX_INSNS; i += 2)
		out[n++] = (insn){(unsigned char)co->s[i], (unsigned char)co->s[i + 1]};
	return n;
}

/* CPython 2.x (1- or 3-byte instructions) and 3.6-3.10 (wordcode) bytecode
 * in the 3.11 numbering; -1 at an instruction the reconstructor lacks. */
static int decode_classic(const code *c, bool wordcode, insn *out)
{
	static const struct {
		int from, to, arg;  /* arg -1: keep the instruction's */
	} map[] = {
		{124, OP_LOAD_FAST, -1}, {100, OP_LOAD_CONST, -1}, {106, OP_LOAD_ATTR, -1},
		{160, OP_LOAD_METHOD, -1}, {136, OP_FREE_NAME, -1}, {25, OP_BINARY_SUBSCR, 0},
		{11, OP_UNARY_NEGATIVE, 0}, {12, OP_UNARY_NOT, 0}, {15, OP_UNARY_INVERT, 0},
		{107, OP_COMPARE_OP, -1}, {131, OP_CALL, -1}, {161, OP_CALL, -1},
		{102, OP_BUILD_TUPLE, -1}, {103, OP_BUILD_LIST, -1}, {83, OP_RETURN_VALUE, 0},
		{9, OP_NOP, 0},
		/* binary operators -> BINARY_OP's argument */
		{19, OP_BINARY_OP, 8}, {20, OP_BINARY_OP, 5}, {22, OP_BINARY_OP, 6},
		{23, OP_BINARY_OP, 0}, {24, OP_BINARY_OP, 10}, {26, OP_BINARY_OP, 2},
		{27, OP_BINARY_OP, 11}, {16, OP_BINARY_OP, 4}, {21, OP_BINARY_OP, 11},
		{62, OP_BINARY_OP, 3}, {63, OP_BINARY_OP, 9}, {64, OP_BINARY_OP, 1},
		{65, OP_BINARY_OP, 12}, {66, OP_BINARY_OP, 7},
	};
	const mobj *co = c->co_code;
	int n = 0, ext = 0;
	for (size_t i = 0; i < co->slen && n < MAX_INSNS;) {
		int op = (unsigned char)co->s[i], arg = 0;
		if (wordcode) {
			if (i + 1 >= co->slen)
				return -1;
			arg = (unsigned char)co->s[i + 1] | ext;
			i += 2;
		} else if (op >= 90) {
			if (i + 2 >= co->slen)
				return -1;
			arg = ((unsigned char)co->s[i + 1] | (unsigned char)co->s[i + 2] << 8) | ext;
			i += 3;
		} else {
			i += 1;
		}
		if (op == 144 || (!wordcode && op == 145)) {  /* EXTENDED_ARG */
			ext = arg << (wordcode ? 8 : 16);
			continue;
		}
		ext = 0;
		if (op == 116) {  /* LOAD_GLOBAL: 3.11 keeps a flag in bit 0 */
			out[n++] = (insn){OP_LOAD_GLOBAL, arg << 1};
			continue;
		}
		if ((op == 131 || op == 161) && arg > 255)
			return -1;  /* keyword arguments */
		size_t k = 0;
		while (k < sizeof map / sizeof map[0] && map[k].from != op)
			k++;
		if (k == sizeof map / sizeof map[0])
			return -1;
		out[n++] = (insn){map[k].to, map[k].arg < 0 ? arg : map[k].arg};
	}
	return n;
}

static char *reconstruct(const code *c, int minor, const insn *ins, int n_ins)
{
	static const char *const binops[] = {"+", "&", "//", "<<", "@", "*", "%", "|", "**", ">>",
		"-", "/", "^"};
	static const int binprec[] = {11, 9, 12, 10, 12, 12, 12, 7, 14, 10, 11, 12, 8};
	static const char *const cmps[] = {"<", "<=", "==", "!=", ">", ">="};
	sitem st[STACK_MAX];
	int sp = 0;
	char *result = NULL;
	for (int i = 0; i < n_ins; i++) {
		int op = ins[i].op, arg = ins[i].arg;
		const mobj *nm = NULL;
		char *t = NULL;
		int prec = 100;

		if (op == OP_CACHE || op == OP_RESUME || op == OP_NOP || op == OP_PUSH_NULL ||
		    op == OP_PRECALL || op == OP_COPY_FREE_VARS || op == OP_MAKE_CELL)
			continue;
		if (sp >= STACK_MAX - 1)
			goto out;
		switch (op) {
		case OP_LOAD_FAST: case OP_LOAD_FAST_CHECK: case OP_LOAD_DEREF:
			if (arg >= c->varnames->n)
				goto out;
			t = ks_xstrdup(c->varnames->v[arg]->s);
			break;
		case OP_FREE_NAME:
			if (!c->freevars || arg >= c->freevars->n)
				goto out;
			t = ks_xstrdup(c->freevars->v[arg]->s);
			break;
		case OP_LOAD_CONST:
			if (arg >= c->consts->n || c->consts->v[arg]->t == M_CODE)
				goto out;
			t = repr(c->consts->v[arg], 0);
			if (t[0] == '-')
				prec = 13;
			break;
		case OP_LOAD_GLOBAL:
			if ((arg >> 1) >= c->names->n)
				goto out;
			t = ks_xstrdup(c->names->v[arg >> 1]->s);
			break;
		case OP_LOAD_ATTR: case OP_LOAD_METHOD: {
			int ni = minor >= 12 && op == OP_LOAD_ATTR ? arg >> 1 : arg;
			if (sp < 1 || ni >= c->names->n)
				goto out;
			nm = c->names->v[ni];
			char *b = wrap(&st[sp - 1], 100);
			t = ks_xasprintf("%s.%s", b, nm->s);
			free(b);
			free(st[--sp].s);
			break;
		}
		case OP_UNARY_NEGATIVE: case OP_UNARY_NOT: case OP_UNARY_INVERT: {
			if (sp < 1)
				goto out;
			char *b = wrap(&st[sp - 1], 13);
			t = ks_xasprintf("%s%s", op == OP_UNARY_NEGATIVE ? "-" : op == OP_UNARY_NOT ? "not " : "~", b);
			free(b);
			free(st[--sp].s);
			prec = op == OP_UNARY_NOT ? 5 : 13;
			break;
		}
		case OP_BINARY_OP: case OP_COMPARE_OP: case OP_BINARY_SUBSCR: {
			const char *sym;
			int p, lneed, rneed;
			if (sp < 2)
				goto out;
			if (op == OP_BINARY_SUBSCR) {
				char *a = wrap(&st[sp - 2], 100);
				t = ks_xasprintf("%s[%s]", a, st[sp - 1].s);
				free(a);
			} else {
				if (op == OP_BINARY_OP) {
					if (arg >= 13)
						goto out;  /* in-place forms do not occur in expressions */
					sym = binops[arg];
					p = binprec[arg];
				} else {
					int ci = minor >= 12 ? arg >> 4 : arg;
					if (ci > 5)
						goto out;
					sym = cmps[ci];
					p = 6;
				}
				/* left-associative except **, which binds right */
				lneed = p == 14 ? p + 1 : p;
				rneed = p == 14 ? p : p + 1;
				char *a = wrap(&st[sp - 2], lneed), *b = wrap(&st[sp - 1], rneed);
				t = ks_xasprintf("%s %s %s", a, sym, b);
				free(a);
				free(b);
				prec = p;
			}
			free(st[--sp].s);
			free(st[--sp].s);
			break;
		}
		case OP_BUILD_TUPLE: case OP_BUILD_LIST: case OP_CALL: {
			int n = arg;
			int base = op == OP_CALL ? sp - n - 1 : sp - n;
			size_t len = 8;
			if (base < 0)
				goto out;
			for (int k = base; k < sp; k++)
				len += strlen(st[k].s) + 4;
			t = ks_xmalloc(len);
			t[0] = '\0';
			if (op == OP_CALL) {
				strcat(t, st[base].s);
				strcat(t, "(");
			} else {
				strcat(t, op == OP_BUILD_LIST ? "[" : "(");
			}
			for (int k = op == OP_CALL ? base + 1 : base; k < sp; k++) {
				if (k > (op == OP_CALL ? base + 1 : base))
					strcat(t, ", ");
				strcat(t, st[k].s);
			}
			if (op == OP_BUILD_TUPLE && n == 1)
				strcat(t, ",");
			strcat(t, op == OP_BUILD_LIST ? "]" : ")");
			while (sp > base)
				free(st[--sp].s);
			break;
		}
		case OP_RETURN_VALUE: case OP_RETURN_CONST: {
			char *e;
			if (op == OP_RETURN_CONST) {
				if (arg >= c->consts->n || sp != 0)
					goto out;
				e = repr(c->consts->v[arg], 0);
			} else {
				if (sp != 1 || i + 1 < n_ins)
					goto out;
				e = ks_xstrdup(st[0].s);
			}
			{
				size_t len = 16 + strlen(e);
				for (int k = 0; k < c->argcount && k < c->varnames->n; k++)
					len += strlen(c->varnames->v[k]->s) + 2;
				char *args = ks_xmalloc(len);
				args[0] = '\0';
				for (int k = 0; k < c->argcount && k < c->varnames->n; k++) {
					if (k)
						strcat(args, ", ");
					strcat(args, c->varnames->v[k]->s);
				}
				result = ks_xasprintf("lambda%s%s: %s", c->argcount ? " " : "", args, e);
				free(args);
			}
			free(e);
			goto out;
		}
		default:
			goto out;
		}
		st[sp].s = t;
		st[sp].prec = prec;
		sp++;
	}
out:
	while (sp > 0)
		free(st[--sp].s);
	return result;
}

/* ---- public ------------------------------------------------------------------ */

static char **strv(const mobj *t, int *n, bool skip_code_none)
{
	char **v = ks_xcalloc((size_t)(t->n ? t->n : 1), sizeof *v);
	int k = 0;
	for (int i = 0; i < t->n; i++) {
		if (skip_code_none && (t->v[i]->t == M_NONE || t->v[i]->t == M_CODE))
			continue;
		v[k++] = t->v[i]->t == M_STR || (!skip_code_none && t->v[i]->t == M_BYTES)
		         ? ks_xstrdup(t->v[i]->s) : repr(t->v[i], 0);
	}
	*n = k;
	return v;
}

static void set_range(ks_lambda_info *li, const char *lo, const char *hi, const char *text)
{
	li->version_min = ks_xstrdup(lo);
	li->version_max = ks_xstrdup(hi);
	li->python = ks_xasprintf("CPython %s", text);
}

int ks_lambda_parse(const unsigned char *buf, size_t n, ks_lambda_info *li, ks_err *err)
{
	static const enum layout order[] = {L_PY311, L_PY38, L_PY30, L_PY2};
	char first_msg[200] = "";

	memset(li, 0, sizeof *li);
	if (n < 1 || (buf[0] & 0x7f) != 'c')
		return ks_fail(err, "not a marshalled code object (first byte 0x%02x)", n ? buf[0] : 0);
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		rd r = {.p = buf, .n = n, .lay = order[k]};
		mobj *o = read_obj(&r);
		if (o && r.pos != n)
			fail(&r, "trailing bytes");
		if (!o || r.pos != n) {
			if (!first_msg[0])
				snprintf(first_msg, sizeof first_msg, "%s", r.msg);
			free_all(&r);
			continue;
		}
		code *c = o->code;
		const mobj *co = c->co_code;
		int minor = 11;
		switch (order[k]) {
		case L_PY311: {
			/* RESUME opens every 3.11+ function (after COPY_FREE_VARS/MAKE_CELL
			 * in closures); its opcode number moved in 3.13 and 3.14 */
			int resume = -1;
			for (size_t i = 0; i + 1 < co->slen && i < 16 && resume < 0; i += 2) {
				int op = (unsigned char)co->s[i], arg = (unsigned char)co->s[i + 1];
				if (op == OP_RESUME || ((op == 149 || op == 128) && arg == 0))
					resume = op;
			}
			if (resume == 149)
				set_range(li, "3.13", "3.13", "3.13");
			else if (resume == 128)
				set_range(li, "3.14", "3.14", "3.14");
			else if (resume == OP_RESUME && has_op(co, OP_PRECALL))
				set_range(li, "3.11", "3.11", "3.11");
			else if (resume == OP_RESUME && has_op(co, OP_RETURN_CONST)) {
				set_range(li, "3.12", "3.12", "3.12");
				minor = 12;
			} else if (resume == OP_RESUME)
				set_range(li, "3.11", "3.12", "3.11-3.12");
			else
				set_range(li, "3.11", "", "3.11 or later");
			break;
		}
		case L_PY38: set_range(li, "3.8", "3.10", "3.8-3.10"); break;
		case L_PY30:
			if (r.v3_marshal)
				set_range(li, "3.4", "3.7", "3.4-3.7");
			else
				set_range(li, "3.0", "3.7", "3.0-3.7");
			break;
		default: set_range(li, "2.0", "2.7", "2.x"); break;
		}
		li->name = ks_xstrdup(c->name->s);
		li->filename = ks_xstrdup(c->filename->s);
		li->argcount = c->argcount;
		li->args = ks_xcalloc((size_t)c->argcount + 1, sizeof *li->args);
		for (int i = 0; i < c->argcount; i++)
			li->args[i] = ks_xstrdup(i < c->varnames->n ? c->varnames->v[i]->s : "?");
		li->names = strv(c->names, &li->n_names, false);
		li->consts = strv(c->consts, &li->n_consts, true);
		if (order[k] == L_PY311) {
			/* CO_FAST_FREE (0x80) marks the captured variables */
			li->freevars = ks_xcalloc((size_t)c->varnames->n + 1, sizeof *li->freevars);
			for (int i = 0; i < c->varnames->n; i++)
				if ((unsigned char)c->kinds->s[i] & 0x80)
					li->freevars[li->n_freevars++] = ks_xstrdup(c->varnames->v[i]->s);
			if (strcmp(li->version_max, "3.11") == 0 || strcmp(li->version_max, "3.12") == 0) {
				insn *ins = ks_xcalloc(MAX_INSNS, sizeof *ins);
				li->source = reconstruct(c, minor, ins, decode_311(c, ins));
				free(ins);
			}
		} else {
			li->freevars = strv(c->freevars, &li->n_freevars, false);
			/* 2.x and 3.8-3.10 bytecode (3.0-3.7 mixes two encodings: left out) */
			if (order[k] == L_PY2 || order[k] == L_PY38) {
				insn *ins = ks_xcalloc(MAX_INSNS, sizeof *ins);
				int n_ins = decode_classic(c, order[k] == L_PY38, ins);
				if (n_ins > 0)
					li->source = reconstruct(c, 10, ins, n_ins);
				free(ins);
			}
		}
		free_all(&r);
		return 0;
	}
	return ks_fail(err, "not a code object of any known CPython layout (%s)", first_msg);
}

/* Keras up to 2.1 stored marshal.dumps(code).decode("raw_unicode_escape"):
 * one character per byte (U+0000..U+00FF), here as UTF-8 text. */
static int raw_unicode_bytes(const char *text, size_t len, unsigned char **out, size_t *n, ks_err *err)
{
	size_t k = 0;
	unsigned char *buf = ks_xmalloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x80) {
			buf[k++] = c;
		} else if ((c == 0xc2 || c == 0xc3) && i + 1 < len && ((unsigned char)text[i + 1] & 0xc0) == 0x80) {
			buf[k++] = (unsigned char)(((c & 0x03) << 6) | ((unsigned char)text[i + 1] & 0x3f));
			i++;
		} else {
			free(buf);
			return ks_fail(err, "neither base64 nor raw bytes: character %zu is beyond U+00FF", i);
		}
	}
	*out = buf;
	*n = k;
	return 0;
}

int ks_lambda_decode(const char *text, size_t len, ks_lambda_info *out, ks_err *err)
{
	unsigned char *buf;
	size_t n;
	int rc;

	memset(out, 0, sizeof *out);
	if (ks_base64_decode(text, len, &buf, &n, NULL) < 0 && raw_unicode_bytes(text, len, &buf, &n, err) < 0)
		return -1;
	rc = ks_lambda_parse(buf, n, out, err);
	free(buf);
	return rc;
}

static void free_strv(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void ks_lambda_info_free(ks_lambda_info *li)
{
	if (!li)
		return;
	free(li->python);
	free(li->version_min);
	free(li->version_max);
	free(li->name);
	free(li->filename);
	free_strv(li->args, li->argcount);
	free_strv(li->names, li->n_names);
	free_strv(li->consts, li->n_consts);
	free_strv(li->freevars, li->n_freevars);
	free(li->source);
	memset(li, 0, sizeof *li);
}
