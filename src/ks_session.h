/* ks_session: the record of what a model computed, in an HDF5 file.
 *
 * A session holds the inputs a model was given, the outputs it produced,
 * optionally every layer's activation, and who produced them: the model
 * file, the digests of its weights and architecture (ks_digest.h), format,
 * Keras version, options that affect numbers, kerascope version and date.
 * The layout (man page, SESSION FILES, is the specification):
 *
 *   /                 attrs kerascope_session (int, format version: 1),
 *                     [created, kerascope_version, writer]
 *   /model            [attrs path, size, format, keras_version, name,
 *                     weights_digest, architecture_digest, threads]
 *   /inputs/0, /1 ... one dataset per model input, batch axis first, any
 *                     numeric dtype; [attrs name, source, dtype]
 *   /outputs/0, ...   one per model output; [attr name]
 *   [/activations/0, ...]  one per recorded layer output, in execution
 *                     order; attrs layer, [output (int, default 0)]
 *   [/labels]         class names (strings)
 *   [/runs/0, /runs/1, ...]  several predictions: each group laid out like
 *                     the root run (inputs, outputs, activations, [until]);
 *                     then the root holds no inputs/outputs of its own
 *   [until]           attr of a run: the layer whose output was recorded
 *                     instead of the model outputs (predict --until)
 * Bracketed items are optional: a session written by hand with h5py needs
 * only the root attribute, /inputs and /outputs.
 *
 * Reading opens the file read-only and reads metadata only; values are read
 * when asked (ks_session_read), converted to float32. Everything is checked
 * on open: unknown format versions, gaps in the numbering, non-numeric
 * datasets, ranks above KS_MAX_RANK, tensors over KS_SESSION_MAX_VALUES,
 * inputs whose batch sizes disagree, a run without inputs or outputs.
 *
 * Writing (ks_session_create ... ks_session_close) creates a NEW file and
 * refuses to touch an existing one.
 *
 * Ownership: a ks_session owns all its strings and tensors and keeps the
 * file open until ks_session_free.
 */
#ifndef KS_SESSION_H
#define KS_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include <hdf5.h>

#include "ks_model.h"
#include "ks_npy.h"
#include "ks_status.h"

#define KS_SESSION_VERSION 1
/* One recorded tensor may hold at most this many values (1 GiB of float32):
 * above it a file is refused before anything is allocated. */
#define KS_SESSION_MAX_VALUES ((int64_t)1 << 28)

typedef struct ks_session_tensor {
	char *name;       /* input name / producing layer / activation's layer; may be NULL */
	char *source;     /* inputs: where the values came from ("npy:x.npy", "csv:a.csv",
	                   * "literal", "random:7", "zeros", "keras"...), else NULL */
	char *dtype;      /* inputs: dtype as given ("float64", "uint8"), or NULL */
	int output;       /* activations: which output of the layer (usually 0) */
	int rank;
	int64_t shape[KS_MAX_RANK];
	char *h5_path;    /* where the values are in the file, or NULL when in mem */
	float *mem;       /* values held in memory (sessions built by a run), owned */
} ks_session_tensor;

typedef struct ks_session_run {
	char *until;      /* NULL: outputs are the model outputs */
	ks_session_tensor *inputs;
	int n_inputs;
	ks_session_tensor *outputs;
	int n_outputs;
	ks_session_tensor *acts;
	int n_acts;
} ks_session_run;

typedef struct ks_session_model {
	char *path, *format, *keras_version, *name;
	char *weights_digest;      /* "sha256:..." or NULL when not recorded */
	char *architecture_digest;
	int64_t size;              /* bytes, -1 unknown */
	int threads;               /* 0 unknown */
} ks_session_model;

typedef struct ks_session {
	char *path;                /* the session file, or a label for in-memory ones */
	int version;
	char *created;             /* ISO 8601 UTC, or NULL */
	char *kerascope_version;   /* NULL when another tool wrote it */
	char *writer;              /* free text ("keras 3.4.1"), or NULL */
	ks_session_model model;
	char **labels;
	int n_labels;
	ks_session_run *runs;
	int n_runs;
	hid_t file;                /* H5I_INVALID_HID for in-memory sessions */
} ks_session;

/* True when path is an HDF5 file whose root carries kerascope_session
 * (opened as ks_model_open does, crash probe included). Never fails. */
bool ks_session_is(const char *path);
/* Same for an open file. */
bool ks_session_is_file(hid_t f);

/* For the model loader (ks_formats): when the open file f is a session, a
 * malloc'd one-line description (ks_session_describe, or why it cannot be
 * read), else NULL. */
char *ks_session_note(hid_t f, const char *path);
/* The ks_formats row of sessions: the file opens as a plain HDF5 tree
 * (KS_FMT_PLAIN_H5) whose m->what says it is a session. Never fails. */
int ks_session_load_model(ks_model *m, const ks_open_opts *opts, ks_err *err);

/* Opens and validates a session; NULL with "S: problem" on failure. */
ks_session *ks_session_open(const char *path, ks_err *err);
/* An empty in-memory session (label used in messages). */
ks_session *ks_session_new(const char *label);
void ks_session_free(ks_session *s);

/* Values of t (ks_session_numel floats) into dst. */
int ks_session_read(const ks_session *s, const ks_session_tensor *t, float *dst, ks_err *err);
/* Same into a new array (caller ks_array_free). */
int ks_session_read_array(const ks_session *s, const ks_session_tensor *t, ks_array *out, ks_err *err);
int64_t ks_session_numel(const ks_session_tensor *t);

/* Appends an empty run to an in-memory session and returns it. */
ks_session_run *ks_session_add_run(ks_session *s);
/* Appends a tensor holding a copy of v (numel of shape floats) to one of a
 * run's lists (&run->inputs, &run->n_inputs). Strings are copied. */
ks_session_tensor *ks_session_add_tensor(ks_session_tensor **list, int *n, const char *name,
                                         const float *v, const int64_t *shape, int rank);

/* Fills s->model from an open model: path (made absolute), size, format,
 * versions and both digests (reads every weight once). */
int ks_session_identify(ks_session *s, const ks_model *m, ks_err *err);

/* Writes an in-memory session (every run, labels, model identity, and
 * created/kerascope_version/writer as set) to a new file at path. Fails,
 * leaving nothing behind, when path exists. */
int ks_session_write(const ks_session *s, const char *path, ks_err *err);

/* Copies the runs of the session file `from` into the session file `to`
 * (opened read-write, created by kerascope: its root must carry
 * kerascope_session), numbered after the runs already there, converting a
 * single-run layout to /runs/0. The inspector's :record uses it. */
int ks_session_append(const char *to, const char *from, ks_err *err);

/* One line describing the session: "kerascope session: 2 inputs, 1 output,
 * 3 runs, recorded from iris_mlp.h5 on 2026-12-06T00:50:00Z". */
char *ks_session_describe(const ks_session *s);

#endif
