/* ks_diff_report: a ks_diff rendered as text for a person or as one JSON
 * document, into a FILE* (the CLI writes to stdout, the inspector can use
 * open_memstream).
 *
 * Text starts with one line saying what happened ("identical", "2 of 8
 * tensors changed (14.1% of the parameters)", "class order changed in
 * dense_1", "architecture changed ..."), then the details a learner needs
 * to act: the layer pairs that are not plain same-name pairs, the tensors
 * that are not the same with their statistics, differing settings,
 * training configuration, optimizer state, the differing elements (-r) and
 * the output comparison with the first diverging layer.
 *
 * JSON keys (stable, for scripts and tests): identical, differences,
 * tolerance, a, b, summary, layers, tensors, permutations, model_changes,
 * training_config, training, optimizer, elements (with -r) and outputs
 * (after ks_diff_run_outputs). Numbers that are not finite print as null.
 */
#ifndef KS_DIFF_REPORT_H
#define KS_DIFF_REPORT_H

#include <stdio.h>

#include <jansson.h>

#include "ks_diff.h"

/* The whole result as a new JSON object (caller decrefs). */
json_t *ks_diff_json(const ks_diff *d);

/* Text for a person. */
void ks_diff_print_text(FILE *out, const ks_diff *d);

/* "dense_1/kernel[12, 6]": a flat C-order index as a multi-index of w's shape. */
const char *ks_diff_index_str(const ks_weight *w, int64_t flat, char *buf, size_t size);

/* The one-line verdict the text starts with (without a newline). */
void ks_diff_headline(const ks_diff *d, char *buf, size_t size);

#endif
