/* ks_report: the non-interactive views of a model (summary, ls, dump,
 * attrs), rendered as text or JSON into a FILE*.
 *
 * The CLI writes to stdout; the TUI reuses the same renderings through
 * open_memstream. Nothing here touches the terminal, and nothing reads more
 * of the file than the view needs: summary/ls/attrs read metadata only, dump
 * reads the selected region of one weight in bounded blocks (ks_stats).
 *
 * Each function returns 0, or -1 with a one-line message in err (without the
 * file name: the caller prefixes it). Text is ASCII apart from names taken
 * from the file; JSON is one document followed by a newline.
 */
#ifndef KS_REPORT_H
#define KS_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ks_model.h"
#include "ks_status.h"

/* summary: one row per layer (nested models indented), output shapes from
 * ks_infer_layer_shapes, parameter counts, Connected-to for functional
 * models, then totals with byte sizes. A plain HDF5 file gets one line
 * saying so, with its numbers of groups, datasets and values. */
int ks_report_summary(FILE *out, const ks_model *m, bool json, ks_err *err);

/* ls: layers and their weights (shape, dtype, HDF5 path), then the optimizer
 * state. For a plain HDF5 file, or when raw is set, the HDF5 tree itself. */
int ks_report_ls(FILE *out, const ks_model *m, bool json, bool raw, ks_err *err);

/* attrs: format, versions, backend, save date, model class, training and
 * compile configuration, optimizer state, and every root attribute. */
int ks_report_attrs(FILE *out, const ks_model *m, bool json, ks_err *err);

typedef struct ks_dump_opts {
	const char *slice;  /* --slice spec (ks_slice.h) or NULL for the whole weight */
	bool all;           /* print every value, however many */
	int64_t max_values; /* above this many values, print the numpy-style elided
	                     * form (first/last 3 along each axis); 0: 1000 */
	int bins;           /* histogram bins; 0: no histogram, <0: default 10 */
	bool stats_only;    /* statistics and histogram, no values */
	bool json;
} ks_dump_opts;

/* dump: one weight (addressed as ks_model_find_weight accepts, optimizer
 * slots included), its values and statistics
 * over the selected region. */
int ks_report_dump(FILE *out, const ks_model *m, const char *spec, const ks_dump_opts *o,
                   ks_err *err);

/* A count with thousands separators, as Keras' summary prints parameters:
 * "138,357,544". */
const char *ks_report_count(int64_t n, char *buf, size_t size);

/* Byte count as Keras prints it: "524.00 B", "1.03 KB", "527.79 MB" (1024 base). */
const char *ks_report_bytes(int64_t n, char *buf, size_t size);

/* Writes the values of a float buffer holding a tensor of the given shape in
 * numpy's layout ([[1., 2.], [3., 4.]]; commas; lines wrapped at 75 columns;
 * the common format numpy would choose). When elided is set, each axis with
 * elided[i] holds only its first and last `edge` entries and "..." marks the
 * gap. The shape passed is that of the buffer. */
void ks_report_print_array(FILE *out, const float *v, const int64_t *shape, int rank,
                           const bool *elided, int edge);

/* Prints a whole in-memory tensor as ks_report_print_array does, elided as
 * dump elides: above max_values values (0: 1000), every axis longer than 6
 * keeps its first and last 3. Returns the number of values printed. */
int64_t ks_report_print_values(FILE *out, const float *v, const int64_t *shape, int rank, int64_t max_values);

/* A time in milliseconds with three significant digits in the fitting unit:
 * "850 µs", "12.3 ms", "1.5 s". */
const char *ks_report_duration(double ms, char *buf, size_t size);

/* The shortest decimal that reads back as the same float32, as a double
 * (0.1f -> 0.1), for JSON output. */
double ks_report_f32(float x);

#endif
