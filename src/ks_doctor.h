/* ks_doctor: why does a reloaded Keras model behave differently? Reads the
 * file(s) and reports the known causes as findings, in plain words.
 *
 *     ks_doctor_in in = {.a = model};          // .b, .inputs optional
 *     ks_doctor d;
 *     if (ks_doctor_run(&in, &d, &err) < 0) ...  // -1 only on I/O failure
 *     ks_doctor_print(stdout, &d, false, false);
 *     int status = ks_doctor_has_problems(&d);  // any warning or error
 *     ks_doctor_free(&d);
 *
 * Every finding carries an id from a fixed vocabulary (scripts and tests
 * rely on the spelling), a severity, where (layer and/or tensor
 * "layer/weight"), the evidence read from the file, an explanation of what
 * goes wrong in Keras and why, and the fix on the Keras side.
 *
 *   id                      sev      needs           meaning
 *   lambda-layer            error    config          Lambda holding marshalled Python code
 *   custom-object           error    config          classes/functions Keras does not have
 *   ambiguous-accuracy      warning  training config bare "accuracy"/"acc" metric
 *   untrained-weights       warning  weights         weights exactly as initialised
 *   bn-stats-default        warning  weights         BatchNorm moving stats never updated
 *   layer-order             error    weights-only+arch  topological load_weights swaps layers
 *   name-mismatch           warning  weights-only+arch  by_name=True would skip layers
 *   nan-inf                 error    weights         NaN/Inf in weights or optimizer state
 *   training-flag           warning  config          layer called with training=True
 *   stateful-rnn            warning  config          RNN state carried between calls
 *   keras-version-semantics warning  config (+input) a setting means something else in Keras 3
 *   version-compat          info     file            which Keras versions load the file
 *   no-class-names          info     config          classifier without stored class names
 *   layout-note             info     file            oddities the loader noticed
 *   weights-reinitialised   error    two files       B's weights are freshly initialised
 *   class-permutation       error    two files       B's output classes are A's permuted
 *   identical-weights       info     two files       same weights: the cause is elsewhere
 *   input-contract          warning  --input         input range vs Rescaling/Normalization
 *   nan-inf-output          error    --input         first layer producing NaN/Inf
 *   deterministic           info     --input         two runs bit-identical
 *
 * With a second file, the one-file checks run on it too (their findings and
 * checks name it in `file`). Findings are sorted most serious first (error,
 * warning, info; then in the order the checks ran). `checks` records every check: whether it ran, and
 * when it could not, why (so "no findings" differs from "nothing checked").
 *
 * Weights are read streaming (ks_weight_walk), never a whole large tensor at
 * once. Ownership: the ks_doctor owns every string and JSON value in it;
 * ks_doctor_free releases them. Models and inputs are borrowed.
 */
#ifndef KS_DOCTOR_H
#define KS_DOCTOR_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ks_model.h"
#include "ks_npy.h"
#include "ks_status.h"

typedef enum ks_severity {
	KS_SEV_INFO = 0,
	KS_SEV_WARNING,
	KS_SEV_ERROR,
} ks_severity;

const char *ks_severity_name(ks_severity s);  /* "info", "warning", "error" */

typedef struct ks_finding {
	const char *id;       /* from the vocabulary above (static string) */
	ks_severity severity;
	char *layer;          /* layer name, or NULL */
	char *tensor;         /* "layer/weight", or NULL */
	char *summary;        /* one line: what was found */
	char *evidence;       /* what in the file shows it */
	char *explanation;    /* what goes wrong in Keras and why, for a learner */
	char *fix;            /* the concrete remedy on the Keras side */
	json_t *details;      /* id-specific facts (counts, mapping, versions ...), an object */
	char *file;           /* the file it is about (FILE or FILE2), NULL for the pair */
} ks_finding;

typedef struct ks_check {
	const char *id;       /* the finding id this check can raise */
	bool ran;
	char *why_not;        /* when !ran: what material was missing */
	int n_findings;
	char *file;           /* the file it looked at, NULL for the pair checks */
} ks_check;

typedef struct ks_doctor {
	ks_finding *findings;
	int n_findings;
	ks_check *checks;
	int n_checks;
} ks_doctor;

typedef struct ks_doctor_in {
	const ks_model *a;        /* the model (required) */
	const ks_model *b;        /* a second file to compare with, or NULL */
	const ks_array *inputs;   /* one array per input of a, fitted to its shapes, or NULL */
	int n_inputs;
	int n_labels;             /* --labels: number of class names given, -1 when none */
} ks_doctor_in;

/* Runs every check the material allows. Returns -1 only when reading the
 * file fails (message names the file); findings are never errors. */
int ks_doctor_run(const ks_doctor_in *in, ks_doctor *out, ks_err *err);
void ks_doctor_free(ks_doctor *d);

/* True when a finding is a warning or an error (exit status 1). */
bool ks_doctor_has_problems(const ks_doctor *d);

/* Text: one block per finding (severity, id, where, summary, evidence,
 * explanation — its first sentence unless explain — and fix), then the
 * checks that could not run. JSON: {"findings": [...], "checks": [...]}. */
void ks_doctor_print(FILE *out, const ks_doctor *d, bool json, bool explain);

/* The JSON document of ks_doctor_print (new reference). */
json_t *ks_doctor_json(const ks_doctor *d);

/* The general explanation of an id (the man page's section, in brief), or
 * NULL for an unknown id. */
const char *ks_doctor_explain(const char *id);

#endif
