/* ks_model: the one in-memory picture of a saved Keras model, whatever the
 * file format (legacy .h5 full model, weights-only .h5, Keras 3 .keras zip,
 * Keras 2.14 .keras, standalone .weights.h5, or a plain HDF5 file).
 *
 * Opening reads only structure: attributes, configs, names, shapes and dtypes.
 * Weight values stay in the file until ks_weight_read() asks for them, so a
 * multi-GB model opens in milliseconds. The file is always opened read-only.
 *
 * Ownership: a ks_model owns everything it points to (strings, json_t
 * references, nested models, the open HDF5 file and, for zips, the in-memory
 * image). ks_model_free() releases it all. Callers never free members.
 *
 * Graph: every model is normalised to the functional form. A Sequential model
 * gets an explicit InputLayer (synthesised from batch_input_shape/input_shape
 * when its config has none) and each layer one inbound node pointing at the
 * previous layer, so consumers walk one kind of graph.
 */
#ifndef KS_MODEL_H
#define KS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>
#include <jansson.h>

#include "ks_status.h"

#define KS_MAX_RANK 8

typedef enum ks_format {
	KS_FMT_UNKNOWN = 0,
	KS_FMT_LEGACY_H5,      /* model.save("m.h5"): model_config + model_weights */
	KS_FMT_WEIGHTS_H5,     /* model.save_weights("m.h5"): layer_names at the root */
	KS_FMT_KERAS3,         /* Keras 3 .keras zip (config.json + model.weights.h5) */
	KS_FMT_KERAS2_ZIP,     /* Keras 2.14 .keras zip (_layer_checkpoint_dependencies) */
	KS_FMT_KERAS3_WEIGHTS, /* standalone Keras 3 .weights.h5 (layers/.../vars/N) */
	KS_FMT_PLAIN_H5,       /* any other HDF5 file: shown as a tree, no layers */
} ks_format;

/* Stable short names ("legacy-h5", "weights-h5", "keras3", "keras2-zip",
 * "keras3-weights", "hdf5") used in --json output and tests. */
const char *ks_format_name(ks_format f);

typedef enum ks_dtype {
	KS_DT_UNKNOWN = 0,
	KS_DT_F16, KS_DT_F32, KS_DT_F64,
	KS_DT_I8, KS_DT_I16, KS_DT_I32, KS_DT_I64,
	KS_DT_U8, KS_DT_U16, KS_DT_U32, KS_DT_U64,
	KS_DT_BOOL, KS_DT_STRING, KS_DT_OTHER,
} ks_dtype;

const char *ks_dtype_name(ks_dtype t); /* numpy-style: "float32", "int64", ... */
size_t ks_dtype_size(ks_dtype t);      /* 0 for string/other/unknown */

/* One stored tensor: a layer weight or an optimizer slot. */
typedef struct ks_weight {
	char *name;       /* semantic name inside its layer: "kernel", "bias", "gamma",
	                   * "moving_mean", "recurrent_kernel", "W_i" (Keras 1), ... */
	char *stored_name;/* as recorded: "dense_1/kernel:0", "lstm_1_W_i", "vars/0" */
	char *h5_path;    /* absolute path of the dataset in the HDF5 file */
	int rank;
	int64_t shape[KS_MAX_RANK];
	ks_dtype dtype;   /* as stored; ks_weight_read converts to float32 */
	bool trainable;   /* false for moving stats and other non-trainable state */
	float *mem;       /* values held in memory instead of the file (models built by
	                   * tests or synthesised), owned by the model; NULL normally */
} ks_weight;

/* One reference to a tensor produced by a layer call: Keras' [layer, node, tensor]. */
typedef struct ks_ref {
	int layer;        /* index into the owning model's layers[] (-1: unresolved) */
	int node;         /* which call of that layer (node_index) */
	int tensor;       /* which output of that call (tensor_index) */
} ks_ref;

/* One call of a layer: the tensors it consumed, in argument order. */
typedef struct ks_node {
	ks_ref *in;
	int n_in;
	json_t *kwargs;   /* call kwargs (e.g. Attention's use_causal_mask) or NULL */
} ks_node;

struct ks_model;

typedef struct ks_layer {
	char *name;
	char *class_name;  /* "Dense", "Conv2D", "Functional", "Lambda", "qkeras>QDense", ...;
	                    * "?" for weights-only files without an architecture */
	json_t *config;    /* the layer's own "config" object (borrowed view owned by the model) */
	bool trainable;
	ks_weight *weights;
	int n_weights;
	ks_node *nodes;    /* inbound nodes: one per call site (shared layers have >1) */
	int n_nodes;
	struct ks_model *inner; /* nested model (Functional/Sequential/Model as a layer), else NULL */
	char *store_path;  /* .keras archives: the layer's path in the weights store, which its
	                    * assets share ("layers/text_vectorization"), else NULL */
	int64_t params;    /* number of weight values (sum over weights, inner models included) */
} ks_layer;

typedef struct ks_model {
	ks_format format;
	char *path;           /* the file as given */
	char *class_name;     /* "Sequential", "Functional", "Model", ... or NULL */
	char *name;           /* model name from the config, or NULL */
	char *keras_version;  /* NULL when the file does not say */
	char *backend;        /* NULL when the file does not say (Keras 1 never did) */
	char *date_saved;     /* Keras 3 metadata.json, else NULL */

	json_t *model_config;    /* whole {"class_name":..., "config":...} or NULL */
	json_t *training_config; /* legacy training_config or NULL */
	json_t *compile_config;  /* Keras 3 compile_config or NULL */
	json_t *metadata;        /* Keras 3 metadata.json or NULL */

	ks_layer *layers;     /* in Keras order (model.layers order) */
	int n_layers;
	ks_ref *inputs;       /* model inputs (InputLayer refs) in input order */
	int n_inputs;
	ks_ref *outputs;      /* model outputs in output order */
	int n_outputs;

	ks_weight *opt_weights; /* optimizer state (legacy optimizer_weights, Keras 3 optimizer/vars) */
	int n_opt_weights;
	char *opt_class;        /* optimizer class name if known */

	int64_t total_params, trainable_params, non_trainable_params, opt_params;
	int64_t weight_bytes;   /* bytes of all layer weights as stored */

	/* Where the weights live. Nested models share their parent's file. */
	hid_t file;             /* H5I_INVALID_HID for none */
	bool owns_file;
	void *image;            /* in-memory weights file of a zip (owned), or NULL */
	size_t image_size;
	struct ks_model *parent;
	json_t *owned_json;     /* keeps parsed documents alive; internal */
	char *what;             /* a plain HDF5 file kerascope recognises: what it is
	                         * ("kerascope session: 2 inputs, ..."), else NULL */
	char **warnings;        /* layout oddities noticed while loading (for doctor) */
	int n_warnings;
	struct ks_loadmap *loadmap; /* a legacy weights-only file given an architecture:
	                             * which group each layer got under each load order
	                             * (ks_loadorder.h); NULL otherwise */
	struct ks_index *layer_index; /* internal: names of layers[] hashed, grown lazily by
	                               * ks_model_layer_index; NULL in models built by hand */
} ks_model;

/* How a weights-only file's weights are matched to the layers of an
 * architecture given for it (ks_loadorder.h has the mapping itself). */
typedef enum ks_load_order {
	KS_LOAD_DEFAULT = 0,  /* what a plain model.load_weights(path) does for the
	                       * file's format: topological for a legacy .h5,
	                       * path-based (which is topological too) for a Keras 3
	                       * .weights.h5 */
	KS_LOAD_BY_NAME,      /* load_weights(path, by_name=True): layer names */
	KS_LOAD_TOPOLOGICAL,  /* the k-th weight-bearing layer of the file to the
	                       * k-th of the model, names ignored */
} ks_load_order;

/* Architecture for a weights-only file (ks_arch.h says which forms are
 * accepted) and how its weights meet it. A file that holds its own
 * architecture keeps it (a given one is ignored with a warning) and its
 * weights are attached by name. */
typedef struct ks_open_opts {
	const char *config_path;  /* a JSON file or a model file, or NULL */
	const json_t *config;     /* the architecture in memory (borrowed): the
	                           * {"class_name", "config"} object, a Keras 3
	                           * config.json document, or a JSON string holding
	                           * either; takes precedence over config_path */
	ks_load_order load_order; /* KS_LOAD_DEFAULT unless asked */
} ks_open_opts;

/* Opens and parses path (format sniffed from its bytes, never its name).
 * Returns NULL with a one-line message naming the file on failure. */
ks_model *ks_model_open(const char *path, const ks_open_opts *opts, ks_err *err);
void ks_model_free(ks_model *m);

/* Position of the top-level layer called name in m->layers, or -1. O(1): the
 * first call after layers were added indexes them (ks_index.h), so callers
 * may look names up inside loops. A layer's name must not change once
 * n_layers counts it. */
int ks_model_layer_index(const ks_model *m, const char *name);

/* Finds a layer by name (searching nested models too when deep). Returns NULL if absent. */
ks_layer *ks_model_find_layer(const ks_model *m, const char *name, bool deep);

/* Finds a weight by "layer/weight" (semantic or stored name), by a nested path
 * "outer/inner/weight", or by absolute HDF5 path; failing those, an optimizer
 * slot by its HDF5 path, stored name or shown name ("Adam/dense/kernel/m").
 * *owner receives its layer (NULL for optimizer slots). */
const ks_weight *ks_model_find_weight(const ks_model *m, const char *spec, const ks_layer **owner);

/* "Did you mean": the layer name (nested layers also as "outer/inner") or
 * the weight ("layer/weight") closest to a mistyped one (ks_suggest), written
 * into buf; NULL when nothing is close. */
const char *ks_model_suggest_layer(const ks_model *m, const char *name, char *buf, size_t size);
const char *ks_model_suggest_weight(const ks_model *m, const char *spec, char *buf, size_t size);

/* Reads a whole weight converted to float32 into dst (ks_numel(shape) floats). */
int ks_weight_read(const ks_model *m, const ks_weight *w, float *dst, ks_err *err);

/* Reads a hyperslab: start[i]..start[i]+count[i]-1 along each axis (rank = w->rank). */
int ks_weight_read_slab(const ks_model *m, const ks_weight *w, const int64_t *start,
                        const int64_t *count, float *dst, ks_err *err);

/* A weight opened for a pass in many blocks (statistics, diff, digests).
 * When its values lie in the file as plain float32 in one contiguous run
 * (the usual case: h5py and Keras write weights so), a block that is
 * contiguous in C order is read with one pread() or memcpy from the zip's
 * image, with no HDF5 call per block, so a pass over a big weight runs at
 * the speed of the page cache; any other block or weight goes through
 * ks_weight_read_slab. The values are identical either way. Borrows m and
 * w (and the model's open file): it owns nothing and needs no release. */
typedef struct ks_weight_reader {
	const ks_model *m;
	const ks_weight *w;
	int fd;                      /* plain run in a file: its descriptor, else -1 */
	const unsigned char *image;  /* plain run in an in-memory image, else NULL */
	int64_t offset;              /* first byte of the run */
} ks_weight_reader;

void ks_weight_reader_init(ks_weight_reader *r, const ks_model *m, const ks_weight *w);
/* As ks_weight_read_slab (rank 0: the scalar itself). */
int ks_weight_reader_slab(const ks_weight_reader *r, const int64_t *start, const int64_t *count,
                          float *dst, ks_err *err);

#endif
