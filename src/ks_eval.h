/* ks_eval: scoring a model's predictions against labels, the ways Keras does.
 *
 * "accuracy" means three different things in Keras, and which one a saved
 * model was trained with depends on the Keras version, the loss, the shape
 * of the output and (since tf.keras 2.2) the shape of the labels:
 *
 *   binary_accuracy              mean over every element of [(p > 0.5) == y]
 *   categorical_accuracy         argmax(y) == argmax(p) per sample (one-hot y)
 *   sparse_categorical_accuracy  y == argmax(p) per sample (integer class ids)
 *   top_k                        y (or argmax(y)) among the k largest p; ties at
 *                                the boundary count as inside (tf.math.in_top_k)
 *
 * The resolution of "accuracy"/"acc" (ks_eval_resolve) follows:
 *   - Keras 1.x and 2.0-2.3 (training.py, training_utils.get_metric_function):
 *     binary when the output's last dimension is 1 or the loss is
 *     binary_crossentropy; sparse when the loss is sparse_categorical_crossentropy;
 *     else categorical. The labels play no part.
 *   - tf.keras 2.2+ (compile_utils._get_metric_object) and Keras 3
 *     (compile_utils.get_metric): binary when the output's last dimension is 1;
 *     sparse when the labels have lower rank than the output, or a last
 *     dimension of 1 while the output's is larger; else categorical. The loss
 *     plays no part.
 * The rule comes from the file's keras_version (ks_eval_rule_of).
 *
 * Losses are computed as Keras 3's numpy backend does, in double precision:
 * probabilities are renormalised and clipped to [1e-7, 1 - 1e-7] (Keras'
 * backend.epsilon()) before the log; from_logits uses log-softmax (or the
 * sigmoid, then the clip, for binary); label_smoothing is applied to the
 * targets; the per-sample loss is the mean over the last axis (binary, MSE,
 * MAE) or the sum (cross-entropies), and the result is the mean over samples
 * (reduction "sum_over_batch_size"). When the labels are integer ids and the
 * loss wants one-hot rows (or the reverse) the labels are converted, and the
 * result says so.
 *
 * Evaluation streams: feed batches of predictions with ks_eval_add and read
 * ks_eval_result at the end; nothing but counters (and the confusion matrix,
 * classes x classes, up to KS_EVAL_MAX_CONFUSION classes) is kept.
 *
 *     ks_eval_opts o = {.classes = 3, .label_width = 1, .top_k = 2, .loss = spec};
 *     ks_eval *e = ks_eval_new(&o);
 *     while (...) if (ks_eval_add(e, pred, labels, rows, first_row, &err) < 0) ...;
 *     ks_eval_result r; ks_eval_get(e, &r);
 *     ks_eval_free(e);
 */
#ifndef KS_EVAL_H
#define KS_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "ks_model.h"
#include "ks_status.h"

#define KS_EVAL_MAX_CONFUSION 1024

typedef enum ks_acc_kind {
	KS_ACC_BINARY,
	KS_ACC_CATEGORICAL,
	KS_ACC_SPARSE,
	KS_ACC_TOP_K,
	KS_ACC_COUNT,
	KS_ACC_NONE = -1,
} ks_acc_kind;

/* "binary", "categorical", "sparse_categorical", "top_k" (the JSON keys). */
const char *ks_acc_key(ks_acc_kind k);
/* Keras' metric names: "binary_accuracy", "categorical_accuracy",
 * "sparse_categorical_accuracy", "top_k_categorical_accuracy". */
const char *ks_acc_metric_name(ks_acc_kind k);

typedef enum ks_loss_kind {
	KS_LOSS_NONE = 0,   /* the file names no loss */
	KS_LOSS_BCE,
	KS_LOSS_CCE,
	KS_LOSS_SCCE,
	KS_LOSS_MSE,
	KS_LOSS_MAE,
	KS_LOSS_AUTO_CE,    /* "crossentropy"/"ce": resolved like "accuracy" */
	KS_LOSS_OTHER,      /* named, but not one kerascope computes */
} ks_loss_kind;

/* Keras' canonical names ("binary_crossentropy", ..., "mean_absolute_error"). */
const char *ks_loss_name(ks_loss_kind k);
/* The kind of a loss as a file names it ("mse", "SparseCategoricalCrossentropy"). */
ks_loss_kind ks_eval_loss_kind(const char *name);

typedef struct ks_loss_spec {
	ks_loss_kind kind;
	bool from_logits;
	double label_smoothing;
	char name[96];      /* as the file writes it ("mse", "CategoricalCrossentropy") */
} ks_loss_spec;

typedef enum ks_acc_rule {
	KS_RULE_LOSS_BASED,  /* Keras 1.x - 2.3 */
	KS_RULE_SHAPE_BASED, /* tf.keras 2.2+ (keras_version 2.3.x-tf, 2.4+), Keras 3 */
} ks_acc_rule;

/* "Keras 1 and 2.0-2.3 decide by the loss and the output" / "tf.keras 2.2+
 * and Keras 3 decide by the label and output shapes". */
const char *ks_rule_desc(ks_acc_rule r);

/* What a model's training/compile config says about evaluation. */
typedef struct ks_eval_compile {
	ks_loss_spec loss;           /* kind NONE when no loss is named */
	bool names_accuracy;         /* "accuracy"/"acc" among the metrics */
	ks_acc_kind explicit_acc;    /* an accuracy named explicitly ("sparse_categorical_accuracy",
	                              * SparseCategoricalAccuracy), else KS_ACC_NONE */
	char metric_name[96];        /* the accuracy metric as written, or "" */
	ks_acc_rule rule;            /* from keras_version */
	bool rule_assumed;           /* the file gives no keras_version */
} ks_eval_compile;

/* Reads m->training_config (legacy .h5) or m->compile_config (Keras 3);
 * neither present: loss NONE, no accuracy. For models with several outputs
 * the first output's loss and metrics are used. Never fails: unreadable
 * entries count as absent. */
void ks_eval_read_compile(const ks_model *m, ks_eval_compile *out);

/* Which rule applies to a keras_version string ("2.2.4", "2.3.0-tf",
 * "2.10.0", "3.4.1"). A file that records no version (NULL, or not a
 * version) is taken as shape-based, the rule of every Keras since 2020,
 * and *assumed is set. */
ks_acc_rule ks_eval_rule_of(const char *keras_version, bool *assumed);

/* The accuracy "accuracy" resolves to for labels of rank label_rank with
 * last dimension label_last, against predictions of rank pred_rank and last
 * dimension pred_last, under rule (loss used by the loss-based rule only). */
ks_acc_kind ks_eval_resolve(ks_acc_rule rule, ks_loss_kind loss, int label_rank, int64_t label_last,
                            int pred_rank, int64_t pred_last);

typedef struct ks_eval_opts {
	int64_t classes;     /* the prediction's last dimension (1 for a sigmoid output) */
	int64_t label_width; /* 1 (ids, or 0/1 for one output) or classes (one-hot rows) */
	int top_k;           /* k for top-k accuracy, 0 for none */
	ks_loss_spec loss;   /* kind NONE/OTHER: no loss computed; AUTO_CE must be resolved first */
} ks_eval_opts;

typedef struct ks_eval ks_eval;

/* Returns NULL when the options cannot work (classes < 1, label_width not 1
 * or classes), with a message. */
ks_eval *ks_eval_new(const ks_eval_opts *o, ks_err *err);
void ks_eval_free(ks_eval *e);

/* Adds rows samples: pred holds rows x classes floats, labels rows x
 * label_width. first_row numbers the first sample for messages. Fails (and
 * adds nothing) on a class id that is not a whole number in [0, classes) or a
 * non-finite label, naming the sample. */
int ks_eval_add(ks_eval *e, const float *pred, const float *labels, int64_t rows, int64_t first_row,
                ks_err *err);

typedef struct ks_eval_result {
	int64_t n;                        /* samples */
	int64_t classes;                  /* prediction's last dimension */
	bool applies[KS_ACC_COUNT];       /* which accuracies the labels allow */
	int64_t hits[KS_ACC_COUNT];       /* matches ... */
	int64_t count[KS_ACC_COUNT];      /* ... out of (elements for binary, samples otherwise) */
	double acc[KS_ACC_COUNT];         /* hits / count (NAN when not applicable) */
	int top_k;
	bool labels_binary;               /* every label value is 0 or 1 */
	bool has_loss;
	double loss;                      /* mean loss over samples */
	bool loss_converted;              /* labels were converted (ids <-> one-hot) for the loss */
	int64_t cm_classes;               /* confusion matrix size (2 for one sigmoid output),
	                                   * 0 when there is none (too many classes, or labels
	                                   * that are not classes) */
	const int64_t *confusion;         /* cm_classes^2, row = true class, column = predicted;
	                                   * borrowed from the evaluator */
} ks_eval_result;

void ks_eval_get(const ks_eval *e, ks_eval_result *r);

#endif
