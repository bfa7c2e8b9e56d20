/* ks_input: turning what a user gives on the command line into model inputs.
 *
 * One spec per model input, in input order:
 *   - a .npy file (any dtype ks_npy reads);
 *   - a .csv / text file: one sample per line, values separated by commas,
 *     semicolons, tabs or spaces; a first line that is not numeric is a
 *     header and skipped; every row must have the same number of values;
 *   - a literal, JSON or Python style: "[[1, 2, 3]]", "[0.5, -1e-3]", "7";
 *     numbers only (no True/None), nested lists must not be ragged;
 *   - a dataset in an HDF5 file: "data.h5:/inputs/x" (any numeric dtype,
 *     converted to float32; the file is opened read-only).
 * A spec naming an existing file is read as that file (by its content:
 * the .npy magic, HDF5 (which then needs ":/dataset"), else text); a spec
 * "FILE:PATH" whose FILE is an HDF5 file names a dataset; anything else
 * must parse as a literal.
 *
 * ks_input_fit then checks an array against the model's input shape (batch
 * axis and unknown dimensions are -1): a missing batch axis is added (rank
 * one less than expected); rows of a CSV file may be reshaped to the sample
 * shape when the element counts agree. Mismatches name both shapes.
 */
#ifndef KS_INPUT_H
#define KS_INPUT_H

#include <stdbool.h>
#include <stdint.h>

#include "ks_npy.h"
#include "ks_ops.h"
#include "ks_status.h"

typedef enum ks_input_kind {
	KS_INPUT_NPY,
	KS_INPUT_CSV,
	KS_INPUT_LITERAL,
	KS_INPUT_H5,
} ks_input_kind;

/* Reads one spec into *out (caller frees with ks_array_free). *kind may be NULL. */
int ks_input_load(const char *spec, ks_array *out, ks_input_kind *kind, ks_err *err);

/* Parses a literal only. */
int ks_input_parse_literal(const char *text, ks_array *out, ks_err *err);

/* Parses CSV text only (name for messages). */
int ks_input_parse_csv(const char *text, size_t len, const char *name, ks_array *out, ks_err *err);

/* Makes *a fit `want` (batch axis included; -1 = any): adds the batch axis,
 * reshapes CSV rows when allowed, else fails with
 * "input NAME: expected shape (None, 3) but got (2, 4)". */
int ks_input_fit(ks_array *a, const ks_shape *want, bool allow_reshape, const char *name, ks_err *err);

/* True for integer and bool dtype names ("int32", "uint8", "bool"). */
bool ks_input_dtype_is_integer(const char *dtype);

/* Checks data against the dtype an InputLayer declares (NULL: anything
 * goes): integer and bool inputs must hold whole numbers (bool: 0 or 1),
 * else "input NAME is int32 in the model but value 3 of the data is 1.5". */
int ks_input_check_dtype(const ks_array *a, const char *dtype, const char *name, ks_err *err);

/* Fills a new array of `shape` (unknown dims other than the batch are an
 * error; the batch axis becomes batch) with zeros, or with uniform values in
 * [lo, hi) from a seeded generator that gives the same numbers on every
 * platform. integers: round down to whole numbers (ids for Embedding). */
int ks_input_generate(const ks_shape *shape, int64_t batch, bool random, uint64_t seed, float lo,
                      float hi, bool integers, const char *name, ks_array *out, ks_err *err);

/* Class names, one per line (a last empty line does not count); *names
 * is an array of *n malloc'd strings, freed with ks_input_free_names. */
int ks_input_read_names(const char *path, char ***names, int *n, ks_err *err);
void ks_input_free_names(char **names, int n);

/* A labelled CSV (for `evaluate`): the separator is the first of , ; tab
 * in the first line, else whitespace; fields may be double-quoted. The
 * label column is `column`: a name in the header line, else a 0-based index
 * (negative counts from the end). Labels are numbers, or names looked up in
 * names[0..n_names-1] (their line index becomes the class id). Every other
 * column must be numeric: *x receives (rows, columns - 1), *y (rows,).
 * *label_col receives the column's name (or its index as text), malloc'd. */
int ks_input_load_labelled(const char *path, const char *column, char *const *names, int n_names,
                           ks_array *x, ks_array *y, char **label_col, ks_err *err);

/* For model input i (m->inputs order): its InputLayer's name ("?" when
 * unknown); the dtype it declares (NULL when none); the input_dim of an
 * Embedding it feeds directly (0 when none). */
const char *ks_input_name(const ks_model *m, int i);
const char *ks_input_dtype(const ks_model *m, int i);
int64_t ks_input_vocab(const ks_model *m, int i);

/* Everything predict checks about data for model input i: fitted to the
 * declared shape (ks_input_fit; taken as given, batch first, when the model
 * declares none), whole numbers for integer inputs, ids below an Embedding's
 * input_dim. Messages name the input. */
int ks_input_check_for_model(const ks_model *m, int i, ks_array *a, bool allow_reshape, ks_err *err);

/* What the user asked the model to be fed: one spec per model input, or
 * generated values (random: uniform [-1, 1) from seed + input index,
 * ids below input_dim for inputs feeding an Embedding, small whole numbers
 * for other integer inputs; zeros), batch rows each. With shapes_only,
 * generated inputs get their shape and no data (data NULL): a caller plans
 * with those shapes, which checks what they would need, before asking again
 * without it, so an absurd declared shape is refused before it is allocated. */
typedef struct ks_input_req {
	const char *const *specs;
	int n_specs;
	bool random, zeros;
	uint64_t seed;
	int64_t batch;
	bool shapes_only;
} ks_input_req;

/* Fills arr[0..m->n_inputs-1] (caller frees each with ks_array_free) fitted
 * to the model's declared input shapes and dtypes, and src[i] with where
 * each came from ("npy", "csv", "hdf5", "literal", "random", "zeros"). Specs are
 * checked against the model: count, shape, batch sizes, integer dtypes and
 * Embedding vocabularies. */
int ks_input_for_model(const ks_model *m, const ks_input_req *r, ks_array *arr, const char **src,
                       ks_err *err);

#endif
