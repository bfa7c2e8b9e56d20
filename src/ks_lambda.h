/* ks_lambda: reading the Python code object inside a Lambda layer's config,
 * without ever executing it.
 *
 * Keras stores a Python lambda as base64(marshal.dumps(fn.__code__)) (up to
 * 2.1: the marshal bytes themselves, one character per byte, decoded with
 * raw_unicode_escape):
 *   Keras 1/2  config.function = [code, defaults, closure], function_type "lambda"
 *   Keras 3    config.function = {"class_name": "__lambda__",
 *                                 "config": {"code", "defaults", "closure"}}
 * marshal is CPython's private format and the code object's layout changed
 * with the interpreter: only the same CPython minor version can rebuild the
 * function (Keras calls marshal.loads then types.FunctionType). This module
 * parses the bytes as data: it tries each known code-object layout and keeps
 * the one that consumes the whole buffer with every field of the right type.
 *
 *   layout                        header ints   after the constants
 *   CPython 2.x                   4             varnames freevars cellvars
 *   CPython 3.0-3.7               5 (kwonly)    varnames freevars cellvars
 *   CPython 3.8-3.10              6 (posonly)   varnames freevars cellvars
 *   CPython 3.11+                 5 (no nlocals) localsplusnames localspluskinds qualname
 *
 * Within a layout the bytecode narrows the range where it can (the opcode
 * number of RESUME moved in 3.13 and 3.14; PRECALL exists only in 3.11;
 * RETURN_CONST only from 3.12). Ranges are stated, never guessed tighter.
 *
 * Everything returned is owned by the ks_lambda_info; ks_lambda_info_free
 * releases it. Hostile input: every length is checked against the buffer,
 * nesting is bounded, and failure is a one-line message, never a crash.
 */
#ifndef KS_LAMBDA_H
#define KS_LAMBDA_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_status.h"

typedef struct ks_lambda_info {
	char *python;        /* "CPython 3.11-3.12", "CPython 2.x", ... */
	char *version_min;   /* "3.11" (major.minor; "2.0" for 2.x) */
	char *version_max;   /* "3.12" ("" when open-ended: "3.11 or later") */
	char *name;          /* co_name: "<lambda>" for a lambda, else the def name */
	char *filename;      /* co_filename: where it was defined ("<stdin>", a path) */
	int argcount;
	char **args;         /* the positional parameter names (argcount of them) */
	char **names;        /* co_names: globals and attributes it uses */
	int n_names;
	char **consts;       /* repr of each constant except None and nested code */
	int n_consts;
	char **freevars;     /* variables captured from an enclosing function */
	int n_freevars;
	char *source;        /* "lambda x: x * 2.0 + 1.0" when the bytecode is a straight
	                      * expression the reconstructor knows (loads, operators,
	                      * comparisons, attributes, calls without keywords,
	                      * subscripts) of CPython 2.x, 3.8-3.10 or 3.11-3.12; else NULL */
} ks_lambda_info;

/* Decodes len bytes of base64 text (whitespace ignored) into a new buffer
 * (*out, caller frees) of *n bytes. Fails on characters outside the alphabet. */
int ks_base64_decode(const char *text, size_t len, unsigned char **out, size_t *n, ks_err *err);

/* Parses marshal bytes of a code object. On failure (not a code object, a
 * layout no CPython used, truncated data) returns -1 with a message. */
int ks_lambda_parse(const unsigned char *buf, size_t n, ks_lambda_info *out, ks_err *err);

/* Both steps from the text Keras stores (base64, else raw bytes), len
 * bytes of UTF-8 that may contain NUL (json_string_length). */
int ks_lambda_decode(const char *text, size_t len, ks_lambda_info *out, ks_err *err);

void ks_lambda_info_free(ks_lambda_info *li);

#endif
